"""What one participant's event costs the database: nothing read or written for nothing.

Statements are counted, not timed (speed is measured in `bench/`): a participant's answer does
not read every programme (to check coordinator rights, or for a language while the platform's
profile is not known yet), does not plan a profile lookup already planned, and looks their
conversation up once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from tests.meeting_support import answer, planned_pair
from tests.test_profiles import start


@contextmanager
def statements(app) -> Iterator[list[tuple[str, str]]]:
    """The SQL statements (text, parameters) the block runs, on the app's engine."""
    seen: list[tuple[str, str]] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append((" ".join(statement.split()), str(parameters)))

    event.listen(app.store.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(app.store.engine, "before_cursor_execute", note)


def reads(seen: list[tuple[str, str]], table: str) -> list[str]:
    return [s for s, _ in seen if s.startswith("SELECT") and f"FROM {table} " in f"{s} "]


def every_programme(seen: list[tuple[str, str]]) -> list[str]:
    """Reads of the whole programme table (not one programme through a membership)."""
    return [s for s in reads(seen, "programme") if " WHERE " not in s]


async def test_an_answer_reads_no_programme_list_and_plans_its_lookup_once(database_url, clock):
    app, platform, chat = start(database_url, clock)
    try:
        platform.down = True  # the lookup stays to do (Slack's pacing: minutes for a crowd)
        await chat.send("anna", "hello")
        await chat.send("anna", "yes")
        with statements(app) as seen:
            await chat.click("anna", "mentee")
            await chat.submit("anna", {"programme": "Law", "year": "2"})
        assert "hope to get out of" in chat.last("anna")
        assert every_programme(seen) == []
        assert not [s for s, p in seen if s.startswith("INSERT") and "'profile:" in p]
    finally:
        app.store.dispose()


async def test_a_first_message_looks_for_a_conversation_once(database_url, clock):
    app, _, chat = start(database_url, clock)
    try:
        with statements(app) as seen:
            await chat.send("anna", "hello")
        assert "May I store" in chat.last("anna")
        assert len(reads(seen, "flow_run")) == 1
    finally:
        app.store.dispose()


def writes(seen: list[tuple[str, str]], table: str) -> list[str]:
    return [s for s, _ in seen if s.startswith(f"UPDATE {table} ")]


async def test_an_intake_answer_reads_the_membership_once_and_writes_the_run_once(
    database_url, clock
):
    """Answering the mentee's last topic question passes three mentor questions, whose skip
    predicates each ask the role: the membership is read once for the turn, the run (its
    answers, then its next step) is written once, and the click's run comes with its
    programme (no separate read of the programme)."""
    app, _, chat = start(database_url, clock)
    try:
        await chat.send("anna", "hello")
        await chat.send("anna", "yes")
        await chat.click("anna", "mentee")
        await chat.submit("anna", {"programme": "Law", "year": "2"})
        await chat.send("anna", "A mentor who knows the ropes")
        topic = chat.last_message("anna").choices[0].value
        with statements(app) as seen:
            await chat.click("anna", topic)
        assert "On which days" in chat.last("anna")  # background, expertise, capacity skipped
        assert len([s for s in reads(seen, "membership") if "membership.role !=" in s]) == 1
        assert len(writes(seen, "flow_run")) == 1
        assert [s for s in reads(seen, "programme") if "WHERE programme.id =" in s] == []
    finally:
        app.store.dispose()


async def test_a_meeting_button_reads_meeting_pair_and_programme_in_one_statement(app, chat, clock):
    await chat.send("cora", "hello")
    await planned_pair(app, clock.now())
    with statements(app) as seen:
        await answer(chat, "anna", "yes", "meet")
    assert chat.last("anna") == "Thanks! Now waiting for Maarten to confirm."
    assert len(reads(seen, "meeting")) == 1  # with its pair and programme, joined
    assert reads(seen, "pair") == []
    assert [s for s in reads(seen, "programme") if "WHERE programme.id =" in s] == []
