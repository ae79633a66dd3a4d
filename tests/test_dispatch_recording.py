"""Recording sent messages: in the transaction of the dispatcher's next claim, not in one of
their own; a later message in a lane goes out only once the earlier one is recorded; and a
claim that fails after a send still records it, so nothing is sent twice. On SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot import claims
from bot.clock import FrozenClock
from bot.delivery import enqueue_claimed
from bot.domain import OutboxItem
from bot.engine import Outbound
from bot.replies import Reply
from bot.store import Store
from tests.test_dispatch_concurrency import dispatcher, people, write


@contextmanager
def commits(store: Store) -> Iterator[list[None]]:
    """The transactions committed on the store's engine during the block."""
    seen: list[None] = []

    def note(_connection) -> None:
        seen.append(None)

    event.listen(store.engine, "commit", note)
    try:
        yield seen
    finally:
        event.remove(store.engine, "commit", note)


def unfinished(store: Store) -> list[OutboxItem]:
    with store.session() as session:
        return list(session.exec(select(OutboxItem).where(OutboxItem.done_at.is_(None))).all())


async def test_messages_sent_side_by_side_are_recorded_in_the_next_claim(
    store: Store, clock: FrozenClock
):
    """Three people's messages: one claim takes them, and the claim that looks for more
    records them too — two transactions, not a third for the recording."""
    write(store, clock, people(store, clock, 3), ["hello"])
    sent: list[str] = []

    async def send(item: OutboxItem) -> None:
        sent.append(item.payload["reply"]["text"])

    run = dispatcher(store, clock, send)
    with commits(store) as seen:
        assert await asyncio.wait_for(run.run_due(), timeout=30) == 3
    assert len(sent) == 3
    assert unfinished(store) == []
    assert len(seen) == 2


async def test_a_later_message_in_a_lane_goes_out_only_once_the_earlier_is_recorded(
    store: Store, clock: FrozenClock
):
    """A turn's reply of three messages, handed over as one chain: each is done in the store
    before the next is sent, so a crash repeats at most the one in flight."""
    (anna,) = people(store, clock, 1)
    done_before: list[int] = []

    async def send(item: OutboxItem) -> None:
        done_before.append(sum(1 for i in everything(store) if i.done_at is not None))

    run = dispatcher(store, clock, send)
    with store.session() as session:
        messages = [Outbound(anna, Reply(text)) for text in ("one", "two", "three")]

        def write_claimed(worker: str, until: datetime) -> list[OutboxItem]:
            now = clock.now()
            return enqueue_claimed(session, messages, "turn", now, anna, worker, until)[1]

        handed = run.claim_written(session, write_claimed, clock.now())
    assert len(handed) == 3
    run.hand_over(handed)
    await asyncio.wait_for(run.run_due(claim=False), timeout=30)
    assert done_before == [0, 1, 2]
    assert unfinished(store) == []


def everything(store: Store) -> list[OutboxItem]:
    with store.session() as session:
        return list(session.exec(select(OutboxItem).order_by(OutboxItem.id)).all())


async def test_a_claim_failing_after_a_send_still_records_it_and_sends_nothing_twice(
    store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
):
    """The claim that would record a sent message fails (the database went away): the
    message is recorded on its own, retried, and the next run does not send it again."""
    write(store, clock, people(store, clock, 2), ["hello"])
    sent: list[str] = []

    async def send(item: OutboxItem) -> None:
        sent.append(item.payload["reply"]["text"])

    real_look, calls = claims.look, []

    def failing_second_look(*args, **kwargs):
        calls.append(None)
        if len(calls) == 2:
            raise OperationalError("claim", {}, Exception("server closed the connection"))
        return real_look(*args, **kwargs)

    monkeypatch.setattr(claims, "look", failing_second_look)
    run = dispatcher(store, clock, send)
    with pytest.raises(OperationalError):
        await asyncio.wait_for(run.run_due(), timeout=30)
    assert len(sent) == 2
    assert unfinished(store) == []  # recorded although the claim carrying them failed

    assert await asyncio.wait_for(run.run_due(), timeout=30) == 0
    assert len(sent) == 2
