"""Prepared statements (`bot.prepared`) give what SQLAlchemy's execution gives — the same rows,
of the same types, the same counts of rows changed — on SQLite and PostgreSQL; the engine's
cursor listeners see them; database errors surface as SQLAlchemy's; they run in the
connection's transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot import claims, outbox, outbox_claimed
from bot.domain import OutboxItem
from bot.pacing import BULK, URGENT
from bot.prepared import Prepared
from bot.store import Store

NOW = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(minutes=5)
_OUTBOX = OutboxItem.__table__


def _seed(store: Store) -> None:
    with store.session() as session:
        for i in range(6):
            kind = "send" if i % 2 else "job.a"
            payload = {"text": f"hello {i}", "n": [i, None], "nested": {"ok": True}}
            due = EARLIER if i < 4 else NOW + timedelta(hours=i)
            outbox.enqueue(session, kind, payload, f"k{i}", due, EARLIER, lane=f"lane{i % 3}")
        connection = session.connection()
        connection.execute(  # urgent, in a lane of its own
            _OUTBOX.update()
            .where(_OUTBOX.c.idempotency_key == "k3")
            .values(priority=URGENT, lane="urgent")
        )
        connection.execute(  # claims that ran out
            _OUTBOX.update()
            .where(_OUTBOX.c.idempotency_key.in_(["k0", "k1"]))
            .values(claimed_by="w", claimed_until=EARLIER)
        )
        session.commit()


@pytest.fixture
def twins(request: pytest.FixtureRequest, tmp_path, database_url: str) -> Iterator[list[Store]]:
    """Two databases of the test's dialect, seeded alike: one for each path (rolling back
    would not do: SQLite's driver begins no transaction for a `WITH … UPDATE` that comes
    first, and PostgreSQL's sequences do not roll back)."""
    if database_url.startswith("sqlite"):
        urls = [database_url, f"sqlite:///{tmp_path / 'twin.db'}"]
    else:
        urls = [database_url, request.getfixturevalue("postgres").fresh_database()]
    stores = [Store(url) for url in urls]
    for store in stores:
        store.upgrade()
        _seed(store)
    yield stores
    for store in stores:
        store.dispose()


def _typed(rows: list[Any]) -> list[list[tuple[type, Any]]]:
    return [[(type(value), value) for value in row] for row in rows]


def _both(
    twins: list[Store], statement: Any, parameters: dict[str, Any], columns: tuple[str, ...] = ()
) -> tuple[tuple[list, int], tuple[list, int]]:
    """The statement's rows, and the count of rows changed by a statement returning none,
    through SQLAlchemy on the one database and prepared on the other."""
    theirs_store, ours_store = twins
    with theirs_store.engine.begin() as connection:
        result = connection.execute(statement, parameters)
        rows = _typed(result.all()) if result.returns_rows else []
        theirs = (rows, -1 if result.returns_rows else result.rowcount)
    with ours_store.engine.begin() as connection:
        outcome = Prepared(statement, columns).execute(connection, parameters)
        ours = (_typed(outcome.rows), -1 if theirs[1] == -1 else outcome.rowcount)
    return theirs, ours


def _dialect(store: Store) -> str:
    return store.engine.dialect.name


