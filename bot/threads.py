"""One worker thread that runs urgent work before whatever else is queued.

SQLite takes one writer at a time, so the store runs all its work on one thread. Recording an
event before the platform's acknowledgement (`bot.inbox`) must not wait behind a queue of
events the core has still to handle, and a second thread would not help: it would wait for
SQLite's write lock, which the first thread takes again right after every commit. So urgent
work goes to the front of the one queue and waits at most for the unit running at that moment.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

URGENT, NORMAL = 0, 1


class PriorityWorker(Executor):
    def __init__(self, name: str) -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, Any]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._closed = False
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._work, name=name, daemon=True)
        self.thread.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self._put(NORMAL, fn, args, kwargs)

    def submit_urgent(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]:
        return self._put(URGENT, fn, args, {})

    def _put(self, priority: int, fn: Callable[..., Any], args: Any, kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new work after shutdown")
            self._queue.put((priority, next(self._order), (future, fn, args, kwargs)))
        return future

    def _work(self) -> None:
        while True:
            _priority, _order, item = self._queue.get()
            if item is None:
                return
            future, fn, args, kwargs = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put((NORMAL + 1, next(self._order), None))  # after all queued work
        if wait:
            self.thread.join()
