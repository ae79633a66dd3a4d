"""Recording how the dispatcher's actions went (`bot.dispatcher`): sent messages done, a
platform action's record, an action given back for a retry.

A sent message is marked done in the first transaction that takes it (`take`, `mark_sent`,
then `recorded` once it has committed): the dispatcher's next claim; on SQLite, the next
turn's or job's, which runs anyway (`carry`); else one of its own (`start`), which takes what
waits only when it runs on the store's thread, so one queued behind a turn that carried the
message costs no transaction. A turn carries them before it writes its replies: a reply whose
lane the record frees is claimed with the turn, in its place among the turn's others (written
after the record, it would wait for a later claim, and a message the record let go in another
lane would overtake it). Messages sent side by side are recorded together, in one
transaction. The platform has them already, so a transaction carrying them that fails has
them recorded on their own, retried, rather than released (which would send them again).
Until it is recorded a message keeps its claim (the dispatcher renews it), so no other worker
takes it, and a run waits for every recording under way before it claims or ends; the crash
window is between the send and the record's commit.
"""

from __future__ import annotations

import asyncio
import logging
import threading
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
from bot.store import Store, settle_after, wipe_after_commit

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
    """The sent messages of one dispatcher not recorded yet, and the recording of them: in a
    transaction that runs anyway (`carry`), else on their own; the transactions that end
    other actions (`record_action`, `give_back`, `put_back`, run on the store's thread).
    `release(item_id)`: the dispatcher lets go of a recorded message's claim.

    A batch is taken (`take`, on any thread) by one transaction, and settled on the event
    loop once that transaction is over: `recorded`, or `retry_alone` when it failed. Until
    then it is being recorded (`busy`): a run waits for it before it claims or ends."""

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
        self.rides = store.dialect == "sqlite"
        """Whether other units' transactions carry sent messages (`carry`): on SQLite's one
        store thread they run one after another, so a claim queued after one sees what it
        recorded. On PostgreSQL a turn's transaction could run beside a claim, which would
        not see the lanes it frees."""
        self.sent: set[int] = set()  # sent, not recorded yet: their claims are kept
        self._lock = threading.Lock()
        self._unrecorded: Batch = []
        self._taken: list[Batch] = []  # being recorded by a transaction
        self._idle: list[asyncio.Future[None]] = []  # waiting until `_taken` is empty
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> bool:
        """Messages sent and not recorded yet, nor being recorded."""
        return bool(self._unrecorded)

    @property
    def busy(self) -> bool:
        """A recording is under way: on its own, or in a transaction that took a batch."""
        return bool(self._taken) or (self._task is not None and not self._task.done())

    def add(self, item: OutboxItem) -> asyncio.Future[None]:
        """A message was sent: the future is done once it is recorded."""
        assert item.id is not None
        self._loop = asyncio.get_running_loop()
        recorded = self._loop.create_future()
        with self._lock:
            self._unrecorded.append((item, recorded))
        self.sent.add(item.id)
        return recorded

    def take(self) -> Batch:
        """The messages for a transaction to record (`mark_sent`), on any thread; once it is
        over, `recorded` (committed) or `retry_alone` (failed) is called on the event loop."""
        with self._lock:
            batch, self._unrecorded = self._unrecorded, []
            if batch:
                self._taken.append(batch)
        return batch

    def carry(self, session: Session) -> None:
        """Record what was sent and not recorded yet in `session`'s transaction, a unit of
        work that runs anyway (a turn, a job), on the store's thread: under load the
        previous turn's reply is sent while the next turn waits there, and its recording
        on its own would wait behind that turn. Settled when the session ends
        (`store.settle_after`): recorded once it commits, recorded on its own if it fails."""
        if not self.rides or not self._unrecorded:
            return
        batch = self.take()
        if not batch:
            return
        items = [item for item, _ in batch]
        if mark_sent(session.connection(), items, self.worker, self.clock.now()):
            wipe_after_commit(session)
        settle_after(
            session,
            lambda: self._on_loop(self.recorded, batch),
            lambda: self._on_loop(self.retry_alone, batch),
        )

    def _on_loop(self, settle: Callable[[Batch], None], batch: Batch) -> None:
        assert self._loop is not None
        try:
            self.store.call_on_loop(self._loop, settle, batch)
        except RuntimeError:  # the loop has closed: the process is going down
            ids = [item.id for item, _ in batch]
            log.warning("sent actions %s were recorded with no dispatcher left to tell", ids)

    def retry_alone(self, batch: Batch) -> None:
        """A transaction carrying `batch` failed: record it on its own, with retries."""
        with self._lock:
            self._untake(batch)
            self._unrecorded[:0] = batch
        self._wake_idle()
        self.start()

    def recorded(self, batch: Batch) -> None:
        with self._lock:
            self._untake(batch)
        self._wake_idle()
        for item, recorded in batch:
            self.sent.discard(item.id or 0)
            self.release(item.id or 0)
            crash_point("recorded")
            if not recorded.done():
                recorded.set_result(None)

    def _untake(self, batch: Batch) -> None:
        """`batch` is no longer being recorded (under the lock)."""
        self._taken = [taken for taken in self._taken if taken is not batch]

    def _wake_idle(self) -> None:
        """On the event loop: those waiting (`wait`) go on once nothing is being recorded."""
        with self._lock:
            if self._taken:
                return
            idle, self._idle = self._idle, []
        for waiter in idle:
            if not waiter.done():
                waiter.set_result(None)

    def start(self) -> None:
        """Record what waits on its own (no claim is due to carry it)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._record_all())

    async def wait(self) -> None:
        """Until no recording is under way (on its own, or in a transaction carrying one)."""
        while self.busy:
            if self._task is not None and not self._task.done():
                await asyncio.wait({self._task})
                continue
            idle = asyncio.get_running_loop().create_future()
            with self._lock:
                if not self._taken:
                    continue
                self._idle.append(idle)
            await idle

    async def finish(self) -> None:
        """Record everything sent and not recorded yet (before a dispatcher's run ends)."""
        while self._unrecorded or self.busy:
            if self._unrecorded:
                self.start()
            await asyncio.shield(self.wait())

    async def _record_all(self) -> None:
        """Record what waits, in transactions of their own: each takes what waits when it
        runs on the store's thread, so what a transaction queued before it (a turn) carried
        costs it nothing."""
        while self._unrecorded:
            for attempt in range(RECORD_ATTEMPTS):
                try:
                    batch = await self.store.run(self._complete_sent)
                    break
                except OperationalError:
                    ids = [item.id for item, _ in self._unrecorded]
                    log.warning("recording sent actions %s failed (attempt %s)", ids, attempt + 1)
                    await asyncio.sleep(0.2 * 2**attempt)
            else:
                batch = self.take()
                ids = [item.id for item, _ in batch]
                log.error("sent actions %s could not be recorded; they may be sent again", ids)
            self.recorded(batch)

    def _complete_sent(self) -> Batch:
        """On the store's thread: record what waits now; put it back if that fails."""
        batch = self.take()
        if not batch:
            return batch
        items = [item for item, _ in batch]
        try:
            with self.store.transaction() as connection:
                farewell = mark_sent(connection, items, self.worker, self.clock.now())
        except BaseException:
            with self._lock:
                self._untake(batch)
                self._unrecorded[:0] = batch
            raise
        if farewell:
            self.store.checkpoint()  # a last message to someone erased: now truly gone
        return batch

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
