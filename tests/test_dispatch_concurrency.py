"""The dispatcher under a surge: lanes go out side by side, one lane keeps its order, a reply
someone waits for is claimed before a bulk backlog and always finds a place, and every action
carries its priority to the adapter's pacers. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import col, select

from bot import claims
from bot.clock import FrozenClock
from bot.config.model import SchedulerConfig
from bot.delivery import enqueue_outbound
from bot.dispatcher import Dispatcher
from bot.domain import OutboxItem, Person
from bot.engine import Outbound
from bot.events import Message
from bot.pacing import BULK, URGENT, current_priority
from bot.replies import Reply
from bot.store import Store

LEASE = timedelta(seconds=60)


def people(store: Store, clock: FrozenClock, count: int) -> list[int]:
    with store.session() as session:
        found = [Person(created_at=clock.now(), language="en") for _ in range(count)]
        session.add_all(found)
        session.flush()
        return [p.id for p in found if p.id is not None]


def write(
    store: Store, clock: FrozenClock, who: list[int], texts: list[str], waiting: bool = False
) -> None:
    """Each text to each person, in that order, in one transaction per person."""
    for person in who:
        with store.session() as session:
            messages = [Outbound(person, Reply(f"{text} {person}")) for text in texts]
            key = f"{texts[0]}:{person}:{clock.now().isoformat()}"
            enqueue_outbound(session, messages, key, clock.now(), person if waiting else None)


def keys_claimed(store: Store, clock: FrozenClock, limit: int, bulk: int | None) -> list[str]:
    with store.session() as session:
        items = claims.claim(session, "w", clock.now(), LEASE, limit, bulk)
        return [i.payload["reply"]["text"] for i in items]


def dispatcher(store: Store, clock: FrozenClock, send, places: int = 10) -> Dispatcher:
    settings = SchedulerConfig(claim_lease_seconds=60, batch_size=places)
    return Dispatcher(store, clock, send, {}, settings, worker="w")


async def test_sends_in_different_lanes_overlap_and_each_lane_keeps_its_order(
    store: Store, clock: FrozenClock
):
    who = people(store, clock, 6)
    write(store, clock, who, ["first", "second", "third"], waiting=True)
    under_way: dict[str, int] = {}
    most = 0
    got: list[str] = []
    all_started = asyncio.Event()

    async def send(item: OutboxItem) -> None:
        nonlocal most
        lane = item.lane or ""
        under_way[lane] = under_way.get(lane, 0) + 1
        assert under_way[lane] == 1, f"two actions of {lane} at once"
        most = max(most, sum(under_way.values()))
        if most == len(who):
            all_started.set()
        await all_started.wait()  # the first messages all wait here together
        got.append(item.payload["reply"]["text"])
        under_way[lane] -= 1

    assert await asyncio.wait_for(dispatcher(store, clock, send).run_due(), timeout=30) == 18
    assert most == len(who)
    for person in who:
        assert [t for t in got if t.endswith(f" {person}")] == [
            f"{word} {person}" for word in ("first", "second", "third")
        ]


async def test_urgent_replies_are_claimed_before_a_bulk_backlog_and_keep_places_free(
    store: Store, clock: FrozenClock
):
    crowd = people(store, clock, 20)
    write(store, clock, crowd, ["poll"])  # bulk, written first
    clock.advance(timedelta(seconds=1))
    waiting = people(store, clock, 2)
    write(store, clock, waiting, ["reply"], waiting=True)
    claimed = keys_claimed(store, clock, limit=5, bulk=None)
    assert claimed[:2] == [f"reply {p}" for p in waiting]
    assert claimed[2:] == [f"poll {p}" for p in crowd[:3]]
    assert keys_claimed(store, clock, limit=10, bulk=2) == [f"poll {p}" for p in crowd[3:5]]


async def test_an_urgent_reply_makes_what_is_older_in_its_lane_urgent(
    store: Store, clock: FrozenClock
):
    crowd = people(store, clock, 30)
    write(store, clock, crowd, ["poll"])
    anna = crowd[-1]  # her invitation is last in the backlog
    write(store, clock, [anna], ["reply"], waiting=True)
    assert keys_claimed(store, clock, limit=1, bulk=None) == [f"poll {anna}"]
    with store.session() as session:
        rows = session.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all()
    assert [r.priority for r in rows if r.lane == f"person:{anna}"] == [URGENT, URGENT]
    assert {r.priority for r in rows if r.lane != f"person:{anna}"} == {BULK}


async def test_a_reply_finds_a_place_while_bulk_work_fills_the_rest(
    store: Store, clock: FrozenClock
):
    """Bulk sends stuck at the platform (paced, say) take at most their share of the places:
    a reply written meanwhile is claimed and sent at once, with its priority set."""
    crowd = people(store, clock, 12)
    write(store, clock, crowd, ["poll"])
    anna = people(store, clock, 1)
    run = dispatcher(store, clock, None, places=4)
    priorities: dict[str, int] = {}
    bulk_under_way = most_bulk = 0
    replied = asyncio.Event()

    async def send(item: OutboxItem) -> None:
        nonlocal bulk_under_way, most_bulk
        priorities[item.payload["reply"]["text"]] = current_priority()
        if item.priority == URGENT:
            replied.set()
            return
        bulk_under_way += 1
        most_bulk = max(most_bulk, bulk_under_way)
        if most_bulk == run.bulk_places and not replied.is_set() and len(priorities) == 3:
            write(store, clock, anna, ["reply"], waiting=True)  # Anna writes; her reply is due
            run.wake()
        await replied.wait()  # bulk sends hold their places until Anna has her reply
        bulk_under_way -= 1

    run.send = send
    assert await asyncio.wait_for(run.run_due(), timeout=30) == 13
    assert most_bulk == run.bulk_places < run.places
    assert priorities.pop(f"reply {anna[0]}") == URGENT
    assert set(priorities.values()) == {BULK}
    with store.session() as session:
        assert all(r.done_at for r in session.exec(select(OutboxItem)).all())


async def test_a_turns_replies_go_out_without_a_claim_of_their_own(app, chat):
    """The core claims a turn's replies in the turn's transaction and hands them over: a run
    that claims nothing itself sends them; a reply behind an earlier one in its lane follows
    as soon as that one is done."""
    ref, space = chat.ref("anna"), chat.space("anna")
    await app.core.handle(Message(person=ref, space=space, event_id="e1", text="hello"))
    assert await app.core.dispatcher.run_due(claim=False) == 1
    assert "May I store your answers" in chat.new("anna")[-1]

    await app.core.handle(Message(person=ref, space=space, event_id="e2", text="yes"))
    await app.core.handle(Message(person=ref, space=space, event_id="e3", text="what?"))
    await app.core.dispatcher.run_due(claim=False)  # e3's reply waits: this run claims it
    texts = chat.new("anna")
    assert len(texts) == 3
    assert "joining as a mentee" in texts[0]  # the answer to "yes" first
    assert "joining as a mentee" in texts[2]  # then "what?" gets a reason and the question
