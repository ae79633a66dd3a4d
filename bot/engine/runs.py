"""A conversation's run as the engine holds it during a unit of work.

Nearly every event reads one run and changes it (its answers, then its step). Through the ORM
that cost a load into the session, the unit of work's bookkeeping and a flush — and a flush
before every later query of the turn, or one UPDATE per query that happened to follow a change.
So a run is a plain object here (`Run`): read with the statement that finds it, held in memory
for the unit of work (one object per run, as an identity map would give), and written with one
UPDATE of the columns that changed, when the session commits.

Whatever else reads the flow_run table in the same unit of work sees what the turn did: the
held runs are written first when an ORM statement about to run reads or writes that table (the
session's `do_orm_execute` event), when `select` looks for runs (closing a programme, closing a
poll, erasing a person) and before a new run is inserted (the unique index of active runs).
A rollback forgets the held runs, as the ORM forgets what it had not committed.

A unit of work that read a person's active run in a space along with something else (the
person's account: `bot.engine.lookups`) remembers which it was (`note_active`), so that looking
for it again costs no statement (`known_active`), until the unit of work inserts a run, or an
ORM statement writes the table: then it looks again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Join,
    Select,
    Table,
    bindparam,
    event,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.util import find_tables

from bot.domain import FlowRun, RunStatus
from bot.prepared import Prepared

TABLE: Table = FlowRun.__table__  # type: ignore[attr-defined]
_HELD = "maatje.runs"
IS_ACTIVE = TABLE.c.status == literal_column(f"'{RunStatus.ACTIVE.value}'")
"""The condition "the run is active", its value written into the statement, not bound: SQLite
uses the partial index of active runs (`uq_flow_run_active_conversation`) for a bound value
too, but then prepares the statement again at every execution (the plan depends on the
value), ten times the cost of the lookup."""
_KNOWN_ACTIVE = "maatje.runs.active"


@dataclass(eq=False)
class Run:
    """One run's columns (`FlowRun`), and what was last read or written of those that change."""

    id: int
    flow: str
    version: int
    subject: str
    person_id: int
    programme_id: int | None
    space_platform: str
    space_workspace: str
    space_channel: str
    space_kind: str
    step: str
    ask_seq: int
    answers: dict[str, Any]
    status: str
    started_at: datetime
    updated_at: datetime
    saved: dict[str, Any] = field(default_factory=dict, repr=False)

    def changes(self) -> dict[str, Any]:
        """The changing columns whose value differs from what the database has."""
        return {
            name: value
            for name in CHANGING
            if (value := getattr(self, name)) != self.saved.get(name)
        }

    def mark_saved(self) -> None:
        self.saved = {name: getattr(self, name) for name in CHANGING}
        self.saved["answers"] = dict(self.answers)  # a step may change the dict in place


COLUMNS = tuple(f.name for f in fields(Run) if f.name != "saved")
CHANGING = ("version", "step", "ask_seq", "answers", "status", "updated_at")
SELECTED = tuple(TABLE.c[name] for name in COLUMNS)
"""The columns to select for `adopt`, in `Run`'s order."""


def held(session: Session) -> dict[int, Run]:
    """The runs this unit of work holds, by id."""
    return session.info.setdefault(_HELD, {})


def adopt(session: Session, row: Iterable[Any]) -> Run:
    """The run of a row of `SELECTED` columns: the one already held, or a new one held now."""
    values = tuple(row)
    runs = held(session)
    run = runs.get(values[0])
    if run is None:
        run = Run(*values)
        run.mark_saved()
        runs[run.id] = run
    return run


def note_active(session: Session, key: tuple[Any, ...], found: Iterable[Run]) -> None:
    """Remember that the active runs of `key` (a person and a space) are the held `found`."""
    session.info.setdefault(_KNOWN_ACTIVE, {})[key] = tuple(run.id for run in found)


def known_active(session: Session, key: tuple[Any, ...]) -> list[Run] | None:
    """The active runs of `key` (`note_active`) as this unit of work left them; None when
    they are not known (they must be read)."""
    known = session.info.get(_KNOWN_ACTIVE)
    ids = known.get(key) if known else None
    if ids is None:
        return None
    runs = held(session)
    return [run for run in (runs[i] for i in ids) if run.status == RunStatus.ACTIVE]


def _forget_active(session: Session) -> None:
    session.info.pop(_KNOWN_ACTIVE, None)


