"""The dispatcher claims only when a claim can find work: after a look that found nothing,
not until the next action falls due or something is written to the outbox (`bot.horizon`),
and a tick later at the latest. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import event, update
from sqlmodel import col

from bot import claims, outbox
from bot.clock import FrozenClock
from bot.config.model import SchedulerConfig
from bot.delivery import enqueue_claimed
from bot.dispatcher import Dispatcher
from bot.domain import OutboxItem
from bot.engine import Outbound
from bot.replies import Reply
from bot.store import Store
from tests.test_dispatch_concurrency import LEASE, dispatcher, people, write


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """The SQL statements run on the store's engine during the block."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", note)


def remind(store: Store, clock: FrozenClock, key: str, after: timedelta) -> None:
    with store.session() as session:
        now = clock.now()
        outbox.enqueue(session, "send", {"person": 0}, key, now + after, now)


async def run(dispatch) -> int:
    return await asyncio.wait_for(dispatch.run_due(), timeout=30)


async def test_no_claim_before_the_next_action_is_due(store: Store, clock: FrozenClock):
    """A look that finds nothing due learns when the next action is: claims before then
    touch no table; at that time the claim finds it. (With a tick of a day: what a look
    learns holds for a tick at most.)"""
    sent: list[str] = []

    async def send(item: OutboxItem) -> None:
        sent.append(item.idempotency_key)

    remind(store, clock, "later", timedelta(hours=2))
    day = 24 * 3600
    settings = SchedulerConfig(tick_seconds=day, claim_lease_seconds=4 * day)
    dispatch = Dispatcher(store, clock, send, {}, settings, worker="w")
    assert await run(dispatch) == 0  # looks, finds nothing due
    for _ in range(3):
        clock.advance(timedelta(minutes=30))
        with statements(store) as seen:
            assert await run(dispatch) == 0
        assert seen == []
    clock.advance(timedelta(minutes=30))
    assert await run(dispatch) == 1
    assert sent == ["later"]


async def test_what_a_look_learnt_holds_for_a_tick_at_most(store: Store, clock: FrozenClock):
    """Another process may write work (PostgreSQL), and nothing here reports it: a tick after
    a look that found nothing, the dispatcher looks again, as its periodic claim did."""
    remind(store, clock, "later", timedelta(hours=2))

    async def send(item: OutboxItem) -> None:
        pass

    dispatch = dispatcher(store, clock, send)  # a tick of a second
    assert await run(dispatch) == 0
    with statements(store) as seen:
        assert await run(dispatch) == 0
    assert seen == []
    clock.advance(timedelta(seconds=1))
    with statements(store) as seen:
        assert await run(dispatch) == 0
    assert any("RECURSIVE" in statement for statement in seen)


async def test_work_written_meanwhile_is_claimed_by_the_next_run(store: Store, clock: FrozenClock):
    """After a look that found nothing, a message written in another transaction, a reminder
    made due by `move`, an action given back untried and a row changed outside `bot.outbox`
    (a plain UPDATE, as a flow hurries a waiting check-in) are each claimed by the next run."""
    sent: list[str] = []

    async def send(item: OutboxItem) -> None:
        sent.append(item.idempotency_key)

    remind(store, clock, "tomorrow", timedelta(days=1))
    remind(store, clock, "next week", timedelta(days=7))
    remind(store, clock, "in a month", timedelta(days=30))
    dispatch = dispatcher(store, clock, send)
    assert await run(dispatch) == 0

    write(store, clock, people(store, clock, 1), ["hello"])
    assert await run(dispatch) == 1

    with store.session() as session:
        moves = {"next week": ("next week, moved", clock.now())}
        assert outbox.move(session, moves, {"person": 0}, clock.now()) == 1
    assert await run(dispatch) == 1

    remind(store, clock, "given back", timedelta(0))
    with store.session() as session:  # claimed elsewhere, then given back untried
        (taken,) = claims.claim(session, "other", clock.now(), LEASE, 1)
    assert await run(dispatch) == 0
    with store.session() as session:
        outbox.unclaim(session, [taken.id], "other")
    assert await run(dispatch) == 1

    with store.session() as session:
        session.exec(
            update(OutboxItem)
            .where(col(OutboxItem.idempotency_key) == "in a month")
            .values(due_at=clock.now())
        )
    assert await run(dispatch) == 1
    assert sent[1:] == ["next week, moved", "given back", "in a month"]


async def test_replies_claimed_by_their_own_turn_wake_no_claim(store: Store, clock: FrozenClock):
    """A turn's replies, claimed in the transaction that wrote them and handed over, leave
    nothing for a claim to find: the runs after them touch no table. A reply its writer did
    not claim is claimed by the next run."""
    (anna, bert) = people(store, clock, 2)
    sent: list[str] = []

    async def send(item: OutboxItem) -> None:
        sent.append(item.payload["reply"]["text"])

    dispatch = dispatcher(store, clock, send)

    def turn(key: str, *messages: Outbound) -> None:
        now = clock.now()
        with store.session() as session:

            def write(worker: str, until: datetime) -> list[OutboxItem]:
                return enqueue_claimed(session, messages, key, now, anna, worker, until)[1]

            handed = dispatch.claim_written(session, write, now)
        dispatch.hand_over(handed)

    assert await run(dispatch) == 0  # nothing due: a look that found nothing
    turn("turn", Outbound(anna, Reply("hi")))
    assert await asyncio.wait_for(dispatch.run_due(claim=False), timeout=30) == 1
    with statements(store) as seen:
        assert await run(dispatch) == 0
    assert seen == []
    assert sent == ["hi"]

    # A turn that also writes to someone else: that message is not the turn's to claim.
    turn("turn 2", Outbound(anna, Reply("noted")), Outbound(bert, Reply("anna answered")))
    assert await asyncio.wait_for(dispatch.run_due(claim=False), timeout=30) == 1
    assert await run(dispatch) == 1
    assert sent[1:] == ["noted", "anna answered"]

    write(store, clock, [bert], ["hello"], waiting=True)  # not claimed by its writer
    assert await run(dispatch) == 1
    assert sent[-1] == f"hello {bert}"
