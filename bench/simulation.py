"""A simulated programme: scripted participants and a coordinator talking to the real core.

Participants (bench/participants.py) find what is asked of them where a person would: the
buttons of the messages they were sent (bench/recorder.py) and the open conversations waiting
for their answer (typed questions, forms). The coordinator does only what Maatje's messages ask
of them. The clock jumps to whatever is due next, at least `TICK` at a time, so stalls and
drop-outs begin and end.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from bench.participants import ZONE, Answers, Participant, plan_behaviour
from bench.recorder import COORDINATOR, PLATFORM, WORKSPACE, Recorder
from bench.report import Report, outcome
from bot.adapter import Profile
from bot.clock import FrozenClock
from bot.config.model import Config, ProgrammeConfig, QuietPeriod, SchedulerConfig
from bot.domain import FlowRun, Identity, OutboxItem, Pair, PairStatus
from bot.engine import FormInput
from bot.events import Choice, Command, FormSubmitted, Message, PersonRef, SpaceKind, SpaceRef

TICK = timedelta(hours=3)
APPROVE = "c:match:approve"


@dataclass(frozen=True)
class SimulationSettings:
    pairs: int
    seed: int = 1
    stall_fraction: float = 0.10
    drop_fraction: float = 0.05
    fit_failure_fraction: float = 0.03
    english_fraction: float = 0.5
    mentees_per_mentor: int = 5
    start: date = date(2026, 9, 1)
    end: date = date(2027, 1, 31)

    @property
    def mentees(self) -> int:
        return self.pairs

    @property
    def mentors(self) -> int:
        return max(1, self.pairs // self.mentees_per_mentor)


@dataclass(frozen=True)
class OpenRun:
    id: int
    user_id: str
    flow: str
    step: str
    space: SpaceRef
    ask_seq: int


class Errors(logging.Handler):
    """Counts what the bot logged as an error (a job or an event that failed)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        what = f"{type(error).__name__}: {error}"[:80] if error else record.getMessage()[:80]
        self.seen[f"{record.name}: {what}"] += 1


def programme_config(settings: SimulationSettings) -> ProgrammeConfig:
    return ProgrammeConfig(
        name="Mentoraat Simulatie",
        slug="sim",
        language="nl",
        timezone="Europe/Amsterdam",
        start=settings.start,
        end=settings.end,
        meeting_cadence="biweekly",
        meetings=4,
        quiet_periods=(QuietPeriod(date(2026, 12, 21), date(2027, 1, 3), "kerstvakantie"),),
        coordinators={PLATFORM: (COORDINATOR,)},
        referral="Praat met je studieadviseur: studieadvies@example.nl",
    )


