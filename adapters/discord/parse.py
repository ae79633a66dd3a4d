"""Discord traffic (gateway payloads) into the core's neutral events.

Pure functions over the payload dicts Discord sends (`MESSAGE_CREATE`, `INTERACTION_CREATE`);
`message_payload` / `interaction_payload` rebuild the fields used here from discord.py objects.

Identity: the core knows a person by (platform, workspace, user_id). Discord user ids are
global, so the workspace is one constant for all events — the bot's application id — and a
person is the same person in a DM, in any guild channel and with a slash command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import discord

from adapters.discord import ids
from bot.events import Choice, Command, Event, Message, PersonRef, SpaceKind, SpaceRef

PLATFORM = "discord"

# Message types a person writes: DEFAULT and REPLY (joins, pins, thread notices are not).
_PERSON_MESSAGE_TYPES = (0, 19)
APPLICATION_COMMAND, MESSAGE_COMPONENT, MODAL_SUBMIT = 2, 3, 5
_SUB_COMMAND, _SUB_COMMAND_GROUP = 1, 2


@dataclass(frozen=True)
class Origin:
    """Who did something where, and the id of the platform event."""

    person: PersonRef
    space: SpaceRef
    event_id: str
    display_name: str | None = None
    locale: str | None = None

    def fields(self) -> dict[str, Any]:
        return {
            "person": self.person,
            "space": self.space,
            "event_id": self.event_id,
            "display_name": self.display_name,
            "locale": self.locale,
        }


@dataclass(frozen=True)
class OpenForm:
    """A button that opens a modal (first page, next page, or again after errors)."""

    origin: Origin
    form_id: str
    page: int
    retry: bool


@dataclass(frozen=True)
class PageSubmitted:
    """One modal page sent; the last page of a form becomes a `FormSubmitted`."""

    origin: Origin
    form_id: str
    page: int
    pages: int
    values: dict[str, str]


Parsed = Event | OpenForm | PageSubmitted


def language(locale: str | None) -> str | None:
    """Discord's `en-US`, `nl` → `en`, `nl`."""
    return locale.split("-")[0].lower() if locale else None


def _user(payload: dict[str, Any]) -> dict[str, Any]:
    return (payload.get("member") or {}).get("user") or payload.get("user") or {}


def _display_name(payload: dict[str, Any], user: dict[str, Any]) -> str | None:
    nick = (payload.get("member") or {}).get("nick")
    return nick or user.get("global_name") or user.get("username") or None


def origin(payload: dict[str, Any], workspace: str, kind: SpaceKind) -> Origin:
    """`kind` is what the adapter knows of a guild channel; a DM is always direct."""
    user = _user(payload) or payload.get("author") or {}
    where = kind if payload.get("guild_id") else SpaceKind.DIRECT
    return Origin(
        person=PersonRef(PLATFORM, workspace, str(user["id"])),
        space=SpaceRef(PLATFORM, workspace, str(payload["channel_id"]), where),
        event_id=str(payload["id"]),
        display_name=_display_name(payload, user),
        locale=language(payload.get("locale")),
    )


# -- messages --------------------------------------------------------------------------------


def mentions(payload: dict[str, Any], bot_id: str) -> bool:
    listed = any(str(m.get("id")) == bot_id for m in payload.get("mentions") or [])
    return listed or bool(re.search(rf"<@!?{bot_id}>", payload.get("content") or ""))


def strip_mention(content: str, bot_id: str) -> str:
    return re.sub(rf"\s*<@!?{bot_id}>\s*", " ", content).strip()


def message(
    payload: dict[str, Any], workspace: str, bot_id: str, kind: SpaceKind = SpaceKind.GROUP
) -> Message | None:
    """A DM, or a message mentioning the bot in a guild channel; None for everything else
    (the bot's own messages, other bots, system messages, guild talk not addressed to us)."""
    author = payload.get("author") or {}
    if author.get("bot") or str(author.get("id")) == bot_id or payload.get("webhook_id"):
        return None
    if payload.get("type", 0) not in _PERSON_MESSAGE_TYPES:
        return None
    content = payload.get("content") or ""
    if payload.get("guild_id"):
        if not mentions(payload, bot_id):
            return None
        content = strip_mention(content, bot_id)
    return Message(text=content, **origin(payload, workspace, kind).fields())


