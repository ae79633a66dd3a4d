"""Pacing bulk work: the token bucket, and a slow batch keeping its claims."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot import outbox
from bot.config import SchedulerConfig
from bot.dispatcher import Dispatcher
from bot.domain import OutboxItem
from bot.pacing import Pacer
from bot.store import Store


class FakeTime:
    """A monotonic clock that `sleep` moves: pacing measured without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_a_pacer_allows_its_burst_then_its_rate() -> None:
    time = FakeTime()
    pacer = Pacer(rate=2.0, burst=3, monotonic=time.monotonic, sleep=time.sleep)
    waits = [await pacer.wait() for _ in range(7)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == pytest.approx([0.5, 0.5, 0.5, 0.5])
    assert time.now == pytest.approx(2.0)  # 7 calls: 3 at once, then 4 at 2 a second
    time.now += 10  # idle time refills the bucket, up to the burst
    assert [await pacer.wait() for _ in range(3)] == [0, 0, 0]


def test_a_pacer_needs_a_positive_rate() -> None:
    with pytest.raises(ValueError):
        Pacer(rate=0)


async def test_a_slow_batch_renews_its_claims_so_no_one_else_takes_them(database_url, clock):
    store = Store(database_url)
    store.upgrade()
    now = clock.now()
    with store.session() as session:
        for n in range(6):
            outbox.enqueue(session, "send", {"n": n}, f"k{n}", now, now)
    taken_by_other: list[str] = []

    async def slow_send(item: OutboxItem) -> None:
        clock.advance(timedelta(seconds=40))  # a paced platform: 40 s per message
        with store.session() as session:  # meanwhile, another process tries to claim
            other = outbox.claim(session, "other", clock.now(), timedelta(seconds=60), 10)
            taken_by_other.extend(i.idempotency_key for i in other)

    settings = SchedulerConfig(claim_lease_seconds=60, batch_size=6)
    dispatcher = Dispatcher(store, clock, slow_send, {}, settings, worker="me")
    assert await dispatcher.run_due() == 6
    assert taken_by_other == []
    with store.session() as session:
        items = session.exec(select(OutboxItem)).all()
    assert all(i.done_at is not None and i.attempts == 1 for i in items)
    store.dispose()