class Simulation:
    def __init__(self, database_url: str, settings: SimulationSettings) -> None:
        from bot.app import build  # the wiring loads flows and adapters by name

        self.settings = settings
        self.rng = random.Random(settings.seed)
        self.people: dict[str, Participant] = {}
        profiles = {COORDINATOR: Profile(display_name="Cora Coördinator", locale="nl-NL")}
        for role, count in (("mentor", settings.mentors), ("mentee", settings.mentees)):
            for i in range(count):
                user_id = f"{role}{i:05d}"
                english = self.rng.random() < settings.english_fraction
                language = "en" if english else "nl"
                self.people[user_id] = Participant(user_id, role, language)
                name = f"{role.capitalize()} {i}"
                profiles[user_id] = Profile(display_name=name, locale=f"{language}-NL")
        plan_behaviour(
            list(self.people.values()),
            self.rng,
            settings.start,
            settings.stall_fraction,
            settings.drop_fraction,
            settings.fit_failure_fraction,
        )
        self.recorder = Recorder(profiles)
        self.clock = FrozenClock(datetime.combine(settings.start, time(9), ZONE))
        config = Config(
            database_url=database_url,
            programmes=(programme_config(settings),),
            scheduler=SchedulerConfig(claim_lease_seconds=300, batch_size=500),
        )
        self.errors = Errors()
        logging.getLogger("bot").addHandler(self.errors)
        self.app = build(config, self.clock, adapters={PLATFORM: self.recorder})
        self.core = self.app.core
        self.commands: Counter[str] = Counter()
        self.events = 0
        self.answered: dict[int, tuple[str, int]] = {}
        self.refused: Counter[str] = Counter()
        """Questions whose scripted answer Maatje did not take (flow.step)."""
        self.refused_runs: set[int] = set()
        self.open_runs: dict[int, OpenRun] = {}
        self._seen_runs_at: datetime | None = None
        self.phase = "intake"
        self.pairs_at_close: set[int] = set()
        """The pairs still active on the programme's last day."""

    # -- the platform side -------------------------------------------------------------------

    def _common(self, user_id: str, space: SpaceRef | None) -> dict:
        self.events += 1
        person = self.people.get(user_id)
        return {
            "person": PersonRef(PLATFORM, WORKSPACE, user_id),
            "space": space or SpaceRef(PLATFORM, WORKSPACE, f"dm-{user_id}"),
            "event_id": f"e{self.events}",
            "locale": person.language if person else "nl",
        }

    async def say(self, user_id: str, text: str, space: SpaceRef | None = None) -> None:
        await self.core.handle(Message(**self._common(user_id, space), text=text))

    async def click(
        self, user_id: str, token: str, values: tuple[str, ...], space: SpaceRef | None
    ) -> None:
        if user_id == COORDINATOR:
            self.commands[f"button {token.split(':')[1]}"] += 1
        event = Choice(**self._common(user_id, space), token=token, values=values)
        await self.core.handle(event)

    async def command(self, name: str, *args: str) -> None:
        """The coordinator types a command."""
        self.commands[" ".join((name, *args[:1]))] += 1
        await self.core.handle(Command(**self._common(COORDINATOR, None), name=name, args=args))

    async def dispatch(self) -> None:
        self.recorder.phase = self.phase
        await self.core.drain()
        while await self.core.dispatcher.run_due():
            pass

    # -- what people do ----------------------------------------------------------------------

    async def round(self) -> int:
        """Everyone answers what is waiting for them; returns how many answers were given."""
        await self.dispatch()
        now = self.clock.now()
        answers = 0
        for user_id, pending in list(self.recorder.buttons.items()):
            for token, item in list(pending.items()):
                value = self._button(user_id, token, item.values, now)
                if value is None:
                    continue
                del pending[token]
                await self.click(user_id, token, value, item.space)
                answers += 1
        for run in await self.core.store.run(self._open_runs):
            person = self.people.get(run.user_id)
            if person is None or person.silent(now) or person.holds_back(run.flow, now):
                continue
            answers += await self._answer(person, run, now)
        await self.dispatch()
        return answers

    def _button(
        self, user_id: str, token: str, values: tuple[str, ...], now: datetime
    ) -> tuple[str, ...] | None:
        if user_id == COORDINATOR:
            return ("all",) if token == APPROVE else None
        person = self.people[user_id]
        if person.silent(now):
            return None
        return Answers(person, "", "", now).button(token.split(":")[1], values)

    def _open_runs(self) -> list[OpenRun]:
        """The conversations waiting for an answer (those changed since the last look are
        read again)."""
        with self.core.store.session() as session:
            query = select(FlowRun, Identity.user_id).join(
                Identity, col(Identity.person_id) == FlowRun.person_id
            )
            if self._seen_runs_at is not None:
                query = query.where(FlowRun.updated_at >= self._seen_runs_at)
            else:
                query = query.where(FlowRun.status == "active")
            rows = session.exec(query).all()
        self._seen_runs_at = self.clock.now()
        for run, user_id in rows:
            assert run.id is not None
            if run.status != "active":
                self.open_runs.pop(run.id, None)
                continue
            space = SpaceRef(
                run.space_platform,
                run.space_workspace,
                run.space_channel,
                SpaceKind(run.space_kind),
            )
            self.open_runs[run.id] = OpenRun(
                run.id, user_id, run.flow, run.step, space, run.ask_seq
            )
        return list(self.open_runs.values())

    async def _answer(self, person: Participant, run: OpenRun, now: datetime) -> int:
        if self.answered.get(run.id) == (run.step, run.ask_seq):
            if run.id not in self.refused_runs:  # still where it was: the answer was refused
                self.refused[f"{run.flow}.{run.step}"] += 1
                self.refused_runs.add(run.id)
            return 0
        flow = self.core.engine.flows.get(run.flow)
        step = flow.step(run.step) if flow else None
        if step is None:
            return 0
        self.answered[run.id] = (run.step, run.ask_seq)
        token = f"f:{run.id}:{run.step}"
        answers = Answers(person, run.flow, run.step, now)
        if isinstance(step.accepts, FormInput):
            values = answers.form(step.accepts)
            common = self._common(person.user_id, run.space)
            await self.core.handle(FormSubmitted(**common, form_id=token, values=values))
            return 1
        typed = answers.text(step.accepts)
        if typed is not None:
            await self.say(person.user_id, typed, run.space)
            return 1
        chosen = answers.choice(step.accepts)
        if not chosen:
            self.refused[f"{run.flow}.{run.step} (no answer possible)"] += 1
            return 0
        await self.click(person.user_id, token, chosen, run.space)
        return 1

    # -- the programme -----------------------------------------------------------------------

    async def intake(self) -> None:
        order = list(self.people)
        self.rng.shuffle(order)
        for index, user_id in enumerate(order):
            if index % 200 == 0:
                await self.dispatch()
            await self.say(user_id, "hallo" if self.people[user_id].language == "nl" else "hi")
        await self.settle()
        for _ in range(3 * 8):  # three days: reminders, late answers
            self.clock.advance(TICK)
            await self.settle()

    async def settle(self, rounds: int = 60) -> None:
        for _ in range(rounds):
            if not await self.round():
                return

    async def matching(self) -> None:
        await self.command("match")
        await self.settle()
        self.clock.advance(timedelta(hours=1))
        await self.settle()

    async def programme(self) -> None:
        await self.run_until(datetime.combine(self.settings.end, time(9), ZONE))
        self.pairs_at_close = await self.core.store.run(self._active_pairs)

    def _active_pairs(self) -> set[int]:
        with self.core.store.session() as session:
            rows = session.exec(select(Pair.id).where(Pair.status == PairStatus.ACTIVE)).all()
        return {pair_id for pair_id in rows if pair_id is not None}

    async def closing(self) -> None:
        end = self.settings.end + timedelta(days=21)  # the evaluation closes, certificates
        await self.run_until(datetime.combine(end, time(9), ZONE))

    async def run_until(self, end: datetime) -> None:
        while self.clock.now() < end:
            due = await self.core.store.run(self._next_due)
            step = max(TICK, (due - self.clock.now()) if due else end - self.clock.now())
            self.clock.set(min(self.clock.now() + step, end))
            await self.settle()
            await self.coordinator_reads()

    def _next_due(self) -> datetime | None:
        with self.core.store.session() as session:
            return session.exec(
                select(func.min(OutboxItem.due_at)).where(
                    col(OutboxItem.done_at).is_(None), col(OutboxItem.failed_at).is_(None)
                )
            ).one()

    async def coordinator_reads(self) -> None:
        """The coordinator does what Maatje's messages ask of them, and nothing else: when a
        message says 'match' has something to review, they type it (and approve what it shows,
        as buttons are answered in `round`). The review itself, which names 'match' too, is
        answered by its button."""
        texts, self.recorder.coordinator_texts = self.recorder.coordinator_texts, []
        if any("'match'" in text for text, token in texts if token != APPROVE):
            await self.command("match")
            await self.settle()

    def report(self) -> Report:
        return outcome(self)

    async def close(self) -> None:
        await self.core.drain()
        logging.getLogger("bot").removeHandler(self.errors)
        self.app.store.dispose()
