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
system call on each side and a turn of the loop, and at a kick-off the loop is busy while the
thread finishes unit after unit: so the first unit finished wakes the loop at once, and every
unit finished before the loop got round to it rides along on that same wake-up.
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


class _HandBack:
    """Calls on their way to one event loop from the worker's thread: finished units' results
    and whatever else the units asked the loop to do (see the module's docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = weakref.ref(loop)  # weak: the worker keeps these by loop, weakly
        self.lock = threading.Lock()
        self.calls: list[tuple[Callable[..., None], tuple[Any, ...]]] = []

    def add(self, fn: Callable[..., None], *args: Any) -> None:
        """The first call since the last delivery wakes the loop; the others ride along.
        Raises RuntimeError when the loop is closed or gone."""
        with self.lock:
            self.calls.append((fn, args))
            if len(self.calls) > 1:
                return
        loop = self.loop()
        if loop is None:
            raise RuntimeError("the event loop is gone")
        loop.call_soon_threadsafe(self.deliver)

    def deliver(self) -> None:
        """On the loop: make every call added so far, in order; one that raises is reported
        as a callback's error would be, and the others are still made."""
        with self.lock:
            calls, self.calls = self.calls, []
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
        """From the worker's thread: `fn(*args)` on `loop`, in order with the units' results,
        on the same wake-up as the next of them. Raises RuntimeError when `loop` is closed."""
        with self._lock:
            hand_back = self._hand_back(loop)
        hand_back.add(fn, *args)

    def _hand_back(self, loop: asyncio.AbstractEventLoop) -> _HandBack:
        """(Under the lock.)"""
        hand_back = self._hand_backs.get(loop)
        if hand_back is None:
            hand_back = self._hand_backs[loop] = _HandBack(loop)
        return hand_back

    def _work(self) -> None:
        while True:
            _priority, _order, unit = self._queue.get()
            if unit is None:
                return
            waiter, hand_back, fn, args = unit
            if waiter.cancelled():
                continue
            try:
                result, error = fn(*args), None
            except BaseException as exc:
                result, error = None, exc
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
                hand_back.add(_settle, waiter, result, error)
            del unit, waiter, hand_back, result, error  # nothing of it kept while idle
            if self.idle is not None and self._queue.empty():
                self._when_idle(self.idle)

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
