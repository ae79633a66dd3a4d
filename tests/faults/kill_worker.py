"""A dispatch worker for the repeated-SIGKILL test (run as a script, not collected).

    python tests/faults/kill_worker.py DATABASE_URL LEASE_SECONDS OUT_FILE

Delivers due `send` actions with the real `Deliverer` through a stand-in platform that takes a
few milliseconds to answer and then appends the message's idempotency key to OUT_FILE (one
`write` per message: that line is the platform having accepted it). Runs until nothing is
pending — claims left by a killed worker expire after LEASE_SECONDS and are taken again — then
exits 0; exits 3 when the work is not done before the deadline.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time

DEADLINE_SECONDS = 60.0
POLL_SECONDS = 0.02
PLATFORM_LATENCY = 0.003


class FilePlatform:
    platform = "console"

    def __init__(self, path: str) -> None:
        from bot.adapter import Capabilities

        self.capabilities = Capabilities()
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def escape(self, text: str) -> str:
        return text

    async def send(self, person, space, message, key: str) -> None:
        await asyncio.sleep(PLATFORM_LATENCY)  # the request is on its way
        os.write(self.fd, f"{key}\n".encode())  # accepted: from here on it is delivered


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


async def work(url: str, lease_seconds: float, out: str) -> int:
    from bot.clock import SystemClock
    from bot.config import SchedulerConfig
    from bot.delivery import Deliverer
    from bot.dispatcher import Dispatcher
    from bot.i18n import Translator
    from bot.store import Store

    store = Store(url)
    deliverer = Deliverer(store, Translator(), {"console": FilePlatform(out)})
    dispatcher = Dispatcher(
        store,
        SystemClock(),
        deliverer.deliver,
        {},
        SchedulerConfig(claim_lease_seconds=lease_seconds, batch_size=5),
    )
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        while True:
            await dispatcher.run_due()
            if pending(store) == 0:
                return 0
            if time.monotonic() > deadline:
                print("kill_worker: work not done before the deadline", file=sys.stderr)
                return 3
            await asyncio.sleep(POLL_SECONDS)  # expired claims only come back with real time
    finally:
        store.dispose()


def main() -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    url, lease, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    return asyncio.run(work(url, lease, out))


if __name__ == "__main__":
    sys.exit(main())
