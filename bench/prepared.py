"""Micro benchmark: the outbox's hot statements through `Connection.execute` against
`bot.prepared.Prepared` (the same compiled SQL on the connection's DBAPI cursor), on a SQLite
file database with the schema.

    python -m bench.prepared [--rows 300] [--runs 3000]

Prints microseconds per execution for each path, and for the database alone (the SQL with
parameters bound beforehand, on a plain cursor): what neither path can save.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bot.claims import _CLAIM, _PROBE
from bot.outbox import _COMPLETE_SENT, _FIRST_SIGHT, _OUTBOX
from bot.prepared import Prepared
from bot.store import Store

NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _fill(store: Store, rows: int) -> None:
    kinds = ["send", "reminder", "digest"]
    with store.engine.begin() as connection:
        connection.execute(
            insert(_OUTBOX),
            [
                {
                    "kind": kinds[i % 3],
                    "payload": {"text": f"hello {i}", "chat": f"C{i % 40}"},
                    "idempotency_key": f"k{i}",
                    "lane": f"lane{i % 40}" if i % 2 else None,
                    "priority": 1 + i % 2,
                    "attempts": 0,
                    "due_at": NOW + timedelta(minutes=i - rows // 2),
                    "created_at": NOW - timedelta(hours=1),
                }
                for i in range(rows)
            ],
        )


def _cases() -> dict[str, tuple[Any, Callable[[int], dict[str, Any]], Callable[[Any], Any]]]:
    """name: (statement, parameters of the i-th run, what a caller takes of SQLAlchemy's result)."""
    past = NOW - timedelta(seconds=1)  # claims that ran out: the same rows are claimed again
    return {
        "complete_sent": (
            _COMPLETE_SENT,
            lambda i: {"item_ids": [i % 300 + 1, (i + 7) % 300 + 1], "worker": "w", "now": NOW},
            lambda result: result.rowcount,
        ),
        "first_sight": (
            _FIRST_SIGHT["sqlite"],
            lambda i: {"platform": "slack", "event_id": f"E{i}", "at": NOW},
            lambda result: result.first(),
        ),
        "claim": (
            _CLAIM["kinds"],
            lambda i: {"now": NOW, "until": past, "worker": "w", "limit": 5, "kinds": ["send"]},
            lambda result: result.all(),
        ),
        "look": (_PROBE, lambda i: {"now": NOW}, lambda result: result.all()),
    }


def _time(run: Callable[[int], Any], runs: int, offset: int) -> float:
    start = time.process_time()
    for i in range(offset, offset + runs):
        run(i)
    return (time.process_time() - start) / runs * 1e6


def measure(rows: int, runs: int, rounds: int) -> None:
    """The best of `rounds` alternated rounds of each path (CPU time: the machine is shared)."""
    with tempfile.TemporaryDirectory() as directory:
        store = Store(f"sqlite:///{directory}/bench.db")
        store.upgrade()
        _fill(store, rows)
        print(f"{'statement':<14} {'execute µs':>11} {'prepared µs':>12} {'database µs':>12} saved")
        for name, (statement, parameters, take) in _cases().items():
            columns = ["platform", "event_id", "at"] if name == "first_sight" else ()
            prepared = Prepared(statement, columns)
            with store.engine.connect() as connection:
                connection.begin()

                def through_sqlalchemy(i: int, statement=statement, p=parameters, take=take) -> Any:
                    return take(connection.execute(statement, p(i)))

                def through_prepared(i: int, prepared=prepared, p=parameters) -> Any:
                    return prepared.execute(connection, p(i))

                best = [float("inf")] * 3
                for r in range(rounds):
                    offset = 3 * r * runs
                    best[0] = min(best[0], _time(through_sqlalchemy, runs, offset))
                    best[1] = min(best[1], _time(through_prepared, runs, offset + runs))
                    database = _database(connection, prepared, parameters, runs, offset + 2 * runs)
                    best[2] = min(best[2], database)
                connection.rollback()
            sqlalchemy, direct, database = best
            saved = (sqlalchemy - direct) / sqlalchemy
            print(f"{name:<14} {sqlalchemy:11.1f} {direct:12.1f} {database:12.1f} {saved:5.0%}")
        store.dispose()


def _database(connection, prepared: Prepared, parameters, runs: int, offset: int) -> float:
    """The SQL alone, its parameters bound beforehand, on a plain cursor."""
    compiled = prepared._compiled["sqlite"]
    work = []
    for i in range(offset, offset + runs):
        values = {**compiled.defaults, **parameters(i)}
        form = compiled.form(values)
        work.append((form.sql, form.bind(values)))
    cursor = connection.connection.cursor()
    start = time.process_time()
    for sql, bound in work:
        cursor.execute(sql, bound)
        cursor.fetchall()
    return (time.process_time() - start) / runs * 1e6


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    measure(arguments.rows, arguments.runs, arguments.rounds)
