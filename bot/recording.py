"""Recording how the dispatcher's actions went (`bot.dispatcher`): sent messages done, a
platform action's record, an action given back for a retry.

A sent message is marked done in the dispatcher's next claim, whose transaction records it
(`take`, `mark_sent`, then `recorded`), or on its own when no claim is due (`start`).
Messages sent side by side are recorded together, in one transaction: under load that is
sooner than one transaction each, queued behind one another. The platform has them already,
so a failing database is retried here rather than releasing them (which would send them
again). Until it is recorded a message keeps its claim (the dispatcher renews it), so no
other worker takes it; the crash window is between the send and the record's commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot import outbox
from bot.clock import Clock
from bot.delivery import WIPE_AFTER, enqueue_outbound
from bot.domain import OutboxItem
from bot.engine import Outbound
from bot.faults import crash_point
from bot.store import Store

log = logging.getLogger(__name__)
RECORD_ATTEMPTS = 5
Batch = list[tuple[OutboxItem, asyncio.Future[None]]]
Record = Callable[[Session, datetime], list[Outbound]]
"""What a platform action returns to store what the platform answered (`record_action`)."""


def backoff(attempts: int, hint: float | None = None) -> timedelta:
    """5 s, 10 s, 20 s ... capped at an hour; never sooner than the platform's hint."""
    seconds = min(5 * 2 ** max(attempts - 1, 0), 3600)
    return timedelta(seconds=max(seconds, hint or 0))


def mark_sent(
    connection: Connection, items: Sequence[OutboxItem], worker: str, now: datetime
) -> bool:
    """Record sent messages done in `connection`'s transaction; True when one was a farewell,
    whose commit must be followed by a checkpoint (as `bot.store.wipe_after_commit` asks of
    a session)."""
    if not items:
        return False
    ids = [item.id for item in items if item.id is not None]
    outbox.complete_sent(connection, ids, worker, now)
    return any(item.payload.get(WIPE_AFTER) for item in items)


class Recorder:
    """The sent messages of one dispatcher not recorded yet, and the recording of them on
    their own; the transactions that end other actions (`record_action`, `give_back`,
    `put_back`, run on the store's thread). `release(item_id)`: the dispatcher lets go of a
    recorded message's claim."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        worker: str,
        max_attempts: int,
        release: Callable[[int], None],
    ) -> None:
        self.store = store
        self.clock = clock
        self.worker = worker
        self.max_attempts = max_attempts
        self.release = release
        self.sent: set[int] = set()  # sent, not recorded yet: their claims are kept
        self._unrecorded: Batch = []
        self._task: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> bool:
        """Messages sent and not recorded yet, nor being recorded."""
        return bool(self._unrecorded)

    @property
    def busy(self) -> bool:
        """A recording on its own is under way."""
        return self._task is not None and not self._task.done()

    def add(self, item: OutboxItem) -> asyncio.Future[None]:
        """A message was sent: the future is done once it is recorded."""
        assert item.id is not None
        recorded = asyncio.get_running_loop().create_future()
        self._unrecorded.append((item, recorded))
        self.sent.add(item.id)
        return recorded

    def take(self) -> Batch:
        """The messages for a claim's transaction to record (`mark_sent`); the claim then
        calls `recorded`, or `give_back` when it failed."""
        batch, self._unrecorded = self._unrecorded, []
        return batch

    def retry_alone(self, batch: Batch) -> None:
        """A claim carrying `batch` failed: record it on its own, with retries."""
        self._unrecorded[:0] = batch
        self.start()

    def recorded(self, batch: Batch) -> None:
        for item, recorded in batch:
            self.sent.discard(item.id or 0)
            self.release(item.id or 0)
            crash_point("recorded")
            if not recorded.done():
                recorded.set_result(None)

    def start(self) -> None:
        """Record what waits on its own (no claim is due to carry it)."""
        if not self.busy:
            self._task = asyncio.create_task(self._record_all())

    async def wait(self) -> None:
        """Until a recording on its own under way is done."""
        if self._task is not None and self.busy:
            await asyncio.wait({self._task})

    async def finish(self) -> None:
        """Record everything sent and not recorded yet (before a dispatcher's run ends)."""
        while self._unrecorded or self.busy:
            self.start()
            assert self._task is not None
            await asyncio.shield(self._task)

    async def _record_all(self) -> None:
        while self._unrecorded:
            batch = self.take()
            items = [item for item, _ in batch]
            ids = [item.id for item in items]
            for attempt in range(RECORD_ATTEMPTS):
                try:
                    await self.store.run(self._complete_sent, items)
                    break
                except OperationalError:
                    log.warning("recording sent actions %s failed (attempt %s)", ids, attempt + 1)
                    await asyncio.sleep(0.2 * 2**attempt)
            else:
                log.error("sent actions %s could not be recorded; they may be sent again", ids)
            self.recorded(batch)

    def _complete_sent(self, items: list[OutboxItem]) -> None:
        with self.store.engine.begin() as connection:
            farewell = mark_sent(connection, items, self.worker, self.clock.now())
        if farewell:
            self.store.checkpoint()  # a last message to someone erased: now truly gone

    def record_action(self, item: OutboxItem, record: Record | None) -> None:
        """A platform action was carried out: store what the platform answered, and the
        messages that asks for, with its completion."""
        assert item.id is not None
        now = self.clock.now()
        with self.store.session() as session:
            messages = record(session, now) if record else []
            enqueue_outbound(session, messages, f"msg:{item.idempotency_key}", now)
            outbox.complete(session, item.id, self.worker, now)

    def put_back(self, item_ids: list[int]) -> None:
        """Release claimed actions untried (an earlier one in their lane failed)."""
        with self.store.session() as session:
            outbox.unclaim(session, item_ids, self.worker)

    def give_back(self, item: OutboxItem, error: str, hint: float | None, permanent: bool) -> None:
        """An action failed: due again after its backoff, or dead (`permanent`, or out of
        attempts)."""
        assert item.id is not None
        now = self.clock.now()
        dead = permanent or item.attempts >= self.max_attempts
        retry_at = None if dead else now + backoff(item.attempts, hint)
        if dead:
            log.error("outbox action %s (%s) given up: %s", item.id, item.kind, error)
        else:
            log.info("outbox action %s (%s) retried at %s: %s", item.id, item.kind, retry_at, error)
        with self.store.session() as session:
            outbox.release(session, item.id, self.worker, error, retry_at, now)