CASES: dict[str, Callable[[Store], tuple[Any, dict[str, Any], tuple[str, ...]]]] = {
    "look": lambda store: (claims._PROBE, {"now": NOW}, ()),
    "claim urgent": lambda store: (
        claims._CLAIM["urgent"],
        {"now": NOW, "until": NOW + timedelta(minutes=1), "worker": "w", "limit": 5},
        (),
    ),
    "claim kinds": lambda store: (
        claims._CLAIM["kinds"],
        {
            "now": NOW,
            "until": NOW + timedelta(minutes=1),
            "worker": "w",
            "limit": 5,
            "kinds": ["job.a", "send"],
        },
        (),
    ),
    "complete_sent": lambda store: (
        outbox._COMPLETE_SENT,
        {"item_ids": [1, 2, 3], "worker": "w", "now": NOW},
        (),
    ),
    "first_sight": lambda store: (
        outbox._FIRST_SIGHT[_dialect(store)],
        {"platform": "slack", "event_id": "E1", "at": NOW},
        ("platform", "event_id", "at"),
    ),
    "write_claimed": lambda store: (
        outbox_claimed._write_claimed_statement(_dialect(store), (False, True)).statement,
        {
            "worker": "w",
            "until": NOW + timedelta(minutes=1),
            **{
                f"{name}_{i}": value
                for i in range(2)
                for name, value in {
                    "kind": "send",
                    "payload": {"text": f"reply {i}", "list": [1, 2]},
                    "idempotency_key": f"new{i}",
                    "lane": f"new lane{i}",
                    "priority": URGENT if i else BULK,
                    "due_at": NOW,
                    "created_at": NOW,
                }.items()
            },
        },
        (),
    ),
    "move": lambda store: (
        outbox._move_statement(2).statement,
        {
            "old": ["k4", "k5"],
            "old_0": "k4",
            "old_1": "k5",
            "key_0": "k4 moved",
            "key_1": "k5 moved",
            "due_0": NOW,
            "due_1": NOW + timedelta(days=1),
            "payload": {"moved": True},
            "now": NOW,
        },
        (),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_prepared_statement_gives_what_sqlalchemy_gives(twins: list[Store], case: str) -> None:
    statement, parameters, columns = CASES[case](twins[0])
    theirs, ours = _both(twins, statement, parameters, columns)
    assert ours == theirs
    assert theirs[0] or theirs[1] > 0  # the case found something to compare


def test_rows_written_by_a_prepared_insert_read_as_sqlalchemy_writes_them(
    twins: list[Store],
) -> None:
    rows = [
        {
            "kind": "send",
            "payload": {"text": f"hello {i}", "é": [i]},
            "idempotency_key": f"many{i}",
            "due_at": NOW + timedelta(seconds=i),
            "created_at": NOW,
            "lane": None,
            "attempts": 0,
            "priority": BULK,
        }
        for i in range(3)
    ]
    columns = tuple(rows[0])
    read = select(_OUTBOX).order_by(_OUTBOX.c.idempotency_key)
    statement = outbox._ENQUEUE[_dialect(twins[0])]
    with twins[0].engine.begin() as connection:
        connection.execute(statement, rows)
        theirs = _typed(connection.execute(read).all())
    with twins[1].engine.begin() as connection:
        Prepared(statement, columns).execute_many(connection, rows)
        Prepared(statement, columns).execute_many(connection, rows[:1])  # a duplicate
        ours = _typed(connection.execute(read).all())
    assert ours == theirs and len(ours) == 9


def test_the_engine_listeners_see_each_prepared_statement(store: Store) -> None:
    seen: list[tuple[str, Any, bool]] = []

    def note(_conn, _cursor, sql, parameters, _context, many) -> None:
        seen.append((sql, parameters, many))

    event.listen(store.engine, "before_cursor_execute", note)
    try:
        with store.session() as session:
            assert outbox.first_sight(session, "slack", "E1", NOW)
            assert outbox.complete_sent(session, [1, 2], "w", NOW) == 0
    finally:
        event.remove(store.engine, "before_cursor_execute", note)
    first, complete = seen
    assert first[0].startswith("INSERT INTO processed_event ") and not first[2]
    assert complete[0].startswith("UPDATE outbox") and "w" in list(
        complete[1].values() if isinstance(complete[1], dict) else complete[1]
    )


def test_a_database_error_surfaces_as_sqlalchemys(store: Store) -> None:
    statement = insert(_OUTBOX)
    row = {"kind": None, "payload": {}, "idempotency_key": "k", "due_at": NOW, "created_at": NOW}
    row |= {"priority": BULK, "attempts": 0}
    with store.engine.connect() as connection, pytest.raises(IntegrityError):
        Prepared(statement, tuple(row)).execute(connection, row)


def test_a_column_left_to_its_default_is_refused(store: Store) -> None:
    """SQLAlchemy computes the default of `attempts` when it runs the insert: prepared, the
    column would be NULL instead."""
    row = {"kind": "send", "payload": {}, "idempotency_key": "k", "due_at": NOW}
    row |= {"created_at": NOW, "priority": BULK}
    with store.engine.connect() as connection, pytest.raises(ValueError, match="defaults"):
        Prepared(insert(_OUTBOX), tuple(row)).execute(connection, row)


def _count(connection: Connection) -> int:
    return connection.execute(select(func.count()).select_from(_OUTBOX)).scalar_one()


def test_a_prepared_statement_runs_in_the_connections_transaction(store: Store) -> None:
    row = {"kind": "send", "payload": {}, "due_at": NOW, "created_at": NOW, "priority": BULK}
    row["attempts"] = 0
    statement = Prepared(insert(_OUTBOX), (*row, "idempotency_key"))
    with store.engine.connect() as connection:
        statement.execute(connection, {**row, "idempotency_key": "rolled back"})
        assert connection.in_transaction()
        connection.rollback()
        statement.execute(connection, {**row, "idempotency_key": "committed"})
        connection.commit()
    with store.engine.connect() as connection:
        assert _count(connection) == 1
