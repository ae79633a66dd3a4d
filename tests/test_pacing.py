"""Pacing: the token bucket, urgent calls first, a ceiling learnt from refusals, and a slow
batch keeping its claims."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from bot import claims, outbox
from bot.config.model import SchedulerConfig
from bot.dispatcher import Dispatcher
from bot.domain import OutboxItem
from bot.pacing import BULK, URGENT, AdaptivePacer, Pacer, Paused, prioritised
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
        await asyncio.sleep(0)  # others run meanwhile, as in a real sleep


async def test_a_pacer_allows_its_burst_then_its_rate() -> None:
    time = FakeTime()
    pacer = Pacer(rate=2.0, burst=3, monotonic=time.monotonic, sleep=time.sleep)
    waits = [await pacer.wait() for _ in range(7)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == pytest.approx([0.5, 0.5, 0.5, 0.5])
    assert time.now == pytest.approx(2.0)  # 7 calls: 3 at once, then 4 at 2 a second
    time.now += 10  # idle time refills the bucket, up to the burst
    assert [await pacer.wait() for _ in range(3)] == [0, 0, 0]


async def test_late_wake_ups_cost_no_rate_and_a_stall_sends_no_burst() -> None:
    time = FakeTime()
    late = [0.02] * 50 + [3.0]  # each sleep wakes 20 ms late (a fifth of a token), then a stall

    async def late_sleep(seconds: float) -> None:
        await asyncio.sleep(0)  # those let go before this sleep note the time first
        time.now += seconds + (late.pop(0) if late else 0.0)

    pacer = Pacer(rate=10.0, burst=1, monotonic=time.monotonic, sleep=late_sleep)
    sent: list[float] = []

    async def call() -> None:
        await pacer.wait()
        sent.append(time.now)

    await asyncio.gather(*(call() for _ in range(54)))
    assert sent[50] - sent[1] == pytest.approx(4.9)  # still 10 a second (late: 5.88 s)
    assert sent[51] - sent[50] > 3.0  # the stall; then one call, the next no sooner than allowed
    assert sent[52] - sent[51] == pytest.approx((1 - 0.25) / 10)
    assert sent[53] - sent[52] == pytest.approx(0.1)


async def test_urgent_calls_pass_the_bulk_calls_queued_before_them() -> None:
    time = FakeTime()
    pacer = Pacer(rate=1.0, burst=1, monotonic=time.monotonic, sleep=time.sleep)
    order: list[str] = []

    async def call(name: str, priority: int) -> None:
        with prioritised(priority):
            await pacer.wait()
        order.append(name)

    await pacer.wait()  # the bucket is empty now: everyone below queues
    bulk = [asyncio.create_task(call(f"bulk{i}", BULK)) for i in range(3)]
    await asyncio.sleep(0)  # the bulk calls are queued first
    urgent = asyncio.create_task(call("urgent", URGENT))
    await asyncio.gather(*bulk, urgent)
    assert order == ["urgent", "bulk0", "bulk1", "bulk2"]
    assert time.now == pytest.approx(4.0)  # still one a second


async def test_a_pause_holds_every_call_and_a_long_one_is_refused_at_once() -> None:
    time = FakeTime()
    pacer = Pacer(rate=100.0, burst=10, monotonic=time.monotonic, sleep=time.sleep)
    pacer.pause(2.0)
    assert await pacer.wait(patience=5.0) == pytest.approx(2.0)
    pacer.pause(30.0)
    with pytest.raises(Paused) as caught:
        await pacer.wait(patience=5.0)
    assert caught.value.retry_after == pytest.approx(30.0)


async def test_an_adaptive_pacer_learns_the_ceiling_from_refusals_and_probes_it() -> None:
    time = FakeTime()
    pacer = AdaptivePacer(ceiling=100, floor=1, burst=1, monotonic=time.monotonic, sleep=time.sleep)

    def accept(count: int, every: float) -> None:
        for _ in range(count):
            time.now += every
            pacer.accepted()

    accept(40, 0.01)  # 40 calls in 0.4 s went through: the platform allows 40 a second
    assert pacer.rate == 100
    assert pacer.refused(time.now, retry_after=1.0)
    assert pacer.measured == 40 and pacer.rate == pytest.approx(40 * AdaptivePacer.DECREASE)
    assert pacer.paused_for() == pytest.approx(1.0)
    assert not pacer.refused(time.now - 0.005, retry_after=1.0)  # left before the cut: no news
    assert pacer.cuts == 1

    # Refused again soon, though it sent just under the ceiling: one step down, no more.
    accept(20, 0.05)
    assert pacer.refused(time.now, retry_after=1.0)
    assert pacer.rate == pytest.approx(40 * AdaptivePacer.DECREASE**2)

    # Callers queue and nothing is refused: the rate holds, then after a long calm creeps up.
    waiting = [asyncio.create_task(pacer.wait()) for _ in range(5)]
    await asyncio.sleep(0)
    held = pacer.rate
    accept(int(AdaptivePacer.LONG_CALM / 2) * 20, 0.05)
    assert pacer.rate == held
    accept(int(AdaptivePacer.LONG_CALM) * 20, 0.05)
    assert held < pacer.rate < 100

    # A refusal after a long calm measures afresh.
    accept(20, 0.05)
    assert pacer.refused(time.now, retry_after=1.0)
    assert pacer.measured == pytest.approx(20, abs=1)
    await asyncio.gather(*waiting)


async def test_a_refusal_when_nothing_got_through_pauses_without_cutting_the_rate() -> None:
    """A platform refusing everything (an incident) tells nothing of its ceiling: the pacer
    waits out Retry-After at its rate, instead of falling to the floor and climbing for half
    an hour after the platform is back."""
    time = FakeTime()
    pacer = AdaptivePacer(ceiling=100, floor=1, burst=1, monotonic=time.monotonic, sleep=time.sleep)
    time.now = 5.0
    assert not pacer.refused(time.now, retry_after=30.0)
    assert pacer.rate == 100 and pacer.measured is None and pacer.cuts == 0
    assert pacer.paused_for() == pytest.approx(30.0)


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
            other = claims.claim(session, "other", clock.now(), timedelta(seconds=60), 10)
            taken_by_other.extend(i.idempotency_key for i in other)

    settings = SchedulerConfig(claim_lease_seconds=60, batch_size=8)  # 6 places for bulk work
    dispatcher = Dispatcher(store, clock, slow_send, {}, settings, worker="me")
    assert await dispatcher.run_due() == 6
    assert taken_by_other == []
    with store.session() as session:
        items = session.exec(select(OutboxItem)).all()
    assert all(i.done_at is not None and i.attempts == 1 for i in items)
    store.dispose()
