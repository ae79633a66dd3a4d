"""Helpers for the Discord tests: gateway payloads as Discord sends them, the adapter on the
fake, and a `Harness` that talks to the real core through the real protocol."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from adapters.discord import DiscordAdapter
from bot.config.model import DiscordConfig
from bot.core import Core, Outcome
from bot.events import Event
from tests.discord.discord_fake import (
    APP_ID,
    BOT_USER,
    GUILD_ID,
    TIMEOUT,
    TOKEN,
    Call,
    FakeDiscord,
    message_object,
    snowflake,
    user,
)

PAYLOADS = Path(__file__).parent / "payloads"
ANNA = "100000000000000101"
BRAM = "100000000000000102"
CORA = "900"  # a coordinator of the test programme (bot.testing.programme_config)


def load_payload(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


def discord_config(fake: FakeDiscord, **overrides: Any) -> DiscordConfig:
    config = DiscordConfig(
        enabled=True,
        guild_ids=(int(GUILD_ID),),
        command="maatje",
        pair_space="thread",
        api_base_url=fake.api_url,
        gateway_url=fake.gateway_url,
        token=TOKEN,
    )
    return replace(config, **overrides)


def make_adapter(fake: FakeDiscord, **overrides: Any) -> DiscordAdapter:
    return DiscordAdapter(discord_config(fake, **overrides), guild_ready_timeout=0.01)


def dm_channel(user_id: str) -> str:
    """The DM channel the fake opens for `user_id`."""
    return f"55{user_id[-16:].rjust(16, '0')}"


# -- gateway payloads ------------------------------------------------------------------------


def message_create(
    user_id: str, content: str, channel_id: str | None = None, guild: bool = False, **extra: Any
) -> dict[str, Any]:
    payload = {
        **message_object(
            channel_id or dm_channel(user_id), content, user(user_id, f"user{user_id[-3:]}")
        ),
        **extra,
    }
    if guild:
        payload["guild_id"] = GUILD_ID
        payload["member"] = {"roles": [], "joined_at": "2026-01-01T00:00:00+00:00"}
    return payload


def interaction_create(
    kind: int,
    user_id: str,
    data: dict[str, Any],
    channel_id: str | None = None,
    guild: bool = False,
    message: dict[str, Any] | None = None,
    roles: list[str] | None = None,
    guild_id: str = GUILD_ID,
) -> dict[str, Any]:
    """`guild`: in a server (`guild_id`, GUILD_ID by default), else in a DM."""
    who = user(user_id, f"user{user_id[-3:]}")
    channel = channel_id or dm_channel(user_id)
    payload: dict[str, Any] = {
        "id": snowflake(),
        "application_id": APP_ID,
        "type": kind,
        "data": data,
        "channel_id": channel,
        "token": f"token-{snowflake()}",
        "version": 1,
        "locale": "en-US",
        "app_permissions": "0",
        "attachment_size_limit": 8_000_000,
        "entitlements": [],
        "authorizing_integration_owners": {"0": guild_id} if guild else {"1": user_id},
        "context": 0 if guild else 1,
    }
    if guild:
        payload["guild_id"] = guild_id
        payload["guild_locale"] = "en-US"
        payload["channel"] = {  # as Discord sends a text channel (the fake fills in known ones)
            "id": channel,
            "type": 0,
            "guild_id": guild_id,
            "name": "x",
            "position": 0,
            "permission_overwrites": [],
            "parent_id": None,
            "nsfw": False,
            "permissions": "0",
        }
        payload["member"] = {
            "user": who,
            "roles": roles or [],
            "nick": None,
            "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "permissions": "0",
            "flags": 0,
        }
    else:
        payload["channel"] = {"id": channel, "type": 1, "recipients": [who]}
        payload["user"] = who
    if message is not None:
        payload["message"] = message
    return payload


def slash(user_id: str, name: str, args: str | None = None, **where: Any) -> dict[str, Any]:
    sub: dict[str, Any] = {"type": 1, "name": name, "options": []}
    if args is not None:
        sub["options"].append({"type": 3, "name": "args", "value": args})
    data = {"id": snowflake(), "name": "maatje", "type": 1, "options": [sub]}
    return interaction_create(2, user_id, data, **where)


def component(
    user_id: str, custom_id: str, values: list[str] | None = None, **where: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": 3 if values else 2}
    if values is not None:
        data["values"] = values
    channel = where.get("channel_id") or dm_channel(user_id)
    bot_message = message_object(channel, "…", BOT_USER)
    return interaction_create(3, user_id, data, message=bot_message, **where)


def modal_submit(user_id: str, custom_id: str, values: dict[str, str], **where: Any) -> dict:
    rows = [
        {"type": 1, "components": [{"type": 4, "custom_id": name, "value": value}]}
        for name, value in values.items()
    ]
    return interaction_create(5, user_id, {"custom_id": custom_id, "components": rows}, **where)


# -- talking to the real core --------------------------------------------------------------


@dataclass
class Harness:
    """The fake Discord, the adapter on it, and the real core behind the adapter."""

    fake: FakeDiscord
    adapter: DiscordAdapter
    core: Core
    handled: list[tuple[Event, Outcome]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def watch(self) -> None:
        """Note every event the core handled, so tests can wait for one."""
        handle = self.core.handle

        async def watched(event: Event) -> Outcome:
            outcome = await handle(event)
            self.handled.append((event, outcome))
            self._changed.set()
            return outcome

        self.core.handle = watched  # type: ignore[method-assign]

    async def handled_event(self, event_id: str, since: int = 0) -> tuple[Event, Outcome]:
        async def arrived() -> tuple[Event, Outcome]:
            while True:
                for event, outcome in self.handled[since:]:
                    if event.event_id == event_id:
                        return event, outcome
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(arrived(), TIMEOUT)

    async def send(self, event: str, payload: dict[str, Any]) -> tuple[Event, Outcome]:
        """Dispatch over the gateway, wait until the core handled it, deliver its replies."""
        since = len(self.handled)
        await self.fake.dispatch(event, payload)
        result = await self.handled_event(payload["id"], since)
        await self.adapter.idle()
        await self.core.dispatcher.run_due()
        return result

    async def interact(self, payload: dict[str, Any]) -> Call:
        """Dispatch an interaction that the adapter answers itself; its callback."""
        since = len(self.fake.calls)
        await self.fake.dispatch("INTERACTION_CREATE", payload)
        path = rf"/interactions/{payload['id']}/[^/]+/callback"
        return await self.fake.wait_for("POST", path, since=since)

    def last_post(self, channel_id: str) -> dict[str, Any]:
        posted = self.fake.posted(channel_id)
        assert posted, f"nothing was posted in {channel_id}"
        return posted[-1]


# -- people who join by talking to Maatje ----------------------------------------------------

MENTOR_FORM = {"field": "Law", "current": "Lawyer"}
MENTOR_TYPED = ["1,2", "2", "2,4", "2,3", "20-10-2026", "3", "1", "Coaching", "1", "yes"]
"""A mentor's typed intake answers: 2 mentees, Tuesdays and Thursdays, afternoons and
evenings, either language, the programme's time zone (Discord reports none)."""
MENTEE_FORM = {"programme": "Law", "year": "1"}


