"""config.toml: the example is valid, secrets come from the environment, mistakes are named."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"


def example() -> dict:
    with EXAMPLE.open("rb") as fh:
        return tomllib.load(fh)


def test_the_example_is_valid_and_complete() -> None:
    config = load_config(EXAMPLE, env={})
    (programme,) = config.programmes
    assert programme.slug == "rechten-2026" and programme.meetings == 4
    assert programme.quiet_periods[0].reason == "kerstvakantie"
    assert programme.coordinators["slack"] == ("U012ABCDEF",)
    assert config.slack.path == "/slack/events" and config.discord.pair_space == "thread"


def test_secrets_and_database_url_come_from_the_environment() -> None:
    data = example()
    data["slack"]["enabled"] = True
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "DATABASE_URL": "postgresql://db/maatje",
    }
    config = parse_config(data, env)
    assert config.slack.bot_token == "xoxb-1"
    assert config.database_url == "postgresql://db/maatje"


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (
            lambda d: d["programmes"][0].update(timezone="Mars/Olympus"),
            "programmes[0].timezone",
            "unknown time zone",
        ),
        (
            lambda d: d["programmes"][0].update(language="de"),
            "programmes[0].language",
            "must be one of nl, en",
        ),
        (
            lambda d: d["programmes"][0].update(meeting_cadence="daily"),
            "programmes[0].meeting_cadence",
            "must be one of",
        ),
        (
            lambda d: d["programmes"][0].update(end="2026-01-01"),
            "programmes[0].end",
            "must not be before start",
        ),
        (
            lambda d: d["programmes"][0].update(meetings="four"),
            "programmes[0].meetings",
            "must be a whole number",
        ),
        (lambda d: d["programmes"][0].pop("name"), "programmes[0].name", "is required"),
        (
            lambda d: d["programmes"][0].update(start="1 september"),
            "programmes[0].start",
            "must be a date",
        ),
        (
            lambda d: d["programmes"][0]["quiet_periods"][0].update(to="2026-12-01"),
            "programmes[0].quiet_periods[0].to",
            "must not be before",
        ),
        (
            lambda d: d["programmes"].append(dict(d["programmes"][0])),
            "programmes[1].slug",
            "used twice",
        ),
        (lambda d: d["slack"].update(mode="carrier-pigeon"), "slack.mode", "must be one of"),
        (lambda d: d["slack"].update(enabled=True), "slack.enabled", "SLACK_BOT_TOKEN"),
        (lambda d: d["discord"].update(pair_space="room"), "discord.pair_space", "must be one"),
        (lambda d: d["discord"].update(guild_ids=["abc"]), "discord.guild_ids", "numeric"),
        (lambda d: d["discord"].update(shard_id=1), "discord.shard_id", "go together"),
        (
            lambda d: d["discord"].update(shard_id=2, shard_count=2),
            "discord.shard_id",
            "less than shard_count",
        ),
        (lambda d: d.update(health={"port": 70000}), "health.port", "port number"),
        (
            lambda d: d["discord"].update(coordinator_role="Coordinators", guild_ids=[]),
            "discord.coordinator_role",
            "needs discord.guild_ids",
        ),
        (lambda d: d.update(colour="blue"), "colour", "is not a known key"),
        (lambda d: d["slack"].update(prot=3000), "slack.prot", "is not a known key"),
    ],
)
def test_a_mistake_names_the_key_and_the_problem(change, key, problem) -> None:
    data = example()
    change(data)
    with pytest.raises(ConfigError) as caught:
        parse_config(data, env={})
    assert caught.value.key == key
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"config: {key}: ")


def test_an_invalid_file_stops_start_up_with_one_message(tmp_path: Path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "config.toml"
    bad.write_text(
        EXAMPLE.read_text().replace('timezone = "Europe/Amsterdam"', 'timezone = "Europe/Atlantis"')
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--config", str(bad)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "config: programmes[0].timezone: unknown time zone 'Europe/Atlantis'"
    )
