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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script

from tests.crash_worker import dispatch_until_done

DEADLINE_SECONDS = 60.0
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


async def work(url: str, lease_seconds: float, out: str) -> int:
    return await dispatch_until_done(
        url, lease_seconds, FilePlatform(out), DEADLINE_SECONDS, "kill_worker"
    )


def main() -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    url, lease, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    return asyncio.run(work(url, lease, out))


if __name__ == "__main__":
    sys.exit(main())
