"""The flow engine: starts runs, takes answers, asks the next question, persists every step.

The engine never sends anything itself: it returns `Outbound` messages which the core writes to
the outbox in the same transaction as the run's new state. So a run's position and the messages
it caused are stored together, or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, select

from bot import outbox
from bot.domain import Identity, Person, Programme, RunStatus
from bot.engine import lookups, runs, timers
from bot.engine.flow import CANCEL, STOP, Delay, Flow, FlowContext, Outbound, Step
from bot.engine.inputs import FormInput, FormInvalid, Invalid, ParseContext
from bot.engine.runs import Run
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.i18n import Text, Translator, _l
from bot.replies import Form
from bot.services import hold
from bot.store import read

REMIND = timers.REMIND
EXPIRE = timers.EXPIRE
_ACCOUNT = select(Identity.user_id).where(  # the run's person's account on its platform
    Identity.person_id == bindparam("person"),
    Identity.platform == bindparam("platform"),
    Identity.workspace == bindparam("workspace"),
)


def _delay(value: Delay, ctx: FlowContext) -> timedelta | None:
    return value(ctx) if callable(value) else value


def _timer_kinds(flow: Flow) -> frozenset[str]:
    """The kinds of timer (reminder, expiry) any question of `flow` can have."""
    return frozenset(
        kind
        for kind, flow_has, step_has in (
            (REMIND, flow.remind_after, lambda s: s.remind_after),
            (EXPIRE, flow.expires_after, lambda s: s.expires_after),
        )
        if flow_has or any(step_has(step) for step in flow.steps)
    )


def choice_token(run_id: int, step: str) -> str:
    return f"f:{run_id}:{step}"


def parse_token(token: str) -> tuple[int, str] | None:
    """`f:<run>:<step>` → (run, step); None for anything else."""
    parts = token.split(":", 2)
    if len(parts) != 3 or parts[0] != "f" or not parts[1].isdigit():
        return None
    return int(parts[1]), parts[2]


class Engine:
    def __init__(self, flows: Mapping[str, Flow], translator: Translator) -> None:
        self.flows = dict(flows)
        self.translator = translator
        self._timers = {name: _timer_kinds(flow) for name, flow in self.flows.items()}

    # -- starting and finding runs -------------------------------------------------------

    def start(
        self,
        session: Session,
        flow_name: str,
        person: Person,
        space: SpaceRef,
        person_ref: PersonRef,
        now: datetime,
        programme: Programme | None = None,
        answers: dict[str, Any] | None = None,
        subject: str | None = None,
        none_active: bool = False,
    ) -> list[Outbound]:
        """Start `flow_name` for `person` in `space`, cancelling the run they had going there.
        `none_active`: the caller has just found that there is none (it need not be looked
        up again)."""
        flow = self.flows[flow_name]
        assert person.id is not None
        olds = () if none_active else self.active_runs(session, person.id, space)
        for old in olds:
            old.status = RunStatus.CANCELLED
            old.updated_at = now
            self._drop_timers(session, old)
        run = runs.create(  # the old ones written first
            session,
            flow=flow.name,
            version=flow.version,
            subject=subject or f"person:{person.id}",
            person_id=person.id,
            programme_id=programme.id if programme else None,
            space_platform=space.platform,
            space_workspace=space.workspace,
            space_channel=space.channel_id,
            space_kind=space.kind.value,
            step=flow.steps[0].name,
            answers=dict(answers or {}),
            started_at=now,
            updated_at=now,
        )
        ctx = self._context(session, run, person, programme, now, person_ref)
        self._enter(ctx, flow, flow.steps[0].name)
        return ctx.outbound

    def active_runs(self, session: Session, person_id: int, space: SpaceRef) -> Sequence[Run]:
        """The person's active runs in `space` (at most one), as this unit of work left them."""
        return lookups.active_runs(session, person_id, space)

    def find_run(self, session: Session, run_id: int) -> Run | None:
        """The run `run_id` (a button's or form's), with its programme read in passing."""
        return lookups.find_run(session, run_id)

    def active_run(self, session: Session, person_id: int, space: SpaceRef) -> Run | None:
        found = self.active_runs(session, person_id, space)
        return found[0] if found else None

    # -- answers ---------------------------------------------------------------------------

    def answer_text(
        self, session: Session, run: Run, text: str, now: datetime, person_ref: PersonRef
    ) -> list[Outbound]:
        ctx, flow, step = self._load(session, run, now, person_ref)
        if step is None:
            return ctx.outbound
        if isinstance(step.accepts, FormInput):
            self._ask(ctx, flow, step, reminder=_l("This question is a form; please fill it in."))
            return ctx.outbound
        self._answer(ctx, flow, step, lambda parse: step.accepts.parse_text(text, parse))
        return ctx.outbound

    def answer_choice(
        self,
        session: Session,
        run: Run,
        step_name: str,
        values: Sequence[str],
        now: datetime,
        person_ref: PersonRef,
    ) -> list[Outbound]:
        ctx, flow, step = self._load(session, run, now, person_ref)
        if step is None:
            return ctx.outbound
        if run.status != RunStatus.ACTIVE or step.name != step_name:
            ctx.say(_l("That question has already been answered."))
            if run.status == RunStatus.ACTIVE:
                self._ask(ctx, flow, step)
            return ctx.outbound
        self._answer(ctx, flow, step, lambda parse: step.accepts.parse_choice(values, parse))
        return ctx.outbound

    def answer_form(
        self,
        session: Session,
        run: Run,
        step_name: str,
        values: dict[str, str],
        now: datetime,
        person_ref: PersonRef,
    ) -> tuple[list[Outbound], dict[str, Text] | None]:
        """Returns the messages and, when the form is not valid, an error per field."""
        ctx, flow, step = self._load(session, run, now, person_ref)
        if step is None:
            return ctx.outbound, None
        if (
            run.status != RunStatus.ACTIVE
            or step.name != step_name
            or not isinstance(step.accepts, FormInput)
        ):
            ctx.say(_l("That question has already been answered."))
            return ctx.outbound, None
        try:
            value = step.accepts.parse_form(values, self._parse_context(ctx))
        except FormInvalid as exc:
            return ctx.outbound, exc.errors
        self._accept(ctx, flow, step, value)
        return ctx.outbound, None

    def reask(
        self,
        session: Session,
        run: Run,
        now: datetime,
        person_ref: PersonRef,
        reminder: Text | None = None,
    ) -> list[Outbound]:
        ctx, flow, step = self._load(session, run, now, person_ref)
        if step is not None and run.status == RunStatus.ACTIVE:
            self._ask(ctx, flow, step, reminder=reminder)
        return ctx.outbound

    # -- reminders and expiry (outbox handlers call these) ------------------------------

    def remind(
        self, session: Session, run_id: int, step_name: str, ask_seq: int, now: datetime
    ) -> list[Outbound]:
        run = self.find_run(session, run_id)
        if not self._still_waiting(run, step_name, ask_seq):
            return []
        assert run is not None
        programme = session.get(Programme, run.programme_id) if run.programme_id else None
        later = hold.until(programme, [session.get(Person, run.person_id)], now)
        if later is not None:  # a quiet period or a pause: remind when it is over
            payload = {"run": run_id, "step": step_name, "ask_seq": ask_seq}
            key = f"remind:{run_id}:{step_name}:{ask_seq}{hold.HELD}{later:%Y%m%dT%H%M}"
            outbox.enqueue(session, REMIND, payload, key, later, now)
            return []
        person_ref = self._person_ref(session, run)
        if person_ref is None:
            return []
        return self.reask(
            session,
            run,
            now,
            person_ref,
            _l("A gentle reminder: I'm still waiting for your answer."),
        )

    def expire(
        self, session: Session, run_id: int, step_name: str, ask_seq: int, now: datetime
    ) -> list[Outbound]:
        run = self.find_run(session, run_id)
        if not self._still_waiting(run, step_name, ask_seq):
            return []
        assert run is not None
        person_ref = self._person_ref(session, run)
        if person_ref is None:
            return []
        ctx, flow, _ = self._load(session, run, now, person_ref)
        run.status = RunStatus.EXPIRED
        run.updated_at = now
        if flow.on_expire:
            flow.on_expire(ctx)
        else:
            ctx.say(
                _l(
                    "This conversation has been closed because it waited too long. "
                    "Send me a message to start again."
                )
            )
        return ctx.outbound

    @staticmethod
    def _still_waiting(run: Run | None, step_name: str, ask_seq: int) -> bool:
        return (
            run is not None
            and run.status == RunStatus.ACTIVE
            and run.step == step_name
            and run.ask_seq == ask_seq
        )

    # -- internals ---------------------------------------------------------------------------

    def _load(
        self, session: Session, run: Run, now: datetime, person_ref: PersonRef
    ) -> tuple[FlowContext, Flow, Step | None]:
        flow = self.flows[run.flow]
        person = session.get(Person, run.person_id)
        assert person is not None
        programme = session.get(Programme, run.programme_id) if run.programme_id else None
        ctx = self._context(session, run, person, programme, now, person_ref)
        if run.version != flow.version:
            self._migrate(run, flow)
        step = flow.step(run.step)
        return ctx, flow, step

    @staticmethod
    def _migrate(run: Run, flow: Flow) -> None:
        """A run of an older version continues at its step if the step still exists, otherwise
        at the first step (in the new order) it has no answer for."""
        if flow.step(run.step) is None:
            run.step = next(
                (s.name for s in flow.steps if s.name not in run.answers), flow.steps[-1].name
            )
        run.version = flow.version

    def _context(
        self,
        session: Session,
        run: Run,
        person: Person,
        programme: Programme | None,
        now: datetime,
        person_ref: PersonRef,
    ) -> FlowContext:
        space = SpaceRef(
            run.space_platform, run.space_workspace, run.space_channel, SpaceKind(run.space_kind)
        )
        return FlowContext(session, run, person, programme, now, space, person_ref)

    def _parse_context(self, ctx: FlowContext) -> ParseContext:
        language = ctx.person.language or (ctx.programme.language if ctx.programme else "en")
        timezone = ctx.person.timezone or (ctx.programme.timezone if ctx.programme else "UTC")
        return ParseContext(
            now=ctx.now,
            timezone=timezone,
            label_of=lambda label: self.translator.render(label, language, timezone),
        )

    def _answer(
        self, ctx: FlowContext, flow: Flow, step: Step, parse: Callable[[ParseContext], Any]
    ) -> None:
        """Parse an answer: accept it and move on, or give the reason and ask again."""
        try:
            value = parse(self._parse_context(ctx))
        except Invalid as exc:
            self._ask(ctx, flow, step, reminder=exc.reason)
            return
        self._accept(ctx, flow, step, value)

    def _accept(self, ctx: FlowContext, flow: Flow, step: Step, value: Any) -> None:
        ctx.run.answers = {**ctx.run.answers, step.name: value}
        ctx.answer = value
        if step.on_answer:
            step.on_answer(ctx)
        self._enter(ctx, flow, self._next(ctx, flow, step))

    @staticmethod
    def _next(ctx: FlowContext, flow: Flow, step: Step) -> str:
        if step.next is None:
            return flow.after(step.name)
        return step.next if isinstance(step.next, str) else step.next(ctx)

    def _enter(self, ctx: FlowContext, flow: Flow, name: str) -> None:
        run = ctx.run
        while True:
            if name in (STOP, CANCEL):
                run.status = RunStatus.DONE if name == STOP else RunStatus.CANCELLED
                run.updated_at = ctx.now
                self._drop_timers(ctx.session, run)
                if name == STOP and flow.on_finish:
                    flow.on_finish(ctx)
                return
            step = flow.step(name)
            if step is None:
                raise LookupError(f"flow {flow.name} has no step {name}")
            if step.skip_if and step.skip_if(ctx):
                ctx.answer = None
                name = self._next(ctx, flow, step)
                continue
            break
        previous = (run.step, run.ask_seq) if run.ask_seq else None
        run.step = step.name
        run.ask_seq += 1
        run.updated_at = ctx.now
        self._ask(ctx, flow, step)
        self._schedule(ctx, flow, step, previous)

    def _ask(self, ctx: FlowContext, flow: Flow, step: Step, reminder: Text | None = None) -> None:
        if reminder is not None:
            ctx.say(reminder)
        prompt = step.ask(ctx) if callable(step.ask) else step.ask
        assert ctx.run.id is not None
        token = choice_token(ctx.run.id, step.name)
        accepts = step.accepts
        if isinstance(accepts, FormInput):
            form = Form(token, accepts.title, accepts.fields)
            ctx.say(prompt, form=form)
            return
        options = accepts.options()
        ctx.say(
            prompt,
            choices=options,
            choice_token=token if options else None,
            multiple=accepts.multiple,
        )

    def _schedule(
        self, ctx: FlowContext, flow: Flow, step: Step, previous: tuple[str, int] | None
    ) -> None:
        """The question's reminder and expiry, taking over the previous question's rows."""
        run = ctx.run
        assert run.id is not None
        delays = (
            (REMIND, step.remind_after or _delay(flow.remind_after, ctx)),
            (EXPIRE, step.expires_after or _delay(flow.expires_after, ctx)),
        )
        due = {kind: after for kind, after in delays if after}
        kinds = self._timers[flow.name]
        timers.set_for(ctx.session, run.id, step.name, run.ask_seq, due, ctx.now, previous, kinds)

    def _drop_timers(self, session: Session, run: Run) -> None:
        possible = self._timers.get(run.flow, frozenset())
        if run.id is not None and run.ask_seq and possible:
            timers.drop(session, run.id, run.step, run.ask_seq, possible)

    @staticmethod
    def _person_ref(session: Session, run: Run) -> PersonRef | None:
        row = read(
            session,
            _ACCOUNT,
            {
                "person": run.person_id,
                "platform": run.space_platform,
                "workspace": run.space_workspace,
            },
        ).first()
        return PersonRef(run.space_platform, run.space_workspace, row[0]) if row else None
