"""How a conversation is declared: a named, versioned flow of named steps.

A flow file reads like the conversation it runs:

    Flow("intake", version=1, steps=(
        Step("consent", ask=_l("May I store your answers?"), accepts=YesNo(),
             next=lambda ctx: "study" if ctx.answer else STOP),
        ...
    ), on_finish=finish_intake)

Steps are found by name, never by position, so adding a step does not move conversations
already under way. Runs remember the flow version they started with; see `docs/flows.md` for
what happens when a flow's version changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.engine.inputs import InputKind
from bot.events import PersonRef, SpaceRef
from bot.i18n import Text
from bot.replies import Reply

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.domain import Person, Programme
    from bot.engine.runs import Run

STOP = "__stop__"
"""Returned by a step's `next` to end the run (its `on_finish` runs)."""

CANCEL = "__cancel__"
"""Returned by a step's `next` to end the run without `on_finish`."""


@dataclass
class Outbound:
    """A reply addressed to a person, optionally in a given space (else their direct space)."""

    person_id: int
    reply: Reply
    space: SpaceRef | None = None
    person_ref: PersonRef | None = None
    language: str | None = None
    """Overrides the reader's language: a last message to a person who is being erased.
    (Everything else is rendered for its readers by `bot.audience`.)"""
    farewell: bool = False
    """The last message to a person erased in the same transaction: once it is sent, the
    database files are wiped of what it carried (their account id)."""


@dataclass
class FlowContext:
    """What a step's callbacks see. Callbacks add messages with `say` and `tell`."""

    session: Session
    run: Run
    person: Person
    programme: Programme | None
    now: datetime
    space: SpaceRef
    person_ref: PersonRef
    answer: Any = None
    outbound: list[Outbound] = field(default_factory=list)
    memo: dict[str, Any] = field(default_factory=dict)
    """What the step's callbacks looked up once for this turn (`remember`)."""

    @property
    def answers(self) -> dict[str, Any]:
        return self.run.answers

    def remember(self, key: str, load: Callable[[], Any]) -> Any:
        """`load()`, called once per turn: a flow's skip predicates and prompts often read
        the same row for every step they pass. Whoever changes what `load` reads within
        the turn sets `memo[key]` to the new value (or pops it)."""
        if key not in self.memo:
            self.memo[key] = load()
        return self.memo[key]

    def say(self, text: Text | str, **reply: Any) -> None:
        """Say something to the person in this conversation."""
        assert self.person.id is not None
        self.outbound.append(
            Outbound(self.person.id, Reply(text, **reply), self.space, self.person_ref)
        )

    def tell(self, person_id: int, reply: Reply) -> None:
        """Send a message to someone else, in their direct space."""
        self.outbound.append(Outbound(person_id, reply))


Prompt = Text | Callable[[FlowContext], Text]
Next = str | Callable[[FlowContext], str] | None
Delay = timedelta | Callable[[FlowContext], timedelta | None] | None


@dataclass(frozen=True)
class Step:
    name: str
    ask: Prompt
    accepts: InputKind
    next: Next = None
    """The next step's name, a function of the context choosing one, or None: the next in
    order."""
    skip_if: Callable[[FlowContext], bool] | None = None
    on_answer: Callable[[FlowContext], None] | None = None
    remind_after: timedelta | None = None
    expires_after: timedelta | None = None


@dataclass(frozen=True)
class Flow:
    name: str
    version: int
    steps: tuple[Step, ...]
    title: Text | None = None
    """What the person is doing, as shown in a task list ("Finish your intake")."""
    on_finish: Callable[[FlowContext], None] | None = None
    on_expire: Callable[[FlowContext], None] | None = None
    remind_after: Delay = None
    expires_after: Delay = None

    def __post_init__(self) -> None:
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"flow {self.name}: step names must be unique")
        for step in self.steps:
            if isinstance(step.next, str) and step.next not in (*names, STOP, CANCEL):
                raise ValueError(f"flow {self.name}: step {step.name} goes to unknown {step.next}")

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    def after(self, name: str) -> str:
        names = [s.name for s in self.steps]
        index = names.index(name)
        return names[index + 1] if index + 1 < len(names) else STOP
