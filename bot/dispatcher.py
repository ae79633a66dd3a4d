"""The dispatcher: claims due outbox actions and carries them out.

A `send` action talks to a platform, outside any transaction, and is marked done right after
the platform accepts it; the gap between the two is the one window in which a crash can repeat
a message. Other *platform actions* (opening a pair space) work the same way and may return a
`Record` that stores what the platform answered, in the transaction that marks them done; they
are idempotent on the platform's side (found again by key), so a repeat does no harm.
Every other kind is a *job*: a function over the store that may produce messages; the job's
effects, its messages and the action's completion commit together, so a job never runs twice
to effect.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from bot import outbox
from bot.adapter import DeliveryError
from bot.claiming import Claimer, Places, Prefetch
from bot.clock import Clock
from bot.config.model import SchedulerConfig
from bot.delivery import SEND, enqueue_outbound
from bot.domain import OutboxItem
from bot.engine import Outbound
from bot.faults import crash_point
from bot.horizon import Horizon
from bot.pacing import URGENT, prioritised
from bot.recording import Record, Recorder
from bot.store import Store

log = logging.getLogger(__name__)
_JOBS = "jobs"  # the chain of the jobs claimed together

Job = Callable[[Session, OutboxItem, datetime], list[Outbound]]
Send = Callable[[OutboxItem], Awaitable[None]]
Action = Callable[[OutboxItem], Awaitable[Record | None]]


class Dispatcher:
    """Carries out due actions, many at once (`settings.batch_size` at most).

    Actions in different lanes go out concurrently, so three hundred people's replies wait for
    their platform's limits side by side instead of one after another; one lane (one person's
    chat, one space) never has more than one action under way, which keeps its order. Urgent
    actions are claimed first, and bulk work may fill at most `BULK_SHARE` of the places, so a
    reply someone waits for always finds one; of the bulk work, jobs go first (one chain at a
    time), then messages, then other actions.
    Each action runs with its priority set (`bot.pacing.prioritised`): adapters' pacers serve
    urgent calls first.
    """

    BULK_SHARE = 0.75
    OTHER_PLACES = 4
    """Slow platform actions (not messages, not jobs) under way at once. Jobs, which work on
    the store's one or two threads, go one after another (more at once would only queue
    there, ahead of the transactions of people's events), in due order, claimed together: a
    backlog of a thousand reminders costs a few claims, not one per job."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        send: Send,
        jobs: Mapping[str, Job],
        settings: SchedulerConfig,
        worker: str | None = None,
        actions: Mapping[str, Action] | None = None,
        prefetch: Prefetch | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.send = send
        self.prefetch = prefetch
        self.jobs = dict(jobs)
        self.actions = dict(actions or {})
        self.settings = settings
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self.places = max(1, settings.batch_size)
        self.bulk_places = max(1, int(self.places * self.BULK_SHARE))
        self._lock = asyncio.Lock()
        self._signal = asyncio.Event()  # new work, an action done: the run looks again
        self._woken = self._urgent_done = self._bulk_done = False
        self._jobs_wrote = False  # a job of the chain under way wrote work due at once
        self._held: dict[int, OutboxItem] = {}
        self._held_until = datetime.min.replace(tzinfo=UTC)
        self._lost: set[int] = set()
        self._handed: list[OutboxItem] = []
        self._running: dict[asyncio.Task[None], list[OutboxItem]] | None = None
        self._jobs_chain: asyncio.Task[None] | None = None
        self._taken = 0
        self._waiting_lanes: set[str] = set()
        self.recorder = Recorder(
            store, clock, self.worker, settings.max_attempts, lambda i: self._held.pop(i, None)
        )
        self.horizon = Horizon(store.engine, timedelta(seconds=self._period))
        """When a claim can next find work: claims that cannot are not made."""
        self.claimer = Claimer(store, clock, self.worker, self.jobs, self.horizon, prefetch)

    @property
    def busy(self) -> bool:
        """A run is going (more runs would only wait for it)."""
        return self._lock.locked()

    def wake(self) -> None:
        """New work was written: a run under way claims again at once."""
        self._woken = True
        self._signal.set()

    def claim_written(
        self, session: Session, write: Callable[[str, datetime], list[OutboxItem]], now: datetime
    ) -> list[OutboxItem]:
        """In the transaction that writes them: a turn's replies, the urgent ones that may go
        now written already claimed by this worker (`write(worker, until)`, e.g.
        `delivery.enqueue_claimed`), so they go out right after its commit (`hand_over`)
        without a claim of their own, which under load waits its turn on the store's thread;
        what they need to be sent is read here too (`prefetch`). The messages sent and not
        recorded yet (the previous turn's reply) are recorded first, in this transaction
        (`Recorder.carry`): a reply in the same lane may then go at once. `session` is a
        `Store.session`, which settles what it carried when it ends."""
        self.recorder.carry(session)
        items = write(self.worker, now + self._lease)
        if items and self.prefetch is not None:
            self.prefetch(session, items)
        return items

    def hand_over(self, items: list[OutboxItem], waiting: Iterable[str] = ()) -> None:
        """Carry out these actions, claimed already (`claim_written`), at once: a run under
        way starts them now, even while it waits for a claim on the store's busy thread;
        else the next run does, first thing. In `waiting` lanes a message waits for an
        earlier one: when one under way here is done, claim. A waiting lane none of `items`
        is in may have finished its earlier message already (after the transaction saw it
        unfinished): claim at once too."""
        waiting = set(waiting)
        self._waiting_lanes.update(waiting)
        if waiting - {item.lane for item in items}:
            self._woken = True
        if items and self._running is not None:
            self._start(items, self._running, handed=True)
        else:
            self._handed.extend(items)
        if items or self._woken:
            self._signal.set()

    async def run_due(self, claim: bool = True) -> int:
        """Carry out what was handed over, everything due now and what becomes due meanwhile;
        returns how many actions were taken. `claim=False`: no claim to start with, only when
        new work is written (`wake`) — a run started for handed-over replies."""
        async with self._lock:
            running: dict[asyncio.Task[None], list[OutboxItem]] = {}
            self._running, self._taken = running, 0
            try:
                await self._run(running, claim or self._woken)
                return self._taken
            finally:
                self._running = None  # what is handed over from now on waits for a run
                if running:  # an error claiming: let what is under way finish and be recorded
                    await asyncio.gather(*running, return_exceptions=True)
                await self.recorder.finish()
                self._held.clear()
                self.recorder.sent.clear()

    async def _run(self, running: dict[asyncio.Task[None], list[OutboxItem]], claim: bool) -> None:
        period = self._period
        loop = asyncio.get_running_loop()
        claimed_at = loop.time()
        while True:
            self._signal.clear()
            if self._handed:
                handed, self._handed = self._handed, []
                self._start(handed, running, handed=True)
            claimed = 0
            if claim:
                self._woken = self._urgent_done = self._bulk_done = False
                claimed_at = loop.time()
                claimed = await self._claim_more(running)
            elif self.recorder.waiting:
                self.recorder.start()  # no claim due: record them on their own
            # Work that finished while the claim ran may have freed a lane the claim saw busy.
            finished = self._urgent_done or self._bulk_done
            if not (running or self._handed or claimed or self._woken or finished):
                if self.recorder.waiting or self.recorder.busy:
                    await self.recorder.finish()
                    claim = self._woken
                    continue  # look again: work may have come meanwhile
                self._waiting_lanes.clear()  # nothing here to wait for: claims will find them
                return
            timed_out = False
            try:
                async with asyncio.timeout(period):
                    await self._signal.wait()
            except TimeoutError:
                timed_out = True
            self._keep_claims()
            # Claim again at once when new work was written, or a claimed urgent action is
            # done (its lane may hold the next message of a reply); when claimed bulk work
            # has left half the places free (a backlog goes in large claims, not row by row);
            # and at least every `period`, as what is due changes with time.
            claim = (
                timed_out
                or self._woken
                or self._urgent_done
                or (self._bulk_done and self._in_flight(running) <= self.places // 2)
                or loop.time() - claimed_at >= period
            )

    @property
    def _lease(self) -> timedelta:
        return timedelta(seconds=self.settings.claim_lease_seconds)

    @property
    def _period(self) -> float:
        """Seconds between claims while a run waits: what is due changes with time."""
        return min(self.settings.tick_seconds, self._lease.total_seconds() / 4)

    def _in_flight(self, running: dict[asyncio.Task[None], list[OutboxItem]]) -> int:
        """Places taken: each action under way, the chain of jobs as one."""
        return sum(1 if task is self._jobs_chain else len(chain) for task, chain in running.items())

    async def _claim_more(self, running: dict[asyncio.Task[None], list[OutboxItem]]) -> int:
        """Claim what the free places allow, in a transaction that first records the messages
        sent since the last one (`_record_sent`): the lanes they free are claimed at once."""
        free = self.places - self._in_flight(running)
        now = self.clock.now()
        if free <= 0 or not self.horizon.may_find(now):
            if self.recorder.waiting:
                self.recorder.start()
            return 0
        jobs_busy = self._jobs_chain is not None
        flying = [
            item
            for task, chain in running.items()
            if task is not self._jobs_chain
            for item in chain
            if item.priority != URGENT
        ]
        bulk = max(0, self.bulk_places - len(flying) - jobs_busy)
        others = max(0, self.OTHER_PLACES - sum(1 for i in flying if i.kind != SEND))
        # One chain of jobs at a time: while one runs, jobs due wait for it, and the other
        # bulk work waits for them (claims.claim); urgent work is claimed all the same.
        jobs = 0 if jobs_busy else self.bulk_places
        # Messages being recorded on their own may free lanes this claim is to find: on
        # PostgreSQL the two transactions would otherwise run side by side.
        await self.recorder.wait()
        batch = self.recorder.take()
        sent = [item for item, _ in batch]
        places = Places(free, bulk, others, jobs)
        try:
            items = await self.store.run(self.claimer.claim, now, self._lease, places, sent)
        except Exception:
            self.recorder.retry_alone(batch)
            raise
        self.recorder.recorded(batch)
        self._start(items, running, handed=False)
        return len(items)

    def _start(
        self,
        items: list[OutboxItem],
        running: dict[asyncio.Task[None], list[OutboxItem]],
        handed: bool,
    ) -> None:
        """One task per lane: a lane's actions (a handed-over reply of several messages) go
        one after another, different lanes side by side; jobs one after another too."""
        if items:
            crash_point("claimed")
            until = min(item.claimed_until or self.clock.now() for item in items)
            self._held_until = min(self._held_until, until) if self._held else until
            self._taken += len(items)
        chains: dict[object, list[OutboxItem]] = {}
        for item in items:
            assert item.id is not None
            self._held[item.id] = item
            chain = item.lane or (_JOBS if item.kind in self.jobs else item.id)
            chains.setdefault(chain, []).append(item)
        for key, chain in chains.items():
            task = asyncio.create_task(self._carry_out_chain(chain))
            running[task] = chain
            if key == _JOBS:
                self._jobs_chain = task
            task.add_done_callback(lambda done: self._finished(done, running.pop(done), handed))

    def _finished(self, task: asyncio.Task[None], chain: list[OutboxItem], handed: bool) -> None:
        if task is self._jobs_chain:
            self._jobs_chain = None
        lane = chain[0].lane
        if lane in self._waiting_lanes:
            self._waiting_lanes.discard(lane)
            self._urgent_done = True
        elif not handed:
            if any(item.priority == URGENT for item in chain):
                self._urgent_done = True
            else:
                self._bulk_done = True
        self._signal.set()

    async def _carry_out_chain(self, chain: list[OutboxItem]) -> None:
        for position, item in enumerate(chain):
            assert item.id is not None
            try:
                self._keep_claims()
                if item.id in self._lost:
                    log.warning("outbox action %s was taken over; not carrying it out", item.id)
                    done = False
                else:
                    with prioritised(item.priority):
                        done = await self._carry_out(item, last=position + 1 == len(chain))
            finally:
                if item.id not in self.recorder.sent:
                    self._held.pop(item.id, None)
                self._lost.discard(item.id)
            if not done and item.lane and position + 1 < len(chain):  # the rest waits for it
                later = chain[position + 1 :]
                await self.store.run(
                    self.recorder.put_back, [i.id for i in later if i.id is not None]
                )
                for other in later:
                    self._held.pop(other.id or 0, None)
                return
        if chain[0].kind in self.jobs and self._jobs_wrote:  # claim what the jobs wrote
            self._jobs_wrote = False
            self.wake()

    def _keep_claims(self) -> None:
        """Renew the claims under way once half the lease is gone (paced sends take time, a
        busy process may stall); claims another process took over meanwhile go to `_lost`."""
        now, lease = self.clock.now(), self._lease
        if self._held_until - now > lease / 2:
            return
        ids = [i for i in self._held if i not in self._lost]
        if ids:
            with self.store.session() as session:
                held = outbox.renew(session, ids, self.worker, now + lease)
            self._lost.update(set(ids) - held)
        self._held_until = now + lease

    async def _carry_out(self, item: OutboxItem, last: bool = True) -> bool:
        """Carry out one action; False when it was given back (it failed). A message that is
        not the `last` of its chain is recorded before the next one in its lane goes out."""
        assert item.id is not None
        try:
            if item.kind == SEND:
                await self.send(item)
                crash_point("sent")
                await self._record_sent(item, wait=not last)
            elif item.kind in self.actions:
                record = await self.actions[item.kind](item)
                crash_point("sent")
                await self.store.run(self.recorder.record_action, item, record)
            elif await self.store.run(self._run_job, item):
                # Its messages go when the chain ends: while more jobs are due a claim takes
                # none of them (`claims.claim`), so a claim after every job of a long chain
                # would mostly find nothing and only cost the store's thread.
                self._jobs_wrote = True
            if item.kind != SEND:  # a message's is passed when it is recorded (`_recorded`)
                crash_point("recorded")
            return True
        except DeliveryError as exc:
            error, hint, permanent = str(exc), exc.retry_after, exc.permanent
            await self.store.run(self.recorder.give_back, item, error, hint, permanent)
        except Exception as exc:  # a bug in a job must not stop the dispatcher
            log.exception("outbox action %s (%s) failed", item.id, item.kind)
            error = f"{type(exc).__name__}: {exc}"
            await self.store.run(self.recorder.give_back, item, error, None, False)
        return False

    async def _record_sent(self, item: OutboxItem, wait: bool) -> None:
        """Mark a sent message done (`bot.recording`): in the run's next claim, which the end
        of the message's chain brings at once (`_finished`), or on its own when no claim is
        due. `wait`: until it is recorded (a later message in its lane waits for that, so a
        crash repeats at most one message per lane)."""
        recorded = self.recorder.add(item)
        if self._running is None:
            self.recorder.start()  # no run to take it (one ending after an error)
        elif wait:
            self._signal.set()
            await recorded
        # else the end of its chain wakes the run (`_finished`), deciding first whether to claim

    def _run_job(self, item: OutboxItem) -> bool:
        """Run a job and record it done; True when it wrote work due at once."""
        assert item.id is not None
        job = self.jobs.get(item.kind)
        if job is None:
            raise LookupError(f"no job for outbox kind {item.kind!r}")
        now = self.clock.now()
        with self.store.session() as session:
            self.recorder.carry(session)
            messages = job(session, item, now)
            enqueue_outbound(session, messages, f"msg:{item.idempotency_key}", now)
            if not outbox.complete(session, item.id, self.worker, now):
                raise RuntimeError("claim lost before the job finished")
            return outbox.wrote_bulk_due(session)
