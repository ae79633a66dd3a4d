"""Pure parsing: Bot Framework activities from Teams into the core's neutral events.

Nothing here calls Teams. Identity: a person is `PersonRef("teams", tenant id, AAD object id)` —
the id coordinators are configured by and Graph knows — falling back to the `29:` account id
for an account without one. Every event carries the activity's `id`, which Teams keeps when it
delivers the same activity again.

Text arrives as Teams' HTML-ish markup and leaves as what the person typed: the bot's own
`<at>Maatje</at>` is removed, other mentions become `@Name`, tags are dropped and entities
unescaped (the core escapes again whatever it echoes).

Teams has no slash commands, so commands are typed: `maatje status`, `/status` or a bare
`status`. A bare command word counts for coordinators' commands at any length, and for everyone's
commands (`help`, `goals`, …) when the message has at most `BARE_COMMAND_WORDS` words, so an
answer like "help with planning my first year" stays an answer.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.teams import ids
from bot.events import (
    Choice,
    Command,
    Event,
    FormSubmitted,
    Message,
    PersonRef,
    SpaceKind,
    SpaceRef,
)

PLATFORM = "teams"
BARE_COMMAND_WORDS = 3
CHANNEL_KEY_LIMIT = 64
PREFIXES = ("maatje", "/maatje", "@maatje")
_TAG = re.compile(r"<[^>]*>")
_AT = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_BREAK = re.compile(r"<br\s*/?>|</p>|</div>", re.IGNORECASE)


@dataclass(frozen=True)
class FileAnswer:
    """A person accepted or declined a file consent card (`fileConsent/invoke`)."""

    person: PersonRef
    conversation_id: str
    accepted: bool
    file_id: str
    upload: dict[str, Any]
    card_activity_id: str | None


Parsed = Event | FileAnswer


def tenant_of(activity: dict[str, Any]) -> str:
    conversation = activity.get("conversation") or {}
    tenant = ((activity.get("channelData") or {}).get("tenant") or {}).get("id")
    return str(conversation.get("tenantId") or tenant or "")


def person_of(activity: dict[str, Any], tenant: str | None = None) -> PersonRef:
    sender = activity.get("from") or {}
    user = sender.get("aadObjectId") or sender.get("id") or ""
    return PersonRef(PLATFORM, tenant if tenant is not None else tenant_of(activity), str(user))


def conversation_type(activity: dict[str, Any]) -> str:
    return str((activity.get("conversation") or {}).get("conversationType") or "personal")


def language(activity: dict[str, Any]) -> str | None:
    """`nl-NL` → `nl`, from the activity or its clientInfo entity."""
    locale = activity.get("locale") or _client_info(activity).get("locale")
    return str(locale).split("-")[0].lower() if locale else None


def timezone(activity: dict[str, Any]) -> str | None:
    """The IANA zone Teams reports for the person's client (`Europe/Amsterdam`)."""
    zone = activity.get("localTimezone") or _client_info(activity).get("timezone")
    return str(zone) if zone else None


def _client_info(activity: dict[str, Any]) -> dict[str, Any]:
    for entity in activity.get("entities") or []:
        if isinstance(entity, dict) and entity.get("type") == "clientInfo":
            return entity
    return {}


def plain_text(activity: dict[str, Any]) -> str:
    """What the person typed, without the mention of the bot."""
    text = str(activity.get("text") or "")
    bot_names = {
        str((e.get("mentioned") or {}).get("name") or "")
        for e in activity.get("entities") or []
        if isinstance(e, dict)
        and e.get("type") == "mention"
        and (e.get("mentioned") or {}).get("id") == (activity.get("recipient") or {}).get("id")
    }

    def mention(match: re.Match[str]) -> str:
        name = html.unescape(_TAG.sub("", match.group(1))).strip()
        return "" if name in bot_names else f"@{name}"

    text = _AT.sub(mention, text)
    text = html.unescape(_TAG.sub("", _BREAK.sub("\n", text)))
    lines = (" ".join(line.split()) for line in text.replace("\r", "").split("\n"))
    return "\n".join(line for line in lines if line).strip()


def command_in(text: str, commands: Mapping[str, bool]) -> tuple[str, tuple[str, ...]] | None:
    """`(name, args)` when `text` is a command; `commands` maps names to coordinator-only."""
    words = text.split()
    if not words:
        return None
    first = words[0].lower()
    prefixed = first in PREFIXES
    if prefixed:
        words = words[1:]
        if not words:
            return "help", ()
        first = words[0].lower()
    elif first.startswith("/") and len(first) > 1:
        prefixed, first = True, first[1:]
    if first not in commands:
        return (first, tuple(words[1:])) if prefixed else None
    if not prefixed and not commands[first] and len(words) > BARE_COMMAND_WORDS:
        return None
    return first, tuple(words[1:])


def event_of(
    activity: dict[str, Any],
    commands: Mapping[str, bool],
    kind_of: Callable[[str], SpaceKind],
) -> Parsed | None:
    """The neutral event of a message or card action; None for what is not ours."""
    kind = activity.get("type")
    tenant = tenant_of(activity)
    who = person_of(activity, tenant)
    if not who.user_id or (activity.get("from") or {}).get("role") == "bot":
        return None
    conversation = str((activity.get("conversation") or {}).get("id") or "")
    channel = channel_key(conversation)
    where_kind = SpaceKind.DIRECT if conversation_type(activity) == "personal" else kind_of(channel)
    base: dict[str, Any] = {
        "person": who,
        "space": SpaceRef(PLATFORM, tenant, channel, where_kind),
        "event_id": str(activity.get("id") or ""),
        "display_name": (activity.get("from") or {}).get("name") or None,
        "locale": language(activity),
        "timezone": timezone(activity),
    }
    if kind == "invoke":
        name = activity.get("name")
        value = activity.get("value") or {}
        if name == "adaptiveCard/action":
            return _card_event(((value.get("action") or {}).get("data")), base)
        if name == "fileConsent/invoke":
            context = value.get("context") or {}
            return FileAnswer(
                who,
                conversation,
                value.get("action") == "accept",
                str(context.get("file") or ""),
                value.get("uploadInfo") or {},
                activity.get("replyToId"),
            )
        return None
    if kind != "message":
        return None
    if activity.get("value") and not activity.get("text"):  # an Action.Submit
        return _card_event(activity.get("value"), base)
    text = plain_text(activity)
    if not text:
        return None
    command = command_in(text, commands)
    if command is not None:
        return Command(name=command[0], args=command[1], **base)
    return Message(text=text, **base)


def _card_event(data: Any, base: dict[str, Any]) -> Event | None:
    action = ids.read(data)
    if action is None:
        return None
    if action.kind == ids.FORM:
        return FormSubmitted(form_id=action.token, values=action.form_values or {}, **base)
    return Choice(token=action.token, values=action.values, **base)


def channel_key(conversation_id: str) -> str:
    """The conversation as the core stores it (at most 64 characters): the id without a
    channel thread's `;messageid=…`, or a digest of it when longer."""
    base = conversation_id.split(";")[0]
    if len(base) <= CHANNEL_KEY_LIMIT:
        return base
    return "h:" + hashlib.sha256(base.encode()).hexdigest()[:40]
