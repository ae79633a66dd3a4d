"""The threads the store runs its blocking work on, off the event loop.

Both kinds below offer the same three things: `run` a unit (urgently or not), `call_soon` on
the loop from inside a unit, `shutdown`. `PoolWorkers` serve PostgreSQL; `PriorityWorker`,
SQLite.

SQLite: one worker thread that runs urgent work before whatever else is queued.

SQLite takes one writer at a time, so the store runs all its work on one thread. Recording an
event before the platform's acknowledgement (`bot.inbox`) must not wait behind a queue of
events the core has still to handle, and a second thread would not help: it would wait for
SQLite's write lock, which the first thread takes again right after every commit. So urgent
work goes to the front of the one queue and waits at most for the unit running at that moment.

When the queue runs empty the worker calls `idle`, if set: the store checkpoints SQLite's
write-ahead log there (`HeldConnection.checkpoint_after`), at a moment no event waits for it.

Results go back to the event loop in batches. Waking the loop from another thread costs a
system call on each side, a turn of the loop and, as the two threads take turns on one
interpreter lock, a switch between them. While more work is queued, a finished unit's result
waits for the units after it, up to `HOLD_AT_MOST` of them: at a kick-off the turns of a
crowd come back several at a time instead of one by one. A result goes back at once when
nothing else is queued (someone alone is never kept waiting), when its unit was urgent (an
event's recording, which Slack's acknowledgement waits for), or when `HOLD_AT_MOST` results
are waiting. Results held back wait for at most the units that follow, one of which may be
long (a poll written for a thousand people); a delivery already on its way takes along
whatever finished before the loop got round to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import queue
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)
URGENT, NORMAL = 0, 1
_STOP = NORMAL + 1  # after all queued work
HOLD_AT_MOST = 8
"""Results of finished units that may wait for the units queued after them (module docstring)."""


class _HandBack:
    """Calls on their way to one event loop from the worker's thread: finished units' results
    and whatever else the units asked the loop to do (see the module's docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = weakref.ref(loop)  # weak: the worker keeps these by loop, weakly
        self.lock = threading.Lock()
        self.calls: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        self.woken = False  # a delivery is on its way

    def add(self, fn: Callable[..., None], *args: Any) -> None:
        """`fn(*args)` on the loop, with the next delivery (`wake`). Raises RuntimeError when
        the loop is closed or gone."""
        loop = self.loop()
        if loop is None or loop.is_closed():
            raise RuntimeError("the event loop is closed")
        with self.lock:
            self.calls.append((fn, args))

    def wake(self) -> None:
        """Have the loop make the calls added so far, unless a delivery is on its way already
        (it takes them along). Raises RuntimeError when the loop is closed or gone."""
        with self.lock:
            if self.woken or not self.calls:
                return
            self.woken = True
        loop = self.loop()
        if loop is None:
            raise RuntimeError("the event loop is gone")
        loop.call_soon_threadsafe(self.deliver)

    def deliver(self) -> None:
        """On the loop: make every call added so far, in order; one that raises is reported
        as a callback's error would be, and the others are still made."""
        with self.lock:
            calls, self.calls = self.calls, []
            self.woken = False
        for fn, args in calls:
            try:
                fn(*args)
            except Exception as exc:
                asyncio.get_running_loop().call_exception_handler(
                    {
                        "message": f"a call handed back by the store's thread failed: {fn!r}",
                        "exception": exc,
                    }
                )


def _settle(waiter: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if waiter.cancelled():
        return
    if error is None:
        waiter.set_result(result)
    else:
        waiter.set_exception(error)


class PriorityWorker:
    def __init__(self, name: str) -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, Any]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._closed = False
        self._lock = threading.Lock()
        self._hand_backs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _HandBack] = (
            weakref.WeakKeyDictionary()
        )
        self.idle: Callable[[], None] | None = None
        """Called on the worker's thread after a unit, when nothing else is queued."""
        self.thread = threading.Thread(target=self._work, name=name, daemon=True)
        self.thread.start()

    async def run(self, fn: Callable[..., T], *args: Any, urgent: bool = False) -> T:
        """Run `fn(*args)` on the worker's thread; its result, or what it raised, comes back
        here. Cancelled while still queued, it never runs; once running, it runs to its end."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new work after shutdown")
            unit = (waiter, self._hand_back(loop), fn, args)
            self._queue.put((URGENT if urgent else NORMAL, next(self._order), unit))
        return await waiter

    def call_soon(
        self, loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any
    ) -> None:
        """`fn(*args)` on `loop`. From a unit on the worker's thread: before that unit's result,
        on the same wake-up; from any other thread, at once. Raises RuntimeError when `loop` is
        closed."""
        with self._lock:
            hand_back = self._hand_back(loop)
        hand_back.add(fn, *args)
        if threading.get_ident() != self.thread.ident:  # no unit's result to ride along with
            hand_back.wake()

    def _hand_back(self, loop: asyncio.AbstractEventLoop) -> _HandBack:
        """(Under the lock.)"""
        hand_back = self._hand_backs.get(loop)
        if hand_back is None:
            hand_back = self._hand_backs[loop] = _HandBack(loop)
        return hand_back

    def _work(self) -> None:
        held: set[_HandBack] = set()  # with results not delivered yet
        count = 0  # of those results
        while True:
            priority, _order, unit = self._queue.get()
            if unit is None:
                self._wake_all(held)
                return
            waiter, hand_back, fn, args = unit
            if not waiter.cancelled():
                try:
                    result, error = fn(*args), None
                except BaseException as exc:
                    result, error = None, exc
                with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                    hand_back.add(_settle, waiter, result, error)
                    held.add(hand_back)
                    count += 1
                del result, error
            del unit, waiter, hand_back  # nothing of it kept while idle
            idle = self._queue.empty()
            if idle or priority == URGENT or count >= HOLD_AT_MOST:
                self._wake_all(held)
                count = 0
            if idle and self.idle is not None:
                self._when_idle(self.idle)

    @staticmethod
    def _wake_all(held: set[_HandBack]) -> None:
        """Send the results held so far on their way, and hold none."""
        for hand_back in held:
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
                hand_back.wake()
        held.clear()

    @staticmethod
    def _when_idle(idle: Callable[[], None]) -> None:
        try:
            idle()
        except Exception:  # the worker must go on; the next idle moment tries again
            log.exception("store worker: the idle task failed")

    def shutdown(self, wait: bool = True) -> None:
        """Refuse new work; the work already queued still runs."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put((_STOP, next(self._order), None))
        if wait:
            self.thread.join()


class PoolWorkers:
    """PostgreSQL: units on a pool of `threads` threads, so one unit's round trips to the
    server do not hold up the next; urgent ones on a thread of their own, never behind them."""

    def __init__(self, name: str, threads: int) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix=name)
        self._urgent = ThreadPoolExecutor(1, thread_name_prefix=f"{name}-urgent")

    async def run(self, fn: Callable[..., T], *args: Any, urgent: bool = False) -> T:
        executor = self._urgent if urgent else self._pool
        return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)

    def call_soon(
        self, loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any
    ) -> None:
        loop.call_soon_threadsafe(fn, *args)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)
        self._urgent.shutdown(wait=wait)
