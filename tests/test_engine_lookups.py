"""How the engine looks a person's conversation up, on both databases: through the partial
index of active runs, with the status written into the statement (SQLite prepares a statement
again at every execution when a bound value decides whether a partial index applies)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event

from bot.domain import Person, RunStatus
from bot.engine import Engine
from bot.events import SpaceKind, SpaceRef
from bot.i18n import Translator
from bot.store import Store
from tests.run_support import intake_run

NOW = datetime(2026, 10, 5, 9, tzinfo=UTC)
SPACE = SpaceRef("console", "test", "dm-anna", SpaceKind.DIRECT)


def _runs(store: Store, *statuses: str) -> tuple[int, list[int]]:
    """A person with a run of each status in `SPACE`: their id and the runs' ids."""
    with store.session() as session:
        person = Person(created_at=NOW)
        session.add(person)
        session.flush()
        assert person.id is not None
        made = [intake_run(session, person.id, SPACE, NOW, status=status).id for status in statuses]
        return person.id, made


def test_the_active_run_is_found_with_its_status_written_into_the_statement(store: Store):
    person_id, (_, active, _) = _runs(store, RunStatus.DONE, RunStatus.ACTIVE, RunStatus.CANCELLED)
    seen: list[tuple[str, object]] = []
    event.listen(
        store.engine, "before_cursor_execute", lambda *args: seen.append((args[2], args[3]))
    )
    engine = Engine({}, Translator())
    with store.session() as session:
        found = engine.active_run(session, person_id, SPACE)
        assert found is not None and found.id == active
    ((statement, parameters),) = [(s, p) for s, p in seen if "FROM flow_run" in s]
    assert "flow_run.status = 'active'" in statement
    values = parameters.values() if isinstance(parameters, dict) else parameters
    assert RunStatus.ACTIVE.value not in list(values)


def test_no_active_run_is_found_when_every_run_has_ended(store: Store):
    person_id, _ = _runs(store, RunStatus.DONE, RunStatus.EXPIRED)
    with store.session() as session:
        assert Engine({}, Translator()).active_run(session, person_id, SPACE) is None
