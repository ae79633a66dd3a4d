"""The core: takes a neutral event, runs the command or conversation step, stores the result.

Everything one event causes — the person's new state, the answers, the replies — is committed
in one transaction together with the event's id. A platform that delivers the event again finds
the id and changes nothing; a crash before the commit leaves no trace, so the retry redoes it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from bot import inbox, outbox, profiles, spaces
from bot.adapter import Adapter
from bot.behaviour import Behaviour, CommandSpec, Turn
from bot.clock import Clock
from bot.delivery import Written, enqueue_claimed, enqueue_outbound
from bot.dispatcher import Dispatcher
from bot.domain import FlowRun, Identity, OutboxItem, Person, RunStatus
from bot.engine import Engine, lookups, parse_token
from bot.engine.runs import IS_ACTIVE, Run
from bot.events import (
    Choice,
    Command,
    Event,
    FormSubmitted,
    Message,
    PersonRef,
    SpaceKind,
    SpaceRef,
    free_text,
)
from bot.i18n import DEFAULT_LANGUAGE, Text, Translator, _l
from bot.keyed_locks import KeyedLocks
from bot.sanitise import clean_event
from bot.services import accounts, people, programmes, safeguarding
from bot.store import Store

log = logging.getLogger(__name__)
STORE_RETRY_DELAYS = (0.5, 1, 2, 4, 8, 15)


@dataclass(frozen=True)
class Outcome:
    """What an adapter needs back at once: inline form errors (translated), that the event
    was a duplicate, or that a click was not taken (another member's question: the platform
    leaves its buttons as they are)."""

    form_errors: dict[str, str] | None = None
    duplicate: bool = False
    declined: bool = False


@dataclass
class Handled:
    """What one event's transaction leaves for after its commit: the adapter's outcome, the
    replies it claimed (sent at once), lanes where a reply waits for an earlier message, and
    whether it wrote other work due now (then the dispatcher claims)."""

    outcome: Outcome
    replies: list[OutboxItem] = field(default_factory=list)
    waiting: set[str] = field(default_factory=set)
    more: bool = False


@dataclass(frozen=True)
class Home:
    """A person's overview (Slack's App Home), translated for them."""

    title: str
    programme: str | None
    next_meeting: str | None
    tasks: tuple[str, ...] = field(default=())


class Core:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        translator: Translator,
        behaviour: Behaviour,
        engine: Engine,
        dispatcher: Dispatcher,
        adapters: Mapping[str, Adapter],
        auto_dispatch: bool = True,
    ) -> None:
        self.store = store
        self.clock = clock
        self.translator = translator
        self.behaviour = behaviour
        self.engine = engine
        self.commands = {c.name: c for c in behaviour.commands}
        self.dispatcher = dispatcher
        self.adapters = adapters
        self.auto_dispatch = auto_dispatch
        self._tasks: set[asyncio.Task[int]] = set()
        self._kicked = False
        self._in_order = KeyedLocks()
        lease = timedelta(seconds=dispatcher.settings.claim_lease_seconds)
        self.inbox = inbox.Inbox(store, clock, lease)

    async def accept(self, event: Event) -> None:
        """Record `event` in the inbox; once this returns, a platform may be told it arrived:
        if the process dies before `handle` finishes, it is handled again (`redrive`)."""
        await self.inbox.record(clean_event(event))

    async def redrive(self) -> int:
        """Handle accepted events whose handling never finished (see `bot.inbox`)."""
        return await self.inbox.redrive(self.handle)

    async def handle(self, event: Event) -> Outcome:
        """Handle one event; one person's events are handled one at a time, in arrival order
        (the store may run several people's events at once)."""
        event = clean_event(event)
        ref = event.person
        self.inbox.handling(event)
        try:
            async with self._in_order(f"{ref.platform}:{ref.workspace}:{ref.user_id}"):
                handled = await self._handle_while_reachable(event)
            self.dispatcher.hand_over(handled.replies, handled.waiting)
        except Exception:
            log.exception("handling %s %s failed", type(event).__name__, event.event_id)
            await self.store.run(self._apologise, event)
            handled = Handled(Outcome(), more=True)
        finally:
            self.inbox.handled(event)
        self.kick(claim=handled.more)
        return handled.outcome

    async def _handle_while_reachable(self, event: Event) -> Handled:
        """Retry an event the database could not take (a restart, a failover) for about half
        a minute: nothing of it was committed, and a repeat is recognised, so this is safe —
        and platforms that had their acknowledgement will not send it again."""
        for delay in (*STORE_RETRY_DELAYS, None):
            try:
                return await self.store.run(self._handle, event)
            except OperationalError:
                if delay is None:
                    raise
                log.warning("database unavailable; retrying event %s in %ss", event.event_id, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def healthy(self) -> bool:
        return self.store.reachable()

    def kick(self, claim: bool = True) -> None:
        """Run the dispatcher now (the scheduler also runs it on every tick). Kicks that come
        while a run is going make that run go round once more instead of queueing more runs.
        `claim=False`: only replies were written, and handed over: no claim is needed."""
        if not self.auto_dispatch:
            return
        self._kicked = True
        if claim:
            self.dispatcher.wake()
        if self._tasks:
            return
        task = asyncio.get_running_loop().create_task(self._dispatch_while_kicked())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dispatch_while_kicked(self) -> int:
        taken = 0
        while self._kicked:
            self._kicked = False
            try:
                taken += await self.dispatcher.run_due(claim=False)  # claims when woken
            except OperationalError:
                log.warning("dispatching failed: database unavailable; the next tick retries")
                return taken
        return taken

    async def drain(self) -> None:
        """Wait for dispatcher runs started by `kick` (used at shutdown and by tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- one event -----------------------------------------------------------------------

    def _handle(self, event: Event) -> Handled:
        """The event's transaction."""
        now = self.clock.now()
        with self.store.session() as session:
            self.store.serialise(
                session,
                f"person:{event.person.platform}:{event.person.workspace}:{event.person.user_id}",
            )
            if self.inbox.holds(event):
                inbox.forget(session, event.person.platform, event.event_id)
            if not outbox.first_sight(session, event.person.platform, event.event_id, now):
                return Handled(Outcome(duplicate=True))
            person, identity = accounts.resolve(
                session, event.person, now, event.space, along=self._run_along(event)
            )
            programmes.ensure_coordinator_roles(
                session, person, event.person, now, vouched=event.coordinator
            )
            profiles.note_event(session, person, event)
            turn = self._turn(session, person, event, now)
            errors, declined = self._dispatch(turn, event)
            key_prefix = f"msg:{event.person.platform}:{event.event_id}"
            written: Written = []

            def write(worker: str, until: datetime) -> list[OutboxItem]:
                nonlocal written
                assert person.id is not None
                written, claimed = enqueue_claimed(
                    session, turn.outbound, key_prefix, now, person.id, worker, until
                )
                return claimed

            replies = self.dispatcher.claim_written(session, write, now)
            profiles.plan(session, person, identity, now)  # after the replies: they go first
            # Lanes where a message of this turn waits for an earlier one (another reply's,
            # or one handed over now): when that is done, the dispatcher claims it.
            handed = {reply.idempotency_key for reply in replies}
            waiting = {lane for key, lane, _ in written if key not in handed}
            handled = Handled(
                Outcome(declined=declined), replies, waiting, outbox.wrote_bulk_due(session)
            )
            if errors:
                language = people.language_of(session, person)
                handled.outcome = Outcome(
                    form_errors={
                        name: self.translator.render(text, language)
                        for name, text in errors.items()
                    }
                )
        return handled

    @staticmethod
    def _run_along(event: Event) -> accounts.Along | None:
        """The run the event will look up, read with the person (`bot.engine.lookups`): a
        question's button or form's (by its token); for a message, a command or a command's
        button, the person's active run in the event's space (asked again after a command)."""
        match event:
            case Choice() if not event.token.startswith("c:"):
                parsed = parse_token(event.token)
            case FormSubmitted():
                parsed = parse_token(event.form_id)
            case _:
                return lookups.active_along(event.space)
        return lookups.run_along(parsed[0]) if parsed else None

    def _dispatch(self, turn: Turn, event: Event) -> tuple[dict[str, Text] | None, bool]:
        """Run the event; returns a form's errors and whether a click was declined. Typed
        text first passes the safety net (`Behaviour.safety_net`), which may take the turn."""
        net = self.behaviour.safety_net
        if net is not None and net(turn, free_text(event)):
            return None, False
        match event:
            case Command():
                self._command(turn, event.name, event.args)
            case Choice():
                return None, self._choice(turn, event)
            case FormSubmitted():
                return self._form(turn, event)
            case Message():
                run = self.engine.active_run(turn.session, turn.person_id, turn.space)
                if run is None:
                    turn.none_active = True
                    self.behaviour.greet(turn)
                else:
                    turn.outbound.extend(
                        self.engine.answer_text(
                            turn.session, run, event.text, turn.now, turn.person_ref
                        )
                    )
        return None, False

    def _command(self, turn: Turn, name: str, args: tuple[str, ...]) -> None:
        turn.private = True
        spec: CommandSpec | None = self.commands.get(name.lower())
        if spec is None:
            turn.say(
                _l(
                    "I don't know the command '{name}'. Type 'help' to see what I can do.",
                    name=name[:40],
                )
            )
            return
        if spec.coordinator_only and not people.is_coordinator(turn.session, turn.person_id):
            turn.say(_l("Sorry, only the programme's coordinators can use '{name}'.", name=name))
            return
        before = len(turn.outbound)
        spec.run(turn, args)
        turn.private = False
        if not spec.keeps_conversation or turn.space.kind is not SpaceKind.DIRECT:
            return
        if any(m.reply.choices or m.reply.form for m in turn.outbound[before:]):
            return  # the command asks something itself
        run = self.engine.active_run(turn.session, turn.person_id, turn.space)
        if run is not None:
            turn.outbound.extend(
                self.engine.reask(
                    turn.session, run, turn.now, turn.person_ref, _l("Back to where we were:")
                )
            )

    def _choice(self, turn: Turn, event: Choice) -> bool:
        """Take a click; True when it was declined (another member's question)."""
        if event.token.startswith("c:"):
            name, *args = event.token[2:].split(":")
            self._command(turn, name, (*args, *event.values))
            return False
        parsed = parse_token(event.token)
        run = self.engine.find_run(turn.session, parsed[0]) if parsed else None
        if run is not None and self._someone_elses(turn, run):
            return True
        if parsed is None or run is None or run.person_id != turn.person_id:
            turn.say(_l("That button no longer works. Send me a message to continue."))
            return False
        if run.status != RunStatus.ACTIVE:
            turn.say(_l("That question has already been answered."))
            return False
        turn.outbound.extend(
            self.engine.answer_choice(
                turn.session, run, parsed[1], event.values, turn.now, turn.person_ref
            )
        )
        return False

    def _form(self, turn: Turn, event: FormSubmitted) -> tuple[dict[str, Text] | None, bool]:
        parsed = parse_token(event.form_id)
        run = self.engine.find_run(turn.session, parsed[0]) if parsed else None
        if run is not None and self._someone_elses(turn, run):
            return None, True
        if parsed is None or run is None or run.person_id != turn.person_id:
            turn.say(_l("That form no longer works. Send me a message to continue."))
            return None, False
        messages, errors = self.engine.answer_form(
            turn.session, run, parsed[1], dict(event.values), turn.now, turn.person_ref
        )
        turn.outbound.extend(messages)
        return errors, False

    @staticmethod
    def _someone_elses(turn: Turn, run: Run) -> bool:
        """A button or form of another member's question, clicked in the shared space where
        it was asked: say whose it is, to the one who clicked only (True). Anywhere else the
        question's owner is not named (False)."""
        if (
            run.person_id == turn.person_id
            or run.space_kind == SpaceKind.DIRECT.value
            or (run.space_platform, run.space_channel)
            != (turn.space.platform, turn.space.channel_id)
        ):
            return False
        owner = turn.session.get(Person, run.person_id)
        name = (owner.display_name if owner else None) or "?"
        turn.private = True
        if run.status == RunStatus.ACTIVE:
            turn.say(_l("This one is for {name}: only they can answer it.", name=name))
        else:
            turn.say(_l("That question was for {name}, and it has been answered.", name=name))
        turn.private = False
        return True

    def _turn(self, session: Session, person: Person, event: Event, now: datetime) -> Turn:
        language = people.language_of(session, person)
        return Turn(session, self.engine, person, event.person, event.space, now, event, language)

    def _apologise(self, event: Event) -> None:
        """Tell the person something broke; their earlier answers are safe (rolled back)."""
        try:
            now = self.clock.now()
            with self.store.session() as session:
                if self.inbox.holds(event):
                    inbox.forget(session, event.person.platform, event.event_id)  # answered now
                person, _ = accounts.resolve(session, event.person, now)
                assert person.id is not None
                turn = self._turn(session, person, event, now)
                turn.say(
                    _l(
                        "Sorry, something went wrong on my side. Your earlier answers are "
                        "safe; please try again in a moment."
                    )
                )
                enqueue_outbound(
                    session,
                    turn.outbound,
                    f"err:{event.person.platform}:{event.event_id}",
                    now,
                    waiting=person.id,
                )
        except Exception:
            log.exception("could not even apologise for event %s", event.event_id)

    async def resume(self, ref: PersonRef, space: SpaceRef) -> None:
        """Ask the pending question again (the console does this when it starts)."""
        if await self.store.run(self._resume, ref, space):
            self.kick()

    def _resume(self, ref: PersonRef, space: SpaceRef) -> bool:
        now = self.clock.now()
        with self.store.session() as session:
            identity = self._identity(session, ref)
            run = self.engine.active_run(session, identity.person_id, space) if identity else None
            if run is None:
                return False
            messages = self.engine.reask(session, run, now, ref, _l("Welcome back! We were here:"))
            enqueue_outbound(
                session, messages, f"resume:{run.id}:{uuid.uuid4().hex}", now, identity.person_id
            )
        return True

    @staticmethod
    def _identity(session: Session, ref: PersonRef) -> Identity | None:
        return session.exec(
            select(Identity).where(
                Identity.platform == ref.platform,
                Identity.workspace == ref.workspace,
                Identity.user_id == ref.user_id,
            )
        ).first()

    def language_of(self, ref: PersonRef) -> str:
        """The language Maatje speaks with the person behind `ref` (read only)."""
        with self.store.session() as session:
            identity = self._identity(session, ref)
            person = session.get(Person, identity.person_id) if identity else None
            return people.language_of(session, person) if person else DEFAULT_LANGUAGE

    def spaces_of(self, ref: PersonRef) -> list[SpaceRef]:
        """The group and pair spaces this person is in, on the platform of `ref`."""
        with self.store.session() as session:
            identity = self._identity(session, ref)
            if identity is None:
                return []
            return spaces.spaces_of(session, identity.person_id, ref.platform)

    # -- overview ------------------------------------------------------------------------

    async def home(self, ref: PersonRef) -> Home:
        """A person's overview, read on the store's threads (Slack asks it on the event loop)."""
        return await self.store.run(self._home, ref)

    def _home(self, ref: PersonRef) -> Home:
        with self.store.session() as session:
            identity = self._identity(session, ref)
            person = session.get(Person, identity.person_id) if identity else None
            language = people.language_of(session, person) if person else "en"
            render = lambda text: self.translator.render(text, language)  # noqa: E731
            title = render(_l("Maatje, your mentoring programme"))
            if person is None or person.id is None:
                return Home(title, None, None, (render(_l("Send me a message to get started.")),))
            programme = people.main_programme(session, person.id)
            active = select(FlowRun).where(FlowRun.person_id == person.id, IS_ACTIVE)
            runs = session.exec(active).all()
            tasks = tuple(
                render(flow.title)
                for run in runs
                if (flow := self.engine.flows.get(run.flow)) and flow.title
            )
            return Home(
                title,
                programme.name if programme else None,
                None,
                (*self._to_follow_up(session, person, language), *tasks),
            )

    def _to_follow_up(self, session: Session, person: Person, language: str) -> list[str]:
        """For coordinators only: whom the safety net flagged (docs/safeguarding.md)."""
        coordinated = [p.id or 0 for p in people.coordinated_programmes(session, person.id or 0)]
        if not coordinated:
            return []
        timezone = people.timezone_of(session, person)
        return [
            self.translator.render(
                _l(
                    "Safety net: get in touch with {person} (since {when})",
                    person=safeguarding.name_of(session, alert.person_id),
                    when=alert.raised_at,
                ),
                language,
                timezone,
            )
            for alert in {
                a.person_id: a for a in reversed(safeguarding.open_alerts(session, coordinated))
            }.values()
        ]
