"""APScheduler (3.x, asyncio) drives the dispatcher on a fixed tick.

The tick runs in wall-clock time; *what* is due is decided by the injected clock inside the
dispatcher, so a moved clock (tests, the demo's `/time`) takes effect on the next tick.
"""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.dispatcher import Dispatcher


class Scheduler:
    def __init__(self, dispatcher: Dispatcher, tick_seconds: float) -> None:
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            dispatcher.run_due,
            "interval",
            seconds=tick_seconds,
            id="outbox",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
