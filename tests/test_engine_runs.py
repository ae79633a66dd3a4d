"""A run as the engine holds it (`bot.engine.runs`), on both databases: changed in memory during
a unit of work, written once when it commits, seen by any ORM statement about runs before that,
forgotten on a rollback; one object per run within a unit of work."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlmodel import select

from bot.domain import FlowRun, Person, RunStatus
from bot.engine import runs
from bot.events import SpaceKind, SpaceRef
from bot.store import Store
from tests.run_support import intake_run

NOW = datetime(2026, 10, 5, 9, tzinfo=UTC)
SPACE = SpaceRef("console", "test", "dm-anna", SpaceKind.DIRECT)


def _new_run(store: Store) -> int:
    with store.session() as session:
        person = Person(created_at=NOW)
        session.add(person)
        session.flush()
        assert person.id is not None
        run = intake_run(session, person.id, SPACE, NOW)
        return run.id


def _updates(seen: list[str]) -> list[str]:
    return [s for s in seen if s.lstrip().startswith("UPDATE flow_run")]


def test_a_run_is_written_once_when_its_unit_of_work_commits(store: Store) -> None:
    run_id = _new_run(store)
    seen: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    with store.session() as session:
        (run,) = runs.select_where(session, runs.TABLE.c.id == run_id)
        run.answers = {**run.answers, "consent": True}
        session.exec(select(Person)).all()  # another table: nothing to write for it
        run.step = "role"
        run.ask_seq += 1
        assert _updates(seen) == []
    assert len(_updates(seen)) == 1
    with store.session() as session:
        stored = session.get(FlowRun, run_id)
        assert (stored.step, stored.ask_seq, stored.answers) == ("role", 1, {"consent": True})


def test_an_orm_statement_about_runs_sees_what_the_unit_of_work_changed(store: Store) -> None:
    run_id = _new_run(store)
    with store.session() as session:
        (run,) = runs.select_where(session, runs.TABLE.c.id == run_id)
        run.status = RunStatus.DONE
        active = session.exec(select(FlowRun).where(FlowRun.status == RunStatus.ACTIVE)).all()
        assert active == []


def test_a_run_is_one_object_within_a_unit_of_work(store: Store) -> None:
    run_id = _new_run(store)
    with store.session() as session:
        (first,) = runs.select_where(session, runs.TABLE.c.id == run_id)
        first.step = "role"
        (again,) = runs.select_where(session, runs.TABLE.c.id == run_id)
        assert again is first and again.step == "role"


def test_a_rollback_forgets_what_the_unit_of_work_changed(store: Store) -> None:
    run_id = _new_run(store)
    with store.session() as session:
        (run,) = runs.select_where(session, runs.TABLE.c.id == run_id)
        run.status = RunStatus.CANCELLED
        session.rollback()
        (again,) = runs.select_where(session, runs.TABLE.c.id == run_id)
        assert again is not run and again.status == RunStatus.ACTIVE
    with pytest.raises(RuntimeError), store.session() as session:
        (run,) = runs.select_where(session, runs.TABLE.c.id == run_id)
        run.status = RunStatus.CANCELLED
        raise RuntimeError("the turn failed")
    with store.session() as session:
        assert session.get(FlowRun, run_id).status == RunStatus.ACTIVE
