"""APScheduler (3.x, asyncio) drives the dispatcher on a fixed tick.

The tick runs in wall-clock time; *what* is due is decided by the injected clock inside the
dispatcher, so a moved clock (tests, the demo's `/time`) takes effect on the next tick. A tick
that finds the dispatcher still busy (a long, paced batch) simply passes; one that finds the
database away logs it and leaves the work to the next tick.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import OperationalError

from bot.dispatcher import Dispatcher

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self,
        dispatcher: Dispatcher,
        tick_seconds: float,
        redrive: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """`redrive` (the core's) runs on the same tick: inbox events whose handling never
        finished are handled again (see `bot.inbox`)."""
        self._dispatcher = dispatcher
        self._redrive = redrive
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            self._tick,
            "interval",
            seconds=tick_seconds,
            id="outbox",
            max_instances=2,
            coalesce=True,
            misfire_grace_time=None,
        )
        if redrive is not None:
            self._scheduler.add_job(
                self._tick_inbox,
                "interval",
                seconds=tick_seconds,
                id="inbox",
                max_instances=2,  # a second tick during a long redrive returns at once
                coalesce=True,
                misfire_grace_time=None,
            )

    async def _tick(self) -> None:
        if self._dispatcher.busy:
            return
        try:
            await self._dispatcher.run_due()
        except OperationalError:
            log.warning("the database is unavailable; the outbox waits for the next tick")

    async def _tick_inbox(self) -> None:
        assert self._redrive is not None
        try:
            await self._redrive()
        except OperationalError:
            log.warning("the database is unavailable; the inbox waits for the next tick")

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
