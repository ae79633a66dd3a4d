"""Work done after Slack has its answer: tracked tasks, one person's events in order.

Slack wants an answer within three seconds, so listeners acknowledge first and hand the real
work here. Each task is kept (so `drain` can finish or cancel it on stop), its errors are
logged rather than lost, and tasks for the same person run one after another so that two
quick messages reach the core in the order they were typed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.keyed_locks import KeyedLocks

log = logging.getLogger(__name__)


class Work:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._locks = KeyedLocks()
        self._idle = asyncio.Event()
        self._idle.set()

    def spawn(self, job: Callable[[], Awaitable[object]], *, serial_key: str | None = None) -> None:
        """Run `job` in the background; jobs with the same `serial_key` run in order."""
        lock = self._locks(serial_key) if serial_key is not None else None
        task = asyncio.create_task(self._run(job, lock))
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._done)

    async def _run(self, job: Callable[[], Awaitable[object]], lock: asyncio.Lock | None) -> None:
        try:
            if lock is None:
                await job()
            else:
                async with lock:
                    await job()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("slack: handling an event failed")

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()

    async def idle(self) -> None:
        """Return once no work is running (tests wait on this instead of sleeping)."""
        await self._idle.wait()

    async def drain(self, timeout: float) -> None:
        """Let running work finish for up to `timeout` seconds, then cancel the rest."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("slack: cancelled %d unfinished event handlers on stop", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)