def select_where(session: Session, *where: ColumnElement[bool]) -> list[Run]:
    """The runs matching `where`, held runs written first (so the database's answer is right)
    and returned as the objects held."""
    write(session)
    rows = session.connection().execute(select(*SELECTED).where(*where).order_by(TABLE.c.id))
    return [adopt(session, row) for row in rows]


def create(session: Session, **values: Any) -> Run:
    """Insert a new run (held runs written first: the one it replaces must not be active in the
    database any more) and hold it."""
    write(session)
    _forget_active(session)
    values.setdefault("ask_seq", 0)
    values.setdefault("status", RunStatus.ACTIVE)
    outcome = _INSERT.execute(session.connection(), values)
    run = Run(id=outcome.rows[0][0], **values)
    run.mark_saved()
    held(session)[run.id] = run
    return run


_INSERT = Prepared(
    insert(TABLE)
    .values({name: bindparam(name) for name in COLUMNS if name != "id"})
    .returning(TABLE.c.id)
)
"""A new run, every column given (`Run`'s): built and prepared once, as `_update`'s."""
_UPDATES: dict[tuple[str, ...], Prepared] = {}


def _update(columns: tuple[str, ...]) -> Prepared:
    """The UPDATE of these columns by id (a handful of combinations: built and prepared once
    each, `bot.prepared`; nearly every event writes its run). A Core statement, as before: the
    session's `do_orm_execute` events, which look at ORM statements, never saw it."""
    statement = _UPDATES.get(columns)
    if statement is None:
        statement = _UPDATES[columns] = Prepared(
            update(TABLE)
            .where(TABLE.c.id == bindparam("run_id"))
            .values({name: bindparam(name) for name in columns})
        )
    return statement


def dirty(session: Session) -> bool:
    return any(run.changes() for run in session.info.get(_HELD, {}).values())


def write(session: Session) -> None:
    """Write what changed in the held runs, one UPDATE per run that changed."""
    for run in session.info.get(_HELD, {}).values():
        changes = run.changes()
        if changes:
            _update(tuple(changes)).execute(session.connection(), {"run_id": run.id, **changes})
            run.mark_saved()


# -- the session's events --------------------------------------------------------------------

_TABLES: dict[Any, frozenset[Table] | None] = {}
_TABLES_KEPT = 2000
"""How many statement shapes `_tables` remembers (a handful of dozens in practice)."""
_UNSEEN: Any = object()


def _tables(statement: Any) -> frozenset[Table] | None:
    """The tables a SELECT or DML statement reads or writes, anywhere in it (None: unknown,
    e.g. text or an alias). Kept per statement shape, by SQLAlchemy's cache key: many
    statements are built anew for each use (a walk through one cost more than building it),
    and their execution compiles with the same key, which the statement keeps once made."""
    if not isinstance(statement, Select | UpdateBase):
        return None
    cache_key = statement._generate_cache_key()
    if cache_key is None:  # a statement SQLAlchemy doesn't cache either
        return _find_tables(statement)
    tables = _TABLES.get(cache_key.key, _UNSEEN)
    if tables is _UNSEEN:
        tables = _find_tables(statement)
        if len(_TABLES) >= _TABLES_KEPT:
            _TABLES.clear()
        _TABLES[cache_key.key] = tables
    return tables


def _find_tables(statement: Select | UpdateBase) -> frozenset[Table] | None:
    tables: set[Table] | None = set()
    for found in find_tables(
        statement,
        check_columns=True,
        include_aliases=True,
        include_joins=True,
        include_selects=True,
        include_crud=True,
    ):
        if isinstance(found, Table):
            tables.add(found)
        elif found is not None and not isinstance(found, Select | Join):
            tables = None  # an alias, a function: take no chances
            break
    return frozenset(tables) if tables is not None else None


@event.listens_for(Session, "do_orm_execute")
def _before_orm_statement(state: ORMExecuteState) -> None:
    """An ORM statement that reads or writes flow_run sees the held runs' changes; one that
    writes it makes the active runs noted be looked up again (`known_active`)."""
    session = state.session
    if _KNOWN_ACTIVE in session.info and not state.is_select and _about_runs(state.statement):
        _forget_active(session)
    if not session.info.get(_HELD):
        return
    if not dirty(session):
        return
    if _about_runs(state.statement):
        write(session)


def _about_runs(statement: Any) -> bool:
    """Whether `statement` may read or write flow_run."""
    tables = _tables(statement)
    return tables is None or TABLE in tables


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(_HELD):
        write(session)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_HELD, None)
    _forget_active(session)