def message_payload(msg: discord.Message) -> dict[str, Any]:
    """The MESSAGE_CREATE fields `message` reads, from a discord.py message."""
    author = msg.author
    return {
        "id": str(msg.id),
        "type": msg.type.value,
        "channel_id": str(msg.channel.id),
        "guild_id": str(msg.guild.id) if msg.guild else None,
        "webhook_id": str(msg.webhook_id) if msg.webhook_id else None,
        "content": msg.content,
        "author": {
            "id": str(author.id),
            "username": author.name,
            "global_name": author.global_name,
            "bot": author.bot,
        },
        "member": {"nick": getattr(author, "nick", None)} if msg.guild else None,
        "mentions": [{"id": str(u.id)} for u in msg.mentions],
    }


# -- interactions ----------------------------------------------------------------------------


def command_args(data: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """`/maatje language args:nl` → ("language", ("nl",)). Option values are split into words;
    a user or role option gives its id."""
    options = data.get("options") or []
    name = ""
    while options and options[0].get("type") in (_SUB_COMMAND, _SUB_COMMAND_GROUP):
        name = f"{name} {options[0]['name']}".strip()
        options = options[0].get("options") or []
    words: list[str] = []
    for option in options:
        value = option.get("value")
        if value is not None:
            words.extend(str(value).split())
    return name or "help", tuple(words)


def modal_values(data: dict[str, Any]) -> dict[str, str]:
    """Text inputs of a modal submit, by custom_id (the field name)."""
    values: dict[str, str] = {}

    def walk(components: list[dict[str, Any]]) -> None:
        for component in components:
            if "custom_id" in component and "value" in component:
                values[component["custom_id"]] = component["value"] or ""
            walk(component.get("components") or [])
            if isinstance(component.get("component"), dict):  # a Label wraps one input
                walk([component["component"]])

    walk(data.get("components") or [])
    return values


def interaction(
    payload: dict[str, Any], workspace: str, kind: SpaceKind = SpaceKind.GROUP
) -> Parsed | None:
    """A slash command, a button or select, or a modal page; None for what is not ours."""
    data = payload.get("data") or {}
    kind_of = payload.get("type")
    where = origin(payload, workspace, kind)
    if kind_of == APPLICATION_COMMAND:
        name, args = command_args(data)
        return Command(name=name, args=args, **where.fields())
    if kind_of == MESSAGE_COMPONENT:
        parsed = ids.parse(data.get("custom_id") or "")
        if isinstance(parsed, ids.Pick):
            chosen = tuple(data.get("values") or ())
            values = (parsed.value,) if parsed.value is not None else chosen
            return Choice(token=parsed.token, values=values, **where.fields())
        if isinstance(parsed, ids.OpenForm):
            return OpenForm(where, parsed.form_id, parsed.page, parsed.retry)
        return None
    if kind_of == MODAL_SUBMIT:
        parsed = ids.parse(data.get("custom_id") or "")
        if isinstance(parsed, ids.ModalPage):
            return PageSubmitted(
                where, parsed.form_id, parsed.page, parsed.pages, modal_values(data)
            )
    return None


def interaction_payload(item: discord.Interaction) -> dict[str, Any]:
    """The INTERACTION_CREATE fields `interaction` reads, from a discord.py interaction."""
    user = item.user
    return {
        "id": str(item.id),
        "type": item.type.value,
        "channel_id": str(item.channel_id),
        "guild_id": str(item.guild_id) if item.guild_id else None,
        "locale": str(item.locale) if item.locale else None,
        "user": {"id": str(user.id), "username": user.name, "global_name": user.global_name},
        "member": {"nick": getattr(user, "nick", None)} if item.guild_id else None,
        "data": dict(item.data or {}),
    }
