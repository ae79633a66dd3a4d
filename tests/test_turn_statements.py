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
