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
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot import outbox
from bot.adapter import DeliveryError
from bot.clock import Clock
from bot.config import SchedulerConfig
from bot.delivery import SEND, enqueue_outbound
from bot.domain import OutboxItem
from bot.engine import Outbound
from bot.faults import crash_point
from bot.pacing import URGENT, prioritised
from bot.store import Store

log = logging.getLogger(__name__)
RECORD_ATTEMPTS = 5

Job = Callable[[Session, OutboxItem, datetime], list[Outbound]]
Send = Callable[[OutboxItem], Awaitable[None]]
Record = Callable[[Session, datetime], list[Outbound]]
Action = Callable[[OutboxItem], Awaitable[Record | None]]
Prefetch = Callable[[Session, list[OutboxItem]], None]
"""Reads what `send` will need for a claimed batch, in the claim's transaction."""


def backoff(attempts: int, hint: float | None = None) -> timedelta:
    """5 s, 10 s, 20 s ... capped at an hour; never sooner than the platform's hint."""
    seconds = min(5 * 2 ** max(attempts - 1, 0), 3600)
    return timedelta(seconds=max(seconds, hint or 0))


class Dispatcher:
    """Carries out due actions, many at once (`settings.batch_size` at most).

    Actions in different lanes go out concurrently, so three hundred people's replies wait for
    their platform's limits side by side instead of one after another; one lane (one person's
    chat, one space) never has more than one action under way, which keeps its order. Urgent
    actions are claimed first, and bulk work may fill at most `BULK_SHARE` of the places, so a
    reply someone waits for always finds one. Each action runs with its priority set
    (`bot.pacing.prioritised`): adapters' pacers serve urgent calls first.
    """

    BULK_SHARE = 0.75

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
        self._wake = asyncio.Event()
        self._held: dict[int, OutboxItem] = {}
        self._held_until = datetime.min.replace(tzinfo=UTC)
        self._lost: set[int] = set()

    @property
    def busy(self) -> bool:
        """A run is going (more runs would only wait for it)."""
        return self._lock.locked()

    def wake(self) -> None:
        """New work was written: a run under way claims again at once."""
        self._wake.set()

    async def run_due(self) -> int:
        """Carry out everything due now (and what becomes due meanwhile); returns how many
        actions were taken."""
        async with self._lock:
            running: dict[asyncio.Task[None], OutboxItem] = {}
            try:
                return await self._run(running)
            finally:
                if running:  # an error claiming: let what is under way finish and be recorded
                    await asyncio.gather(*running, return_exceptions=True)
                self._held.clear()

    async def _run(self, running: dict[asyncio.Task[None], OutboxItem]) -> int:
        lease = timedelta(seconds=self.settings.claim_lease_seconds)
        taken = 0
        while True:
            self._wake.clear()
            items: list[OutboxItem] = []
            free = self.places - len(running)
            if free > 0:
                bulk = sum(1 for item in running.values() if item.priority != URGENT)
                now = self.clock.now()
                items = await self.store.run(
                    self._claim, now, lease, free, max(0, self.bulk_places - bulk)
                )
                if items:
                    crash_point("claimed")
                    if not self._held:
                        self._held_until = now + lease
                    for item in items:
                        assert item.id is not None
                        self._held[item.id] = item
                        running[asyncio.create_task(self._carry_out_held(item, lease))] = item
                    taken += len(items)
            if not running:
                return taken
            # Wait for a place to come free, for new work (`wake`), or for time to pass (what
            # is due changes, claims need renewing).
            waker = asyncio.create_task(self._wake.wait())
            done, _ = await asyncio.wait(
                [*running, waker],
                timeout=min(self.settings.tick_seconds, lease.total_seconds() / 4),
                return_when=asyncio.FIRST_COMPLETED,
            )
            waker.cancel()
            for task in done - {waker}:
                del running[task]  # type: ignore[arg-type]
            self._keep_claims(lease)

    async def _carry_out_held(self, item: OutboxItem, lease: timedelta) -> None:
        assert item.id is not None
        try:
            self._keep_claims(lease)
            if item.id in self._lost:
                log.warning("outbox action %s was taken over; not carrying it out", item.id)
                return
            with prioritised(item.priority):
                await self._carry_out(item)
        finally:
            self._held.pop(item.id, None)
            self._lost.discard(item.id)

    def _complete(self, item_id: int) -> None:
        with self.store.session() as session:
            outbox.complete(session, item_id, self.worker, self.clock.now())

    def _claim(
        self, now: datetime, lease: timedelta, limit: int, bulk_limit: int
    ) -> list[OutboxItem]:
        with self.store.session() as session:
            items = outbox.claim(session, self.worker, now, lease, limit, bulk_limit)
            if items and self.prefetch is not None:
                self.prefetch(session, items)
            return items

    def _keep_claims(self, lease: timedelta) -> None:
        """Renew the claims under way once half the lease is gone (paced sends take time, a
        busy process may stall); claims another process took over meanwhile go to `_lost`."""
        now = self.clock.now()
        if self._held_until - now > lease / 2:
            return
        ids = [i for i in self._held if i not in self._lost]
        if ids:
            with self.store.session() as session:
                held = outbox.renew(session, ids, self.worker, now + lease)
            self._lost.update(set(ids) - held)
        self._held_until = now + lease

    async def _carry_out(self, item: OutboxItem) -> None:
        assert item.id is not None
        try:
            if item.kind == SEND:
                await self.send(item)
                crash_point("sent")
                await self._record_sent(item)
            elif item.kind in self.actions:
                record = await self.actions[item.kind](item)
                crash_point("sent")
                await self.store.run(self._record, item, record)
            else:
                await self.store.run(self._run_job, item)
            crash_point("recorded")
        except DeliveryError as exc:
            await self.store.run(self._give_back, item, str(exc), exc.retry_after, exc.permanent)
        except Exception as exc:  # a bug in a job must not stop the dispatcher
            log.exception("outbox action %s (%s) failed", item.id, item.kind)
            await self.store.run(self._give_back, item, f"{type(exc).__name__}: {exc}", None, False)

    async def _record_sent(self, item: OutboxItem) -> None:
        """Mark a sent message done. The platform already has it, so a failing database is
        retried here rather than releasing the action (which would send it again)."""
        assert item.id is not None
        for attempt in range(RECORD_ATTEMPTS):
            try:
                await self.store.run(self._complete, item.id)
                return
            except OperationalError:
                log.warning("recording sent action %s failed (attempt %s)", item.id, attempt + 1)
                await asyncio.sleep(0.2 * 2**attempt)
        log.error("sent action %s could not be recorded; it may be sent again", item.id)

    def _record(self, item: OutboxItem, record: Record | None) -> None:
        assert item.id is not None
        now = self.clock.now()
        with self.store.session() as session:
            messages = record(session, now) if record else []
            enqueue_outbound(session, messages, f"msg:{item.idempotency_key}", now)
            outbox.complete(session, item.id, self.worker, now)

    def _run_job(self, item: OutboxItem) -> None:
        assert item.id is not None
        job = self.jobs.get(item.kind)
        if job is None:
            raise LookupError(f"no job for outbox kind {item.kind!r}")
        now = self.clock.now()
        with self.store.session() as session:
            messages = job(session, item, now)
            enqueue_outbound(session, messages, f"msg:{item.idempotency_key}", now)
            if not outbox.complete(session, item.id, self.worker, now):
                raise RuntimeError("claim lost before the job finished")

    def _give_back(self, item: OutboxItem, error: str, hint: float | None, permanent: bool) -> None:
        assert item.id is not None
        now = self.clock.now()
        dead = permanent or item.attempts >= self.settings.max_attempts
        retry_at = None if dead else now + backoff(item.attempts, hint)
        if dead:
            log.error("outbox action %s (%s) given up: %s", item.id, item.kind, error)
        else:
            log.info("outbox action %s (%s) retried at %s: %s", item.id, item.kind, retry_at, error)
        with self.store.session() as session:
            outbox.release(session, item.id, self.worker, error, retry_at, now)
