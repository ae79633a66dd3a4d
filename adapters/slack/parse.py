"""Pure parsing: Slack payloads into the core's neutral events.

Nothing here calls Slack. Every event carries an id that stays the same when Slack delivers
the same thing again: the Events API `event_id`, or the `trigger_id` of a slash command or an
interaction. Text arrives in Slack's markup and leaves as what the person typed: mentions
become `@U123`, links their visible text, and `&amp;`, `&lt;`, `&gt;` are unescaped (the
core escapes again whatever it echoes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from adapters.slack import ids
from bot.events import Choice, Command, FormSubmitted, Message, PersonRef, SpaceKind, SpaceRef
from bot.replies import OutgoingForm

PLATFORM = "slack"
_ACCEPTED_SUBTYPES = (None, "file_share", "thread_broadcast")
_MARKUP = re.compile(r"<([^<>]*)>")
_SPACES = re.compile(r"(?<=\S) {2,}(?=\S)")
_UNESCAPE = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


@dataclass(frozen=True)
class FormRequest:
    """Someone pressed a form's button: open its modal with `trigger_id`."""

    person: PersonRef
    space: SpaceRef
    trigger_id: str
    form_id: str
    form: OutgoingForm | None


def person(team_id: str, user_id: str) -> PersonRef:
    return PersonRef(PLATFORM, team_id, user_id)


def space(team_id: str, channel_id: str, kind: SpaceKind | None = None) -> SpaceRef:
    """A conversation; its kind is known for direct messages (`D…`), else reported as group."""
    if kind is None:
        kind = SpaceKind.DIRECT if channel_id.startswith("D") else SpaceKind.GROUP
    return SpaceRef(PLATFORM, team_id, channel_id, kind)


def plain_text(text: str, strip_user: str | None = None) -> str:
    """Slack markup to the text as typed; `strip_user`'s mentions are removed."""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            return "" if target[1:] == strip_user else target
        if target.startswith("#"):
            return "#" + label if label else target
        if target.startswith("!date"):
            return label
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[0]).lstrip("@")
        return label or target.removeprefix("mailto:")

    text = _MARKUP.sub(replace, text)
    for entity, char in _UNESCAPE:
        text = text.replace(entity, char)
    return _SPACES.sub(" ", text).strip()


def message_from_event(body: dict[str, Any], bot_user_id: str | None) -> Message | None:
    """A direct message or a mention of the bot; None for anything to ignore."""
    event = body.get("event") or {}
    kind = event.get("type")
    if kind == "message" and event.get("channel_type") != "im":
        return None
    if kind not in ("message", "app_mention"):
        return None
    if event.get("subtype") not in _ACCEPTED_SUBTYPES or event.get("bot_id"):
        return None
    user = event.get("user")
    if not user or user == bot_user_id:
        return None
    team = body.get("team_id") or event.get("team") or ""
    return Message(
        person=person(team, user),
        space=space(team, event["channel"], SpaceKind.DIRECT if kind == "message" else None),
        event_id=body.get("event_id") or f"{event['channel']}:{event.get('ts')}",
        text=plain_text(event.get("text") or "", strip_user=bot_user_id),
    )


def command_from_body(body: dict[str, Any]) -> Command:
    """`/maatje pair @anna` → Command(name="pair", args=("@U123",)); bare `/maatje` → "help"."""
    words = plain_text(body.get("text") or "").split()
    team = body.get("team_id") or ""
    return Command(
        person=person(team, body["user_id"]),
        space=space(team, body["channel_id"]),
        event_id=body.get("trigger_id") or f"{body['user_id']}:{body.get('command_ts', '')}",
        name=words[0].lower() if words else "help",
        args=tuple(words[1:]),
    )


def _who_and_where(body: dict[str, Any]) -> tuple[PersonRef, SpaceRef]:
    user = body["user"]
    team = (body.get("team") or {}).get("id") or user.get("team_id") or ""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id", ""
    )
    return person(team, user["id"]), space(team, channel)


def _event_id(body: dict[str, Any]) -> str:
    if body.get("trigger_id"):
        return str(body["trigger_id"])
    action = (body.get("actions") or [{}])[0]
    return f"{body['user']['id']}:{action.get('action_ts', '')}"


def _picked(body: dict[str, Any]) -> tuple[str, ...]:
    values: list[str] = []
    for block in ((body.get("state") or {}).get("values") or {}).values():
        element = block.get(ids.PICK)
        if element:
            values.extend(o["value"] for o in element.get("selected_options") or [])
    return tuple(values)


def choice_from_action(body: dict[str, Any]) -> Choice | None:
    """A button, a select, or the submit button of a multiple choice; None otherwise."""
    action = (body.get("actions") or [{}])[0]
    action_id = action.get("action_id", "")
    if action_id.startswith(ids.CHOICE):
        token, values = action["block_id"], (action["value"],)
    elif action_id.startswith(ids.SELECT):
        selected = action.get("selected_option")
        if not selected:
            return None
        token, values = action["block_id"], (selected["value"],)
    elif action_id == ids.SUBMIT:
        token, values = action["value"], _picked(body)
    else:
        return None
    who, where = _who_and_where(body)
    return Choice(person=who, space=where, event_id=_event_id(body), token=token, values=values)


def chosen_labels(body: dict[str, Any]) -> list[str]:
    """The labels of what was chosen, to show in place of the buttons."""
    action = (body.get("actions") or [{}])[0]
    action_id = action.get("action_id", "")
    if action_id.startswith(ids.CHOICE):
        return [action.get("text", {}).get("text", "")]
    if action_id.startswith(ids.SELECT):
        return [(action.get("selected_option") or {}).get("text", {}).get("text", "")]
    labels = []
    for block in ((body.get("state") or {}).get("values") or {}).values():
        element = block.get(ids.PICK) or {}
        labels.extend(o["text"]["text"] for o in element.get("selected_options") or [])
    return labels


def form_request(body: dict[str, Any]) -> FormRequest | None:
    action = (body.get("actions") or [{}])[0]
    if action.get("action_id") != ids.OPEN_FORM:
        return None
    who, where = _who_and_where(body)
    form_id, form = ids.decode_form(action["value"])
    return FormRequest(who, where, body["trigger_id"], form_id, form)


def _field_value(element: dict[str, Any]) -> str:
    for key in ("value", "selected_date", "selected_time"):
        if element.get(key) is not None:
            return str(element[key])
    selected = element.get("selected_option")
    return str(selected["value"]) if selected else ""


def form_from_view(body: dict[str, Any]) -> FormSubmitted:
    view = body["view"]
    form_id, channel, kind = ids.decode_view_metadata(view.get("private_metadata") or "{}")
    values = {
        block_id: _field_value(element)
        for block_id, elements in (view.get("state") or {}).get("values", {}).items()
        for element in elements.values()
    }
    user = body["user"]
    team = (body.get("team") or {}).get("id") or user.get("team_id") or ""
    return FormSubmitted(
        person=person(team, user["id"]),
        space=space(team, channel, kind),
        event_id=str(body.get("trigger_id") or f"{view['id']}:{view.get('hash', '')}"),
        form_id=form_id,
        values=values,
    )
