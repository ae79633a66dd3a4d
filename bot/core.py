"""The core: takes a neutral event, runs the command or conversation step, stores the result.

Everything one event causes — the person's new state, the answers, the replies — is committed
in one transaction together with the event's id. A platform that delivers the event again finds
the id and changes nothing; a crash before the commit leaves no trace, so the retry redoes it.

Where the event goes within its turn (a command, an answer, the greeting) is `bot.routing`;
what adapters read about a person outside any event is `bot.home`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot import inbox, outbox, profiles
from bot.adapter import Adapter
from bot.behaviour import Behaviour, CommandSpec, Turn
from bot.clock import Clock
from bot.delivery import Written, enqueue_claimed, enqueue_outbound
from bot.dispatcher import Dispatcher
from bot.domain import OutboxItem, Person
from bot.engine import Engine
from bot.events import Event, PersonRef, SpaceRef
from bot.home import Home, home_of, language_of, spaces_of
from bot.i18n import Translator, _l
from bot.keyed_locks import KeyedLocks
from bot.routing import Router, run_along
from bot.sanitise import clean_event
from bot.services import accounts, people, programmes
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
        self.engine = engine
        self.router = Router(behaviour, engine)
        self.dispatcher = dispatcher
        self.adapters = adapters
        self.auto_dispatch = auto_dispatch
        self._tasks: set[asyncio.Task[int]] = set()
        self._kicked = False
        self._in_order = KeyedLocks()
        lease = timedelta(seconds=dispatcher.settings.claim_lease_seconds)
        self.inbox = inbox.Inbox(store, clock, lease)

    @property
    def commands(self) -> Mapping[str, CommandSpec]:
        """The programme's commands by name (adapters list, register and describe them)."""
        return self.router.commands

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
        # A run that has just ended stays in the set until its done-callback runs, and it
        # will not look again: only a run still going makes a new one unnecessary.
        if any(not task.done() for task in self._tasks):
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
            self.store.serialise(session, event.person.lock_key)
            if self.inbox.holds(event):
                inbox.forget(session, event.person.platform, event.event_id)
            if not outbox.first_sight(session, event.person.platform, event.event_id, now):
                return Handled(Outcome(duplicate=True))
            person, identity = accounts.resolve(
                session, event.person, now, event.space, along=run_along(event)
            )
            programmes.ensure_coordinator_roles(
                session, person, event.person, now, vouched=event.coordinator
            )
            profiles.note_event(session, person, event)
            turn = self._turn(session, person, event, now)
            errors, declined = self.router.route(turn, event)
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
            # After the replies: they go first.
            profiles.plan(session, person, identity, now, self._lookup_turn)
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

    def _lookup_turn(self, ref: PersonRef) -> float:
        """Seconds until `ref`'s platform may look them up (`Adapter.lookup_turn`)."""
        adapter = self.adapters.get(ref.platform)
        return adapter.lookup_turn(ref) if adapter is not None else 0.0

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
            identity = accounts.identity_of(session, ref)
            run = self.engine.active_run(session, identity.person_id, space) if identity else None
            if run is None:
                return False
            messages = self.engine.reask(session, run, now, ref, _l("Welcome back! We were here:"))
            enqueue_outbound(
                session, messages, f"resume:{run.id}:{uuid.uuid4().hex}", now, identity.person_id
            )
        return True

    # -- what adapters read (`bot.home`) -------------------------------------------------

    def language_of(self, ref: PersonRef) -> str:
        """The language Maatje speaks with the person behind `ref` (read only)."""
        return language_of(self.store, ref)

    def spaces_of(self, ref: PersonRef) -> list[SpaceRef]:
        """The group and pair spaces this person is in, on the platform of `ref`."""
        return spaces_of(self.store, ref)

    async def home(self, ref: PersonRef) -> Home:
        """A person's overview, read on the store's threads (Slack asks it on the event loop)."""
        return await self.store.run(home_of, self.store, self.translator, self.engine.flows, ref)
