"""A database Maatje cannot open stops `maatje db upgrade` and `maatje run` with one clear line
on stderr (exit code 2), never a traceback, and never the URL's password."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.store import Store
from tests.pg_server import free_port

RUN_CONFIG = """\
[console]
enabled = true

[[programmes]]
name = "Mentoraat"
slug = "m"
language = "en"
timezone = "Europe/Amsterdam"
start = "2026-01-01"
end = "2030-12-31"
meeting_cadence = "biweekly"
meetings = 4
"""


@pytest.fixture
def maatje(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """`maatje(url, *args)` runs the command line in `tmp_path` with DATABASE_URL=url and
    returns the one line it wrote to stderr (failing on anything else)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "maatje.toml").write_text(RUN_CONFIG)

    def run(url: str, *args: str) -> str:
        monkeypatch.setenv("DATABASE_URL", url)
        code = main(list(args))
        err = capsys.readouterr().err
        assert code == 2, (code, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("database: "), err
        return lines[0]

    return run


def not_sqlite(tmp_path: Path) -> str:
    path = tmp_path / "notes.db"
    path.write_text("These are my notes, not a database. " * 40)
    return f"sqlite:///{path}"


CASES = {
    "missing folder": (lambda p: f"sqlite:///{p / 'nowhere' / 'maatje.db'}", "does not exist"),
    "not a SQLite file": (not_sqlite, "is not a SQLite database file"),
    "bad URL": (lambda p: "postgres//maatje:s3cret@db/maatje", "is not a database URL"),
    "unsupported kind": (lambda p: "mysql://maatje:s3cret@db/maatje", "does not run on 'mysql'"),
    "PostgreSQL unreachable": (
        lambda p: f"postgresql://maatje:s3cret@127.0.0.1:{free_port()}/maatje",
        "Connection refused",
    ),
}


@pytest.mark.parametrize("command", [("db", "upgrade"), ("run", "--config", "maatje.toml")])
@pytest.mark.parametrize("case", list(CASES))
def test_a_database_that_cannot_be_opened_is_one_clear_line(maatje, tmp_path, case, command):
    make_url, expected = CASES[case]
    line = maatje(make_url(tmp_path), *command)
    assert expected in line
    assert "s3cret" not in line


def test_a_locked_database_is_named_as_locked(maatje, tmp_path: Path) -> None:
    """Another program holds SQLite's write lock (an open sqlite3 session, a second `maatje
    run`): start-up waits the store's busy timeout (10 s), then says so."""
    url = f"sqlite:///{tmp_path / 'maatje.db'}"
    store = Store(url)
    store.upgrade()
    store.dispose()
    holder = sqlite3.connect(tmp_path / "maatje.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        line = maatje(url, "run", "--config", "maatje.toml")
    finally:
        holder.close()
    assert "is locked by another program" in line
