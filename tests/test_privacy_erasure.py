"""Erase and decline leave nothing: not in any table (SQLite and PostgreSQL), not in the
SQLite database files, and no one is reminded of a pair that no longer exists."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import inspect, text
from sqlmodel import col, select

from bot.domain import FlowRun, OutboxItem, Role, RunStatus
from bot.events import PersonRef
from bot.testing import Conversation
from tests import participants
from tests.test_intake import MENTEE_ANSWERS
from tests.test_matching_flow import MENTOR, fill_guide

ANNA = "u7qz-anna-slackid"  # her platform account id
NAME = "Annabel Zwartkop-Quist"  # the name her platform reports
HOPES = "zebra-hope-4417: get through statistics"
WHY = "quokka-why-9931: my sister dropped out"
POLL_TEXT = "narwhal-8812 the planning sessions"
TRACES = (ANNA, f"dm-{ANNA}", NAME, HOPES, WHY, POLL_TEXT)


def table_texts(app) -> str:
    """Every stored value of every table, as one text."""
    parts = []
    with app.store.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                parts.append(f"{table}: {tuple(row)}")
    return "\n".join(parts)


def file_bytes(app) -> dict[str, bytes]:
    """The SQLite database, its write-ahead log and its shared-memory index, as on disk."""
    path = Path(app.store.engine.url.database)
    files = (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
    return {f.name: f.read_bytes() for f in files if f.exists()}


def assert_gone(app, traces: tuple[str, ...]) -> None:
    stored = table_texts(app)
    assert [t for t in traces if t in stored] == []
    if app.store.dialect == "sqlite":
        for name, content in file_bytes(app).items():
            assert [t for t in traces if t.encode() in content] == [], name


async def intake(chat: Conversation, who: str, answers: list) -> None:
    await chat.send(who, "hello")
    for _, answer in answers:
        if isinstance(answer, dict):
            assert not (await chat.submit(who, answer)).form_errors
        else:
            await chat.send(who, answer)


async def test_erasure_leaves_nothing_behind_and_ends_the_pair_politely(app, chat, clock):
    chat.names[ANNA] = NAME
    await chat.send("cora", "hello")
    ref = PersonRef("console", "test", "maarten")
    participants.enrol(app.store, clock.now(), ref, "Maarten", Role.MENTOR, MENTOR)
    answers = dict(MENTEE_ANSWERS)
    answers.update(hopes=HOPES, motivation_why=WHY, language="1")  # Dutch, as Maarten
    await intake(chat, ANNA, list(answers.items()))
    assert "intake is complete" in chat.last(ANNA)

    await chat.command("cora", "match")
    await chat.click("cora", "all")
    assert any(NAME in t for t in chat.new("maarten"))
    for who in (ANNA, "maarten"):
        chat.enter(who, "pair-test-")
    await fill_guide(chat, ANNA, "1", "2")
    await chat.send("maarten", "1,2")  # Maarten has only begun his part
    await chat.command("cora", "poll", "send", "midterm", "to", "mentees")
    chat.where.pop(ANNA)
    for answer in ("3", "4", "3", "1,3", POLL_TEXT):
        await chat.send(ANNA, answer)
    assert "Thank" in chat.last(ANNA)
    await chat.command("cora", "pair", "Annabel")  # a coordinator's view names her
    for who in ("maarten", "cora"):
        chat.new(who)

    stored = table_texts(app)
    assert [t for t in TRACES if t not in stored] == []  # all of it was there

    await chat.command(ANNA, "privacy", "erase")
    await chat.click(ANNA, "confirm", token="c:privacy:erase")
    assert "erased everything" in chat.last(ANNA)

    assert_gone(app, TRACES)
    told = chat.new("maarten")
    assert any("Your match in Mentoraat Test has ended" in t for t in told), told
    assert all(NAME not in t for t in told)
    assert any("Maarten (mentor) has ended" in t for t in chat.new("cora"))
    with app.store.session() as session:
        runs = session.exec(select(FlowRun).where(FlowRun.status == RunStatus.ACTIVE)).all()
        assert [r.flow for r in runs if r.space_kind == "pair"] == []

    clock.advance(timedelta(days=40))  # reminders, nudges, fit check, escalations: none left
    for _ in range(10):
        await app.core.dispatcher.run_due()
        clock.advance(timedelta(days=1))
    assert chat.new("maarten") == []
    with app.store.session() as session:
        broken = session.exec(
            select(OutboxItem).where(
                col(OutboxItem.failed_at).is_not(None) | col(OutboxItem.last_error).is_not(None)
            )
        ).all()
    assert broken == []
    assert_gone(app, TRACES)


async def test_a_declined_consent_is_forgotten_also_on_disk(app, chat, clock):
    bob = "u8bob-declines-x3"
    chat.names[bob] = "Bob Declinatorius"
    await chat.send(bob, "hello")
    await chat.send(bob, "no")
    assert "not stored" in chat.last(bob)
    clock.advance(timedelta(hours=2))
    await app.core.dispatcher.run_due()
    assert_gone(app, (bob, f"dm-{bob}", "Bob Declinatorius"))
