"""Pacing: keep calls to a platform within its published rate, so bulk work (200 pair spaces,
a poll to 1,000 people) trickles out instead of being refused.

A `Pacer` is a token bucket: `rate` calls per second on average, `burst` at once. Adapters
keep one per rate tier they call; the dispatcher renews its claims while an adapter waits, so a
slow, paced batch is never taken over by another process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Pacer:
    def __init__(
        self,
        rate: float,
        burst: int = 1,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._monotonic = monotonic
        self._sleep = sleep
        self._tokens = float(burst)
        self._at = monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    async def wait(self) -> float:
        """Take one token, waiting until there is one; returns how long it waited."""
        async with self._lock:
            self._refill()
            waited = 0.0
            if self._tokens < 1:
                waited = (1 - self._tokens) / self.rate
                await self._sleep(waited)  # type: ignore[misc]
                self._refill()
            self._tokens -= 1
            return waited
