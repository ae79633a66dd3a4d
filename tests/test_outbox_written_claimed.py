"""A turn's replies written claimed (`bot.outbox_claimed`): one statement writes them and
claims the urgent ones that may go now; one that has to wait behind older work in its lane is
left for a claim and makes that work urgent; and a claim written with them that its process
never carried out runs out and is taken once by another. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event
from sqlmodel import col, select

from bot import claims
from bot.clock import FrozenClock
from bot.delivery import enqueue_claimed
from bot.domain import OutboxItem
from bot.engine import Outbound
from bot.events import SpaceKind, SpaceRef
from bot.pacing import URGENT
from bot.replies import Reply
from bot.store import Store
from tests.test_dispatch_concurrency import LEASE, dispatcher, people, write


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(store.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", note)


def reply(
    store: Store, clock: FrozenClock, waiting: int, messages: list[Outbound], worker: str = "w"
) -> tuple[list[OutboxItem], list[str]]:
    """A turn of `waiting` writing `messages`: what it claimed, and its statements."""
    now = clock.now()
    with store.session() as session, statements(store) as seen:
        session.connection()  # the transaction's own start is not the turn's statement
        seen.clear()
        _, claimed = enqueue_claimed(
            session, messages, f"turn:{now.isoformat()}", now, waiting, worker, now + LEASE
        )
    return claimed, seen


def rows(store: Store) -> list[OutboxItem]:
    with store.session() as session:
        return list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all())


def test_replies_in_a_free_lane_are_written_claimed_in_one_statement(
    store: Store, clock: FrozenClock
):
    """Two messages to the person waiting, after two to others: one INSERT, no claim and no
    promotion of its own; both of the waiting person's messages claimed (the second waits
    only for the first, in the dispatcher's chain), the other's left to a claim."""
    anna, bert, cleo = people(store, clock, 3)
    messages = [
        Outbound(bert, Reply("news for bert")),
        Outbound(cleo, Reply("news for cleo")),
        Outbound(anna, Reply("one")),
        Outbound(anna, Reply("two")),
    ]
    claimed, seen = reply(store, clock, anna, messages)
    assert len(seen) == 1 and seen[0].startswith("INSERT INTO outbox")
    assert [item.payload["reply"]["text"] for item in claimed] == ["one", "two"]
    stored = {row.payload["reply"]["text"]: row for row in rows(store)}
    assert [item.id for item in claimed] == [stored["one"].id, stored["two"].id]
    for text in ("one", "two"):
        assert (stored[text].claimed_by, stored[text].attempts) == ("w", 1)
        assert stored[text].claimed_until == clock.now() + LEASE
    for text in ("news for bert", "news for cleo"):
        row = stored[text]
        assert (row.claimed_by, row.claimed_until, row.attempts) == (None, None, 0)


def test_a_reply_behind_older_work_in_its_lane_waits_and_makes_that_work_urgent(
    store: Store, clock: FrozenClock
):
    """A poll invitation waits in anna's lane: her reply is written unclaimed, the
    invitation becomes urgent, and a claim takes the invitation first, then the reply."""
    crowd = people(store, clock, 3)
    anna = crowd[0]
    write(store, clock, crowd, ["poll"])
    claimed, seen = reply(store, clock, anna, [Outbound(anna, Reply("reply"))])
    assert claimed == []
    assert [s.split(" SET ")[0] for s in seen[1:]] == ["UPDATE outbox"]  # the promotion
    lane = [row for row in rows(store) if row.lane == f"person:{anna}"]
    assert [(row.payload["reply"]["text"], row.priority) for row in lane] == [
        (f"poll {anna}", URGENT),
        ("reply", URGENT),
    ]
    assert all(row.claimed_by is None for row in lane)
    with store.session() as session:
        first = claims.claim(session, "w", clock.now(), LEASE, 1)
    assert [item.payload["reply"]["text"] for item in first] == [f"poll {anna}"]


def test_a_lane_with_work_claimed_by_someone_is_not_claimed_again(store: Store, clock: FrozenClock):
    """An earlier message of the lane is under way (claimed, unfinished): the new reply is
    not written claimed, so the lane never has two messages going at once."""
    (anna,) = people(store, clock, 1)
    write(store, clock, [anna], ["earlier"], waiting=True)
    with store.session() as session:
        assert len(claims.claim(session, "other", clock.now(), LEASE, 10)) == 1
    claimed, _ = reply(store, clock, anna, [Outbound(anna, Reply("later"))])
    assert claimed == []
    assert [row.claimed_by for row in rows(store)] == ["other", None]


async def test_replies_written_claimed_by_a_process_that_died_are_sent_once_after_the_lease(
    store: Store, clock: FrozenClock
):
    """The turn committed its replies claimed, and its process died before sending them:
    no claim takes them while the lease runs; after it, another process's dispatcher sends
    each once, in order."""
    (anna,) = people(store, clock, 1)
    messages = [Outbound(anna, Reply("one")), Outbound(anna, Reply("two"))]
    claimed, _ = reply(store, clock, anna, messages, worker="died")
    assert len(claimed) == 2
    sent: list[str] = []

    async def send(item: OutboxItem) -> None:
        sent.append(item.payload["reply"]["text"])

    run = dispatcher(store, clock, send)
    assert await asyncio.wait_for(run.run_due(), timeout=30) == 0
    clock.advance(LEASE + timedelta(seconds=1))
    assert await asyncio.wait_for(run.run_due(), timeout=30) == 2
    assert await asyncio.wait_for(run.run_due(), timeout=30) == 0
    assert sent == ["one", "two"]
    assert all(row.done_at is not None for row in rows(store))


def test_a_post_for_the_pair_before_the_reply_in_its_space_goes_with_the_reply(
    store: Store, clock: FrozenClock
):
    """A turn posts to the pair's space for the other member, then replies there to the one
    waiting: one lane, both urgent (as `promote` made them), both claimed, in their order —
    the reply never claimed ahead of the post written before it."""
    anna, bert = people(store, clock, 2)
    space = SpaceRef("console", "test", "pair-1", SpaceKind.PAIR)
    messages = [Outbound(bert, Reply("post"), space), Outbound(anna, Reply("reply"), space)]
    claimed, seen = reply(store, clock, anna, messages)
    assert len(seen) == 1
    assert [item.payload["reply"]["text"] for item in claimed] == ["post", "reply"]
    assert [(row.priority, row.claimed_by) for row in rows(store)] == [(URGENT, "w")] * 2


def test_a_turn_of_six_hundred_messages_is_written_in_statements_of_bounded_size(
    store: Store, clock: FrozenClock
):
    """A coordinator's turn can write hundreds of messages: SQLite allows 500 terms in a
    compound SELECT, and each claimable row's lane check names every key of its statement.
    The rows go in statements of `CLAIMED_CHUNK`, the others' first; the waiting person's
    first messages are claimed, the rest wait in their lane for the dispatcher's chain."""
    anna, bert, cleo = people(store, clock, 3)
    others = [Outbound((bert, cleo)[i % 2], Reply(f"news {i}")) for i in range(550)]
    mine = [Outbound(anna, Reply(f"part {i}")) for i in range(50)]
    claimed, seen = reply(store, clock, anna, [*mine[:25], *others, *mine[25:]])
    inserts = [statement for statement in seen if statement.startswith("INSERT INTO outbox")]
    assert len(inserts) == 30
    assert len(rows(store)) == 600
    first = 20 - 550 % 20  # the statement that holds the last of the others' messages
    assert [item.payload["reply"]["text"] for item in claimed] == [
        f"part {i}" for i in range(first)
    ]
