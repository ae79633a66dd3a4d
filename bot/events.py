"""Neutral incoming events: what an adapter turns platform traffic into.

Every event says who (`person`) and where (`space`) and carries the platform's own event id,
which the core uses to process each event once, however often the platform delivers it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class SpaceKind(StrEnum):
    DIRECT = "direct"
    PAIR = "pair"
    GROUP = "group"
    COORDINATORS = "coordinators"


@dataclass(frozen=True)
class PersonRef:
    platform: str
    workspace: str
    user_id: str

    @property
    def lock_key(self) -> str:
        """The key `Store.serialise` takes for this person's transactions: an event's turn,
        and whatever else must not overlap one (a profile lookup's answer)."""
        return f"person:{self.platform}:{self.workspace}:{self.user_id}"


@dataclass(frozen=True)
class SpaceRef:
    platform: str
    workspace: str
    channel_id: str
    kind: SpaceKind = SpaceKind.DIRECT


@dataclass(frozen=True, kw_only=True)
class Event:
    person: PersonRef
    space: SpaceRef
    event_id: str
    display_name: str | None = None
    locale: str | None = None
    timezone: str | None = None
    """The person's IANA time zone, for platforms whose events carry it (Teams' clientInfo)."""
    coordinator: bool | None = None
    """What a platform role says right now (e.g. Discord's coordinator role): True, the person
    coordinates; False, they do not (rights that came from the role end); None, the platform
    cannot tell (rights stay as they are)."""


@dataclass(frozen=True, kw_only=True)
class Message(Event):
    text: str


@dataclass(frozen=True, kw_only=True)
class Command(Event):
    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Choice(Event):
    """A button or select was used. `token` is the reply's `choice_token`."""

    token: str
    values: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class FormSubmitted(Event):
    form_id: str
    values: dict[str, str] = field(default_factory=dict)


def free_text(event: Event) -> tuple[str, ...]:
    """What the person typed themselves: a message, a form's fields, a command's words (a
    button carries only our own option values)."""
    match event:
        case Message():
            return (event.text,)
        case FormSubmitted():
            return tuple(event.values.values())
        case Command():
            return (" ".join((event.name, *event.args)),)
    return ()
