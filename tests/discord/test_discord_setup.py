"""Installing and connecting: the invite URL, intents, addresses, the command definition,
escaping and how failures are classified (pure, apart from the connection test)."""

from __future__ import annotations

import asyncio
import os
import sys
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import aiohttp
import discord
import pytest
from discord.gateway import DiscordWebSocket

from adapters.discord import DiscordAdapter, commands, escape, invite_url
from adapters.discord.delivery import classify
from adapters.discord.invite import WHY
from bot.app import load_adapter
from bot.config import Config
from tests.discord.discord_fake import GUILD_ID, TOKEN
from tests.discord.support import discord_config
from tests.pg_server import free_port

GUILDS, GUILD_MESSAGES, DIRECT_MESSAGES = 1 << 0, 1 << 9, 1 << 12


def test_the_invite_url_asks_exactly_what_maatje_needs():
    url = urlparse(invite_url(123456789012345678))
    query = parse_qs(url.query)
    assert (url.netloc, url.path) == ("discord.com", "/oauth2/authorize")
    assert query["client_id"] == ["123456789012345678"]
    assert query["scope"] == ["bot applications.commands"]
    granted = discord.Permissions(int(query["permissions"][0]))
    assert all(getattr(granted, name) for name in WHY)
    assert bin(granted.value).count("1") == len(WHY)  # and nothing else
    assert not granted.administrator and not granted.mention_everyone
    assert not granted.manage_messages and not granted.kick_members


async def test_discord_py_talks_only_to_the_configured_addresses(fake, running):
    await running()
    assert fake.api_url == discord.http.Route.BASE
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == fake.gateway_url + "/"
    [identify] = fake.identified
    assert identify["token"] == TOKEN
    assert identify["intents"] == GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES  # none privileged
    assert "shard" not in identify  # one connection for everything unless sharded


async def test_a_shard_process_identifies_as_its_shard(fake, running):
    await running(shard_id=1, shard_count=2)
    [identify] = fake.identified
    assert identify["shard"] == [1, 2]


def test_the_application_loads_the_adapter_by_name(fake):
    config = Config(discord=discord_config(fake))
    adapter = load_adapter("discord", config, guild_ready_timeout=0.01)
    assert isinstance(adapter, DiscordAdapter) and adapter.config.guild_ids == (int(GUILD_ID),)


def test_the_command_definition_is_localised_and_bounded():
    subs = [
        commands.Subcommand("help", {"en": "this overview", "nl": "dit overzicht"}),
        commands.Subcommand("Not Allowed", {"en": "x"}),
        commands.Subcommand("status", {"en": "y" * 150}),
    ]
    definition = commands.definition("maatje", subs)
    assert definition["contexts"] == [0, 1] and definition["integration_types"] == [0]
    assert [o["name"] for o in definition["options"]] == ["help", "status"]
    help_ = definition["options"][0]
    assert help_["description_localizations"] == {
        "nl": "dit overzicht",
        "en-US": "this overview",
        "en-GB": "this overview",
    }
    assert len(definition["options"][1]["description"]) == 100


def test_escape_neutralises_mentions_and_markdown():
    text = escape("@everyone @here <@100000000000000101> <@&800000000000000077> **x** [a](b)")
    assert "@everyone" not in text and "@here" not in text
    assert "<@1" not in text and "<@&8" not in text
    assert "\\*\\*x\\*\\*" in text and "\\[a](b)" in text


def http_error(status: int, headers: dict | None = None) -> discord.HTTPException:
    response = SimpleNamespace(status=status, reason="x", headers=headers or {})
    return discord.HTTPException(response, {"code": 10003, "message": "Unknown Channel"})


@pytest.mark.parametrize(
    ("error", "permanent", "retry_after"),
    [
        (http_error(404), True, None),
        (http_error(403), True, None),
        (http_error(400), True, None),
        (http_error(503), False, None),
        (http_error(429, {"Retry-After": "3"}), False, 3.0),
        (discord.RateLimited(42.0), False, 42.0),
        (TimeoutError(), False, None),
        (aiohttp.ClientConnectionError("reset"), False, None),
    ],
)
def test_failures_become_delivery_errors(error, permanent, retry_after):
    classified = classify(error)
    assert classified.permanent is permanent and classified.retry_after == retry_after


def test_the_application_id_can_be_read_from_a_token():
    from adapters.discord.invite import application_id_from_token

    first = "MTIzNDU2Nzg5MDEyMzQ1Njc4"  # base64 of 123456789012345678, unpadded
    assert application_id_from_token(f"{first}.GhIjKl.abcdefghijklmnop") == 123456789012345678
    assert application_id_from_token("not a token") is None


async def test_maatje_run_with_discord_alone_serves_its_health_check(fake, tmp_path):
    """No Slack HTTP server to carry /healthz: `maatje run` serves it on `[health] port`."""
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "maatje.db"}"\n'
        f'[health]\nhost = "127.0.0.1"\nport = {port}\n'
        f"[discord]\nenabled = true\nguild_ids = [{GUILD_ID}]\n"
        f'api_base_url = "{fake.api_url}"\ngateway_url = "{fake.gateway_url}"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--config", str(config),
        env={**env, "DISCORD_TOKEN": TOKEN},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        answer = await _healthz_once_up(f"http://127.0.0.1:{port}/healthz", process)
        assert answer == (200, "ok")
        assert fake.identified  # and the same process is on Discord's gateway
    finally:
        process.terminate()
        _, errors = await process.communicate()
    assert process.returncode == 0, errors.decode()[-2000:]


async def _healthz_once_up(url: str, process) -> tuple[int, str]:
    async with asyncio.timeout(60), aiohttp.ClientSession() as session:
        while process.returncode is None:
            try:
                async with session.get(url) as response:
                    return response.status, await response.text()
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)  # not listening yet: the process is starting
    raise AssertionError(f"maatje run exited with {process.returncode}")