def mentee_typed(dayparts: str = "3", zone: str = "1") -> list[str]:
    """A mentee's typed intake answers: Tuesdays at `dayparts`, either language, `zone`."""
    return ["Plans", "1", "2", dayparts, "20-10-2026", "3", "1", "1", "no", "4", "Why", zone, "yes"]


async def intake(
    h: Harness, who: str, role: str, form: dict[str, str], typed: list[str], yes: str = "Yes"
) -> None:
    """`who` says hello in a DM, consents and picks `role` ("As a mentee") with buttons, fills
    the first form in its modal and types the rest."""
    dm = dm_channel(who)
    await h.send("MESSAGE_CREATE", message_create(who, "hello"))
    await h.send("INTERACTION_CREATE", component(who, button(h.last_post(dm), yes)))
    await h.send("INTERACTION_CREATE", component(who, button(h.last_post(dm), role)))
    [open_form] = custom_ids(h.last_post(dm))
    modal = (await h.interact(component(who, open_form))).body["data"]
    await h.send("INTERACTION_CREATE", modal_submit(who, modal["custom_id"], form))
    for text in typed:
        await h.send("MESSAGE_CREATE", message_create(who, text))
    assert "intake is complete" in h.last_post(dm)["content"]


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row["components"]]


def button(message: dict[str, Any], label: str) -> str:
    for row in message.get("components", []):
        for item in row["components"]:
            if item.get("label") == label:
                return item["custom_id"]
    raise AssertionError(f"no button {label!r} in {message.get('components')}")
