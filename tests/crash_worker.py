"""A dispatcher process for tests/test_dispatch_crash.py (run as a script, not collected).

    python tests/crash_worker.py DATABASE_URL LEASE_SECONDS

Delivers due outbox actions with the real `Deliverer` and the console adapter writing to
stdout (one write and flush per message), until no action is pending, then exits 0. The
environment's MAATJE_CRASH_AT / MAATJE_CRASH_AFTER may SIGKILL it at a crash point first.
Exits 3 when the work is not done within the deadline.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time

DEADLINE_SECONDS = 20.0
POLL_SECONDS = 0.02


def pending(store) -> int:
    from sqlalchemy import func
    from sqlmodel import col, select

    from bot.domain import OutboxItem

    with store.session() as session:
        return session.exec(
            select(func.count())
            .select_from(OutboxItem)
            .where(col(OutboxItem.done_at).is_(None), col(OutboxItem.failed_at).is_(None))
        ).one()


async def work(url: str, lease_seconds: float) -> int:
    from adapters.console import ConsoleAdapter

    return await dispatch_until_done(
        url, lease_seconds, ConsoleAdapter(out=sys.stdout), DEADLINE_SECONDS, "crash_worker"
    )


async def dispatch_until_done(
    url: str, lease_seconds: float, platform, deadline_seconds: float, name: str
) -> int:
    """A real dispatcher and deliverer sending through `platform` until nothing is pending:
    0 when done, 3 when the deadline passed first."""
    from bot.clock import SystemClock
    from bot.config.model import SchedulerConfig
    from bot.delivery import Deliverer
    from bot.dispatcher import Dispatcher
    from bot.i18n import Translator
    from bot.store import Store

    store = Store(url)
    deliverer = Deliverer(store, Translator(), {"console": platform})
    dispatcher = Dispatcher(
        store,
        SystemClock(),
        deliverer.deliver,
        {},
        SchedulerConfig(claim_lease_seconds=lease_seconds, batch_size=5),
        prefetch=deliverer.prefetch,
    )
    deadline = time.monotonic() + deadline_seconds
    try:
        while True:
            await dispatcher.run_due()
            if pending(store) == 0:
                return 0
            if time.monotonic() > deadline:
                print(f"{name}: work not done before the deadline", file=sys.stderr)
                return 3
            # Abandoned claims only expire with real time: check again shortly.
            await asyncio.sleep(POLL_SECONDS)
    finally:
        store.dispose()


def main() -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    url, lease = sys.argv[1], float(sys.argv[2])
    return asyncio.run(work(url, lease))


if __name__ == "__main__":
    sys.exit(main())
