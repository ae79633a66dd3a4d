"""What the programme logic (the `flows` package) hands the core: flows, commands, a greeting.

`bot` does not import `flows`; the application loads it by name and calls its `behaviour()`.
Commands and the greeting work on a `Turn`: one incoming event, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.dispatcher import Job
from bot.engine import Flow, Outbound
from bot.events import Event, PersonRef, SpaceKind, SpaceRef
from bot.i18n import Text
from bot.replies import Reply
from bot.spaces import SpaceOpened, Work

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.domain import OutboxItem, Person, Programme
    from bot.engine import Engine


@dataclass
class Turn:
    session: Session
    engine: Engine
    person: Person
    person_ref: PersonRef
    space: SpaceRef
    now: datetime
    event: Event
    language: str
    outbound: list[Outbound] = field(default_factory=list)
    private: bool = False
    """Replies to commands outside a direct space are shown to this person only."""
    none_active: bool = False
    """The core has just found no conversation of this person going in `space`: the first
    `start` need not look again (only a start makes one)."""

    @property
    def person_id(self) -> int:
        assert self.person.id is not None
        return self.person.id

    def say(self, text: Text | str, **reply: Any) -> None:
        private = self.private and self.space.kind is not SpaceKind.DIRECT
        self.outbound.append(
            Outbound(
                self.person_id, Reply(text, ephemeral=private, **reply), self.space, self.person_ref
            )
        )

    def farewell(self, text: Text, language: str) -> None:
        """A last message to a person whose data is erased in this turn."""
        self.outbound.append(
            Outbound(
                self.person_id, Reply(text), self.space, self.person_ref, language, farewell=True
            )
        )

    def tell(self, person_id: int, reply: Reply) -> None:
        self.outbound.append(Outbound(person_id, reply))

    def start(
        self, flow: str, programme: Programme | None = None, answers: dict[str, Any] | None = None
    ) -> None:
        self.outbound.extend(
            self.engine.start(
                self.session,
                flow,
                self.person,
                self.space,
                self.person_ref,
                self.now,
                programme=programme,
                answers=answers,
                none_active=self.none_active,
            )
        )
        self.none_active = False


CommandHandler = Callable[[Turn, tuple[str, ...]], None]
WorkJob = Callable[[Work, "OutboxItem"], None]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    run: CommandHandler
    summary: Text | None
    """Shown by help; None for commands that only buttons use."""
    coordinator_only: bool = False
    keeps_conversation: bool = True
    """False when the command itself starts or ends a conversation (no re-ask afterwards)."""


@dataclass(frozen=True)
class Behaviour:
    flows: tuple[Flow, ...]
    commands: tuple[CommandSpec, ...]
    greet: Callable[[Turn], None]
    """Called for a message when the person has no conversation going in that space."""
    jobs: Mapping[str, Job] = field(default_factory=dict)
    """Outbox kinds the programme logic handles itself (beyond sending and flow reminders)."""
    work_jobs: Mapping[str, WorkJob] = field(default_factory=dict)
    """Outbox kinds whose job needs the engine (to start a conversation): `(work, item)`."""
    space_opened: SpaceOpened | None = None
    """Called when a group or pair space exists: greet people there, start what happens next."""
    safety_net: Callable[[Turn, tuple[str, ...]], bool] | None = None
    """Sees the free text of every message, form and command before anything else does
    (docs/safeguarding.md); True when it took the event, which then goes no further."""
