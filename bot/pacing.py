"""Pacing: keep calls to a platform within its rate limits, with urgent work served first.

- `Pacer`: a token bucket (`rate` calls per second, `burst` at once). Its waiters are served by
  priority, then in arrival order, so a reply someone waits for passes a queue of bulk sends.
  A 429's Retry-After pauses it (`pause`).
- `Pacers`: one pacer per key (Slack paces messages per channel), made on first use.
- `AdaptivePacer`: for a limit the platform enforces but does not publish (Slack's
  workspace-wide message ceiling): it starts generous and learns from refusals (AIMD).
- Priority: `URGENT` (someone is waiting for this reply) or `BULK` (a poll, welcomes, a
  digest). The dispatcher sets it for each action it carries out (`prioritised`); pacers read it
  (`current_priority`), so adapters need no extra argument. Outside the dispatcher — an
  adapter answering a click — work is urgent.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

URGENT = 0
BULK = 1
_ROUNDING = 1e-9  # a bucket this close to a whole token has one (else waits could be endless)

_priority: ContextVar[int] = ContextVar("maatje_priority", default=URGENT)


def current_priority() -> int:
    return _priority.get()


@contextmanager
def prioritised(priority: int) -> Iterator[None]:
    """Calls made inside (in this task) wait in pacers' queues with `priority`."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


