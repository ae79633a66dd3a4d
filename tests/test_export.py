"""The coordinator's CSV export: what is in it, and what never is."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlmodel import select

from bot.domain import Goal, IntakeAnswer, Programme
from bot.testing import Conversation
from tests.meeting_support import make_pair

ROOT = Path(__file__).resolve().parent.parent


def rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


async def test_export_has_pairs_and_goals_but_no_private_answers(app, chat: Conversation, clock):
    await chat.send("cora", "hello")
    with app.store.session() as session:
        pair = make_pair(session, clock.now())
        programme = session.exec(select(Programme)).one()
        session.add(
            IntakeAnswer(
                person_id=pair.mentee_id,
                programme_id=programme.id,
                role="mentee",
                key="hopes",
                value="my secret hope",
            )
        )
        session.add(
            Goal(
                pair_id=pair.id,
                mentee_id=pair.mentee_id,
                what="Plan exam week",
                measure="a plan",
                confidence=4,
                why="private reason",
                due=date(2026, 12, 1),
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
    await chat.command("cora", "export")
    files = {f.filename: f.content for f in chat.last_message("cora").files}
    assert set(files) == {f"test-{n}.csv" for n in ("pairs", "meetings", "goals", "polls")}
    (row,) = rows(files["test-pairs.csv"])
    assert (row["mentor"], row["mentee"], row["status"]) == ("Maarten", "Anna", "active")
    (goal,) = rows(files["test-goals.csv"])
    assert (goal["goal"], goal["due"], goal["status"]) == ("Plan exam week", "2026-12-01", "open")
    everything = b"".join(files.values())
    assert b"my secret hope" not in everything and b"private reason" not in everything

    await chat.command("anna", "export")
    assert "only the programme's coordinators" in chat.last("anna")


def test_export_from_the_command_line(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}",
    }
    run = [sys.executable, "-m", "bot.cli"]
    done = subprocess.run(
        [*run, "export", "nope"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "no programme 'nope'" in done.stderr


def test_export_of_the_demo_programme_writes_four_files(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATABASE_URL": url}
    run = [sys.executable, "-m", "bot.cli"]
    subprocess.run(
        [*run, "demo", "--database", url],
        input="/quit\n",
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    done = subprocess.run(
        [*run, "export", "demo", "--out", str(tmp_path / "out")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    pairs = rows((tmp_path / "out" / "demo-pairs.csv").read_bytes())
    assert {(p["mentor"], p["mentee"]) for p in pairs} >= {("Maarten", "Chloé"), ("Mila", "Eva")}
