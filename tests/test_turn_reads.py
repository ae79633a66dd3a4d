"""A typical step's statements, counted (not timed): the person's account, the run the event is
about (a button's, a form's, or the one going on in the space), its programme and what the turn
asks of the person (consent, coordinator role, their programme's language and zone) are read in
one statement; then the step writes its replies, moves its reminder and writes the run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from tests.meeting_support import answer, planned_pair
from tests.test_profiles import start


@contextmanager
def turn_statements(app) -> Iterator[list[str]]:
    """The SQL statements of the events' own transactions (`Core._handle`), in order."""
    seen: list[str] = []
    inside = [False]
    handle = app.core._handle

    def handling(event_):
        inside[0] = True
        try:
            return handle(event_)
        finally:
            inside[0] = False

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        if inside[0]:
            seen.append(" ".join(statement.split()))

    app.core._handle = handling
    event.listen(app.store.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(app.store.engine, "before_cursor_execute", note)
        app.core._handle = handle


def locked(app) -> list[str]:
    """On PostgreSQL, an event's transaction first locks the person (`Store.serialise`)."""
    return ["SELECT pg_advisory_xact_lock"] if app.store.dialect == "postgresql" else []


def kinds(seen: list[str]) -> list[str]:
    """Each statement as its verb and first table."""
    found = []
    for statement in seen:
        words = statement.split()
        verb = words[0]
        if verb == "SELECT" and "FROM" not in words:  # PostgreSQL's lock on the person
            table = words[1].split("(")[0]
        elif verb == "SELECT":
            table = words[words.index("FROM") + 1]
        else:  # INSERT INTO t, UPDATE t, DELETE FROM t
            table = words[1] if verb == "UPDATE" else words[2]
        found.append(f"{verb} {table}")
    return found


async def test_a_click_on_a_question_reads_its_run_with_the_person(database_url, clock):
    app, _, chat = start(database_url, clock)
    try:
        await chat.send("anna", "hello")
        await chat.send("anna", "yes")
        with turn_statements(app) as seen:
            await chat.click("anna", "mentee")
        assert "what do you study" in chat.last("anna")
        assert kinds(seen) == [
            *locked(app),
            "INSERT processed_event",  # the event, once
            "SELECT identity",  # the account, person, standing, the button's run and programme
            "INSERT membership",  # the answer: a mentee; its programme's language and zone
            # are the person's standing now (`standing.changed`): not read again for the replies
            "UPDATE outbox",  # the question's reminder and expiry moved to the next one
            "INSERT outbox",  # the replies, claimed
            "UPDATE flow_run",  # the run: its answer and next step
        ]
        assert "LEFT OUTER JOIN flow_run ON flow_run.id =" in seen[len(locked(app)) + 1]
    finally:
        app.store.dispose()


async def test_a_typed_answer_reads_the_conversation_with_the_person(database_url, clock):
    app, _, chat = start(database_url, clock)
    try:
        await chat.send("anna", "hello")
        await chat.send("anna", "yes")
        await chat.click("anna", "mentee")
        await chat.submit("anna", {"programme": "Law", "year": "2"})
        with turn_statements(app) as seen:
            await chat.send("anna", "A mentor who knows the ropes")
        assert "Which topics" in chat.last("anna")
        assert kinds(seen) == [
            *locked(app),
            "INSERT processed_event",
            "SELECT identity",  # with the run going on in the space, and its programme
            "SELECT membership",  # the intake's role, for the steps it skips
            "UPDATE outbox",
            "INSERT outbox",
            "UPDATE flow_run",
        ]
        assert "flow_run.status = 'active'" in seen[len(locked(app)) + 1]
    finally:
        app.store.dispose()


async def test_a_meeting_button_reads_no_member_apart(app, chat, clock):
    await chat.send("cora", "hello")
    await planned_pair(app, clock.now())
    with turn_statements(app) as seen:
        await answer(chat, "anna", "yes", "meet")
    assert chat.last("anna") == "Thanks! Now waiting for Maarten to confirm."
    assert kinds(seen) == [
        *locked(app),
        "INSERT processed_event",
        "SELECT identity",
        "SELECT meeting",  # with its pair, programme and both members
        "INSERT outbox",
        "INSERT outbox",
        "UPDATE meeting",
        "UPDATE identity",
    ]
