"""The inbox on both databases: a recorded event is handled again only once its lease ran out,
each further attempt waits longer, an event that never gets handled is dropped in the end, and
erasure takes a person's unhandled events with it."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import event
from sqlmodel import select

from bot import inbox
from bot.domain import InboxEvent
from bot.events import Message, PersonRef, SpaceRef
from bot.testing import Conversation

LEASE = timedelta(seconds=30)  # bot.testing's claim lease


def hello(who: str, event_id: str) -> Message:
    return Message(
        person=PersonRef("console", "test", who),
        space=SpaceRef("console", "test", f"dm-{who}"),
        event_id=event_id,
        text="hello",
    )


def rows(chat: Conversation) -> list[InboxEvent]:
    with chat.core.store.session() as session:
        return list(session.exec(select(InboxEvent)).all())


async def test_a_recorded_event_is_handled_again_once_its_lease_ran_out(chat, clock) -> None:
    await chat.core.accept(hello("anna", "ev-1"))
    await chat.core.accept(hello("anna", "ev-1"))  # a platform's retry: still one row
    assert [r.event_id for r in rows(chat)] == ["ev-1"]
    assert await chat.core.redrive() == 0  # its process may still be at it
    clock.advance(LEASE + timedelta(seconds=1))
    assert await chat.core.redrive() == 1
    await chat.core.dispatcher.run_due()
    assert "May I store" in chat.last("anna")
    assert rows(chat) == []
    await chat.event(hello("anna", "ev-1"))  # handled already: nothing new
    assert len(chat.messages("anna")) == 1


async def test_an_event_that_never_gets_handled_is_dropped_in_the_end(chat, clock, caplog):
    await chat.core.accept(hello("anna", "ev-poison"))
    tries: list[str] = []

    async def dies_every_time(event) -> None:  # the process dies before the core is done
        tries.append(event.event_id)

    waits = []
    while rows(chat):
        due = rows(chat)[0].due_at
        waits.append(due - clock.now())
        clock.advance(due - clock.now())
        await chat.core.inbox.redrive(dies_every_time)
    assert len(tries) == inbox.MAX_ATTEMPTS
    assert waits[:5] == [LEASE, LEASE, LEASE * 2, LEASE * 4, LEASE * 8]  # then longer
    dropped = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(dropped) == 1 and "ev-poison dropped after 8 attempts" in dropped[0].getMessage()


async def test_erasure_takes_a_persons_unhandled_events(chat) -> None:
    for who, event_id in (("anna", "a1"), ("bram", "b1"), ("anna", "a2")):
        await chat.core.accept(hello(who, event_id))
    anna = PersonRef("console", "test", "anna")
    with chat.core.store.session() as session:
        assert inbox.forget_person(session, [anna]) == 2
    assert [r.event_id for r in rows(chat)] == ["b1"]


async def test_an_event_this_process_is_still_handling_is_not_handed_out(chat, clock) -> None:
    event = hello("anna", "ev-slow")
    await chat.core.accept(event)
    chat.core.inbox.handling(event)  # as Core.handle does while the event waits its turn
    for _ in range(3):
        clock.advance(LEASE + timedelta(seconds=1))
        assert await chat.core.redrive() == 0  # its lease is renewed, not run out
    chat.core.inbox.handled(event)  # say the process gave up on it (and lives on)
    clock.advance(LEASE + timedelta(seconds=1))
    assert await chat.core.redrive() == 1


async def test_a_recorded_event_leaves_no_row_once_handled(chat) -> None:
    event = hello("anna", "ev-2")
    await chat.core.accept(event)
    await chat.event(event)
    assert "May I store" in chat.last("anna")
    assert rows(chat) == []


async def test_after_a_restart_a_redriven_event_leaves_no_row(chat, clock) -> None:
    await chat.core.accept(hello("anna", "ev-3"))
    # The process dies before handling it; a new one knows nothing of what was recorded.
    chat.core.inbox = inbox.Inbox(chat.core.store, clock, LEASE)
    clock.advance(LEASE + timedelta(seconds=1))
    assert await chat.core.redrive() == 1
    await chat.core.dispatcher.run_due()
    assert "May I store" in chat.last("anna")
    assert rows(chat) == []


async def test_an_event_that_never_came_through_the_inbox_deletes_nothing_there(chat) -> None:
    deletes: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.startswith("DELETE FROM inbox"):
            deletes.append(statement)

    event.listen(chat.core.store.engine, "before_cursor_execute", note)
    try:
        await chat.send("anna", "hello")
    finally:
        event.remove(chat.core.store.engine, "before_cursor_execute", note)
    assert "May I store" in chat.last("anna")
    assert deletes == []
