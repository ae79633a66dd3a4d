"""A sent message recorded in a transaction that runs anyway: the next turn's, when it comes
before the recording's own on SQLite's one store thread (`Recorder.carry`). The turn saves
that transaction, and what the record frees in its lane takes its place in the order of
messages across chats as it would with the lane free."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime

import pytest

from bot.clock import FrozenClock
from bot.delivery import enqueue_claimed
from bot.dispatcher import Dispatcher
from bot.domain import OutboxItem
from bot.engine import Outbound
from bot.events import SpaceKind, SpaceRef
from bot.replies import Reply
from bot.store import Store
from tests.test_dispatch_concurrency import dispatcher, people
from tests.test_dispatch_recording import commits, unfinished

PAIR_SPACE = SpaceRef("console", "test", "pair-1", SpaceKind.PAIR)


def noting_sends() -> tuple[list[str], asyncio.Event, Callable[[OutboxItem], Awaitable[None]]]:
    """A platform's send that notes each message's text, and an event set once one went out."""
    texts: list[str] = []
    sent = asyncio.Event()

    async def send(item: OutboxItem) -> None:
        texts.append(item.payload["reply"]["text"])
        sent.set()

    return texts, sent, send


def turn(
    store: Store, clock: FrozenClock, run: Dispatcher, who: int, messages: list[Outbound], key: str
) -> Callable[[], tuple[list[OutboxItem], set[str]]]:
    """A turn's transaction (as `Core._handle` writes its replies): `who`'s replies written,
    the urgent ones claimed; returns them and the lanes where one waits."""

    def transaction() -> tuple[list[OutboxItem], set[str]]:
        now = clock.now()
        written = []
        with store.session() as session:

            def write(worker: str, until: datetime) -> list[OutboxItem]:
                nonlocal written
                written, claimed = enqueue_claimed(session, messages, key, now, who, worker, until)
                return claimed

            handed = run.claim_written(session, write, now)
        keys = {item.idempotency_key for item in handed}
        return handed, {lane for k, lane, _ in written if k not in keys}

    return transaction


async def previous_reply_sent_while_the_next_turn_waits(
    store: Store,
    clock: FrozenClock,
    run: Dispatcher,
    first: Callable[[], tuple[list[OutboxItem], set[str]]],
    second: Callable[[], tuple[list[OutboxItem], set[str]]],
    sent: asyncio.Event,
) -> tuple[asyncio.Task[int], asyncio.Future[tuple[list[OutboxItem], set[str]]]]:
    """The first turn's reply goes out while the second turn waits on the store's thread
    (held by a gate), ahead of the reply's recording: the order of a busy programme."""
    run.hand_over(*await store.run(first))
    gate = threading.Event()
    held = asyncio.ensure_future(store.run(gate.wait))
    queued = asyncio.ensure_future(store.run(second))
    dispatch = asyncio.create_task(run.run_due(claim=False))
    await asyncio.wait_for(sent.wait(), timeout=10)
    for _ in range(5):  # the run asks for the reply's recording: queued behind the turn
        await asyncio.sleep(0)
    gate.set()
    await held
    return dispatch, queued


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_next_turn_records_the_reply_sent_while_it_waited(
    store: Store, clock: FrozenClock
):
    """Three transactions: the first turn, the second (carrying the first reply's record) and
    the second reply's record — not a fourth for the first reply's record."""
    anna, bob = people(store, clock, 2)
    texts, first_sent, send = noting_sends()
    run = dispatcher(store, clock, send)
    first = turn(store, clock, run, anna, [Outbound(anna, Reply("hello anna"))], "t1")
    second = turn(store, clock, run, bob, [Outbound(bob, Reply("hello bob"))], "t2")
    with commits(store) as seen:
        dispatch, queued = await previous_reply_sent_while_the_next_turn_waits(
            store, clock, run, first, second, first_sent
        )
        handed = await queued
        await asyncio.wait_for(dispatch, timeout=10)
        run.hand_over(*handed)
        await asyncio.wait_for(run.run_due(claim=False), timeout=10)
    assert texts == ["hello anna", "hello bob"]
    assert unfinished(store) == []
    assert len(seen) == 3


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_reply_behind_a_recording_the_turn_carries_keeps_its_place_across_chats(
    store: Store, clock: FrozenClock
):
    """Anna's next turn answers in her pair's space and sends her a copy in her direct chat,
    whose previous message is sent but not recorded yet. The copy goes right after the
    space's first message, before its second (which waits for the first's record), as it
    does when her direct chat is free: the turn records the earlier message before it
    writes, so the copy is claimed with the turn."""
    (anna,) = people(store, clock, 1)
    texts, first_sent, send = noting_sends()
    run = dispatcher(store, clock, send)
    first = turn(store, clock, run, anna, [Outbound(anna, Reply("earlier"))], "t1")
    replies = [
        Outbound(anna, Reply("guide complete"), PAIR_SPACE),
        Outbound(anna, Reply("your copy")),
        Outbound(anna, Reply("proposal"), PAIR_SPACE),
    ]
    second = turn(store, clock, run, anna, replies, "t2")
    dispatch, queued = await previous_reply_sent_while_the_next_turn_waits(
        store, clock, run, first, second, first_sent
    )
    run.hand_over(*await queued)
    await asyncio.wait_for(dispatch, timeout=10)
    await asyncio.wait_for(run.run_due(), timeout=10)
    assert texts == ["earlier", "guide complete", "your copy", "proposal"]
    assert unfinished(store) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_turn_that_fails_after_carrying_a_record_has_it_recorded_on_its_own(
    store: Store, clock: FrozenClock
):
    """The turn carrying the first reply's record rolls back: the reply is recorded on its
    own (never released, so never sent again), and the run ends only once it is."""
    (anna,) = people(store, clock, 1)
    texts, first_sent, send = noting_sends()
    run = dispatcher(store, clock, send)
    first = turn(store, clock, run, anna, [Outbound(anna, Reply("hello anna"))], "t1")
    carried: list[tuple[bool, bool]] = []  # waiting before the carry, and after it

    def failing() -> None:
        with store.session() as session:
            waiting = run.recorder.waiting
            run.recorder.carry(session)
            carried.append((waiting, run.recorder.waiting))
            raise RuntimeError("the turn broke")

    dispatch, queued = await previous_reply_sent_while_the_next_turn_waits(
        store, clock, run, first, failing, first_sent
    )
    with pytest.raises(RuntimeError, match="the turn broke"):
        await queued
    await asyncio.wait_for(dispatch, timeout=10)
    assert carried == [(True, False)]
    assert unfinished(store) == []
    await asyncio.wait_for(run.run_due(), timeout=10)
    assert texts == ["hello anna"]