class Paused(Exception):
    """The pacer is paused (the platform said Retry-After) for longer than the caller waits."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"paused for another {retry_after:.1f} s")
        self.retry_after = retry_after


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
        self._paused_until = -math.inf
        self._queue: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrival = itertools.count()
        self._server: asyncio.Task[None] | None = None

    def _refill(self) -> float:
        now = self._monotonic()
        # While callers queue, a late wake-up's extra time carries over to the next token
        # (capped at the burst, a sleep that overshoots would lose rate on every token) — up
        # to a quarter of a token, and not across a pause. So any second holds at most
        # rate + burst + 1/4 calls: the adaptive pacer's margin under a ceiling covers that.
        carry = self._queue and self._at >= self._paused_until
        cap = self.burst + 0.25 if carry else self.burst
        self._tokens = min(cap, self._tokens + (now - self._at) * self.rate)
        self._at = now
        return now

    def _ready_in(self) -> float:
        """Seconds until a call may go (0: now)."""
        now = self._refill()
        wait = max(0.0, self._paused_until - now)
        if self._tokens < 1 - _ROUNDING:
            wait = max(wait, (1 - self._tokens) / self.rate)
        return wait

    @property
    def tokens(self) -> float:
        """Calls that may go at once now."""
        self._refill()
        return self._tokens

    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self._monotonic())

    @property
    def idle(self) -> bool:
        """Nobody waits, no pause, the bucket is full: as good as a new pacer."""
        return not self._queue and self._ready_in() == 0 and self._tokens >= self.burst

    @property
    def waiting(self) -> int:
        return sum(1 for _, _, future in self._queue if not future.done())

    def pause(self, seconds: float) -> None:
        """Let no call go for `seconds` (the platform answered 429 with Retry-After)."""
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)

    async def wait(self, priority: int | None = None, patience: float | None = None) -> float:
        """Take one token, waiting until there is one; returns how long it waited. Raises
        `Paused` at once when the pacer is paused for longer than `patience` seconds."""
        if patience is not None and self.paused_for() > patience:
            raise Paused(self.paused_for())
        if not self._queue and self._ready_in() == 0:
            self._tokens -= 1
            return 0.0
        started = self._monotonic()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        rank = current_priority() if priority is None else priority
        heapq.heappush(self._queue, (rank, next(self._arrival), future))
        if self._server is None or self._server.done():
            self._server = asyncio.create_task(self._serve())
        await future  # a cancelled waiter's future is cancelled too; `_serve` skips it
        return self._monotonic() - started

    async def _serve(self) -> None:
        """Hand out tokens to the queue, most urgent first, as they become available."""
        while self._queue:
            if self._queue[0][2].done():
                heapq.heappop(self._queue)
                continue
            delay = self._ready_in()
            if delay > 0:
                await self._sleep(delay)  # type: ignore[misc]
                continue
            _, _, future = heapq.heappop(self._queue)
            self._tokens -= 1
            future.set_result(None)


class Pacers:
    """One `Pacer` per key, made on first use; idle ones are forgotten now and then."""

    def __init__(
        self,
        rate: float,
        burst: int,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
        keep: int = 1000,
    ) -> None:
        self.rate, self.burst = rate, burst
        self._monotonic, self._sleep = monotonic, sleep
        self._keep = keep
        self._pacers: dict[str, Pacer] = {}

    def __getitem__(self, key: str) -> Pacer:
        pacer = self._pacers.get(key)
        if pacer is None:
            if len(self._pacers) >= self._keep:
                self._pacers = {k: p for k, p in self._pacers.items() if not p.idle}
                self._keep = max(self._keep, 2 * len(self._pacers))
            pacer = Pacer(self.rate, self.burst, self._monotonic, self._sleep)
            self._pacers[key] = pacer
        return pacer

    def get(self, key: str) -> Pacer | None:
        return self._pacers.get(key)

    def __len__(self) -> int:
        return len(self._pacers)


class AdaptivePacer(Pacer):
    """A pacer for a ceiling the platform enforces with 429s but does not publish.

    It starts at `ceiling` calls per second. `refused` (a 429 for a call that left at
    `sent_at`) pauses it for Retry-After and cuts the rate to a little under what the platform
    accepted in the second before it refused — its ceiling, measured — never below `floor`; a
    refusal soon after a cut slows it by the same step again. Refusals of calls that left
    before the last cut say nothing new and are only counted. While callers queue up and
    nothing is refused for a long while, the measure is raised slowly and the rate follows, in
    case the platform allows more now.
    """

    DECREASE = 0.97  # of the measured ceiling: room for a late token and for network jitter
    PROBE = 0.002  # of the measured ceiling per second, after LONG_CALM without a refusal
    LONG_CALM = 60.0  # seconds

    def __init__(
        self,
        ceiling: float,
        floor: float = 1.0,
        burst: int = 1,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
    ) -> None:
        super().__init__(ceiling, burst, monotonic, sleep)
        self.ceiling, self.floor = ceiling, floor
        self.measured: float | None = None
        self.cuts = 0
        self._cut_at = -math.inf
        self._climbed_at = -math.inf
        self._accepted: deque[float] = deque()

    def accepted(self) -> None:
        """A call went through: its answer arrived now."""
        now = self._monotonic()
        self._accepted.append(now)
        while self._accepted and self._accepted[0] < now - 2.0:
            self._accepted.popleft()
        self._climb(now)

    def refused(self, sent_at: float, retry_after: float) -> bool:
        """A call that left at `sent_at` was refused (429); True when that cut the rate."""
        if sent_at < self._cut_at:
            return False
        now = self._monotonic()
        if self.measured is not None and now - self._cut_at < self.LONG_CALM:
            # Refused again soon after a cut: what was measured then was too much (answers
            # bunch on a busy way there), or the ceiling fell. Slow down by a step.
            self.rate = max(self.floor, self.rate * self.DECREASE)
            self.measured = self.rate / self.DECREASE
        else:
            # What the platform accepted in the second before it refused, by when the answers
            # came: the platform counts arrivals, and answers follow arrivals more closely
            # than our sends do when the way there is congested.
            sample = float(sum(1 for t in self._accepted if now - 1.0 < t <= now))
            if not sample:  # nothing got through (an outage): that says nothing of a ceiling
                self.pause(retry_after)
                return False
            self.measured = max(min(sample, self.rate), self.floor)
            self.rate = max(self.floor, self.measured * self.DECREASE)
        self.cuts += 1
        self._cut_at = self._climbed_at = now
        self.pause(retry_after)
        return True

    def _climb(self, now: float) -> None:
        if self.measured is None or not self.waiting or now - self._cut_at < self.LONG_CALM:
            self._climbed_at = now
            return
        elapsed = min(now - self._climbed_at, 1.0)
        self._climbed_at = now
        self.measured = min(self.ceiling, self.measured * (1 + self.PROBE * elapsed))
        self.rate = max(self.rate, self.measured * self.DECREASE)
