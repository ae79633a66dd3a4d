"""The outbox at a burst: what a claim round costs when much is due and half of it is claimed.

At 09:00 and 10:00 of every programme day a 1,000-pair programme has hundreds of jobs and
messages due at once, and the dispatcher looks again after every piece of work. This case
builds that moment — `--burst-sends` messages and `--burst-jobs` jobs due (half of each
claimed by another worker, the earliest half, as claims take them), a few other actions, and
`--burst-future` actions due later (the rest of the programme) — and measures, in
transactions rolled back after each round so that every round sees the same table:

- the round while a chain of jobs runs (the dispatcher's most frequent claim at a burst:
  only urgent work may be claimed, and there is none — the look that finds so);
- the claim of a chain of jobs;
- the claim of messages once no job is due.

Each figure is the process's CPU time per round (min and median of `--rounds` loops of
`--reps` rounds); on PostgreSQL the CPU of the server's backend for the round's statements
beside it (the average over all rounds: /proc counts in clock ticks). The session has its
connection before the round starts. `--explain` prints the database's plan of each statement.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

NOW = datetime(2026, 10, 5, 9, 30, tzinfo=UTC)
JOB = "meeting.followup"
JOB_KINDS = (JOB, "flow.remind", "flow.expire", "meeting.reminder", "stalled.daily")
OTHER = "profile.refresh"
LEASE = timedelta(minutes=10)
PLACES, BULK_PLACES, OTHER_PLACES = 50, 37, 4


def _row(kind: str, key: str, due: datetime, lane: str | None = None) -> dict[str, Any]:
    payload = {"person": 1, "reply": {"text": "x" * 200}} if kind == "send" else {"run": 1}
    return {
        "kind": kind,
        "payload": payload,
        "idempotency_key": key,
        "due_at": due,
        "created_at": NOW - timedelta(days=1),
        "lane": lane,
    }


def seed(store: Any, sends: int, jobs: int, future: int) -> None:
    """The burst's rows, then the earlier half of each kind claimed by another worker."""
    from sqlalchemy import update

    from bot import outbox
    from bot.domain import OutboxItem

    start = NOW - timedelta(minutes=30)
    rows = [_row(JOB, f"job:{i}", start + timedelta(seconds=i)) for i in range(jobs)]
    rows += [
        _row("send", f"send:{i}", start + timedelta(seconds=i), f"person:{i}") for i in range(sends)
    ]
    rows += [_row(OTHER, f"other:{i}", start + timedelta(seconds=i)) for i in range(10)]
    kinds = ("send", *JOB_KINDS)
    rows += [
        _row(kinds[i % len(kinds)], f"future:{i}", NOW + timedelta(hours=1 + i % 3000))
        for i in range(future)
    ]
    table = OutboxItem.__table__
    with store.session() as session:
        outbox.enqueue_many(session, rows)
        for kind, count in ((JOB, jobs), ("send", sends), (OTHER, 10)):
            first = (
                session.connection()
                .execute(
                    table.select()
                    .with_only_columns(table.c.id)
                    .where(table.c.kind == kind, table.c.due_at <= NOW)
                    .order_by(table.c.due_at, table.c.id)
                    .limit(count // 2)
                )
                .scalars()
                .all()
            )
            session.connection().execute(
                update(table)
                .where(table.c.id.in_(first))
                .values(claimed_by="other", claimed_until=NOW + LEASE, attempts=1)
            )
    if store.dialect == "postgresql":  # as autovacuum would, or the plans guess at random
        with store.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "ANALYZE outbox"
            )


def _chain_running(session: Any) -> int:
    from bot import claims

    found = claims.claim(session, "bench", NOW, LEASE, 12, 0, 0, JOB_KINDS, 0)
    return len(found)


def _claim_round(session: Any) -> int:
    from bot import claims

    found = claims.claim(
        session, "bench", NOW, LEASE, PLACES, BULK_PLACES, OTHER_PLACES, JOB_KINDS, BULK_PLACES
    )
    return len(found)


def _no_job_due(session: Any) -> None:
    """Before the claim of messages (not measured): every due job is claimed elsewhere."""
    from sqlalchemy import update

    from bot.domain import OutboxItem

    table = OutboxItem.__table__
    session.connection().execute(
        update(table)
        .where(table.c.kind == JOB, table.c.claimed_by.is_(None))
        .values(claimed_by="other", claimed_until=NOW + LEASE)
    )


CASES: dict[str, tuple[str, Callable[[Any], int], Callable[[Any], None] | None]] = {
    "chain": ("a round while a chain of jobs runs (nothing to claim)", _chain_running, None),
    "jobs": (f"the claim of a chain of {BULK_PLACES} jobs", _claim_round, None),
    "sends": ("the claim of messages, no job due", _claim_round, _no_job_due),
}


def _reset(store: Any) -> None:
    """Give back what the measured round claimed (on SQLite a claim outside a transaction
    commits by itself: a rollback would not undo it)."""
    from sqlalchemy import update

    from bot.domain import OutboxItem

    table = OutboxItem.__table__
    with store.engine.begin() as connection:
        connection.execute(
            update(table)
            .where(table.c.claimed_by == "bench")
            .values(claimed_by=None, claimed_until=None, attempts=0)
        )


def _backend_cpu(session: Any) -> float:
    """CPU seconds so far of the PostgreSQL backend serving `session` (from /proc; the
    server runs on this machine)."""
    pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(store: Any, rounds: int, reps: int) -> dict[str, Any]:
    """CPU µs per round of each case (on PostgreSQL also its backend's, for the statements
    of the round alone); what a round claimed is given back after it."""
    from sqlmodel import Session

    postgres = store.dialect == "postgresql"
    figures: dict[str, Any] = {}
    for name, (_title, work, prepare) in CASES.items():
        loops, taken, server = [], 0, 0.0
        for _ in range(rounds):
            spent = 0.0
            for _ in range(reps):
                with Session(store.engine) as session:
                    if prepare is not None:
                        prepare(session)
                    session.connection()
                    backend = _backend_cpu(session) if postgres else 0.0
                    before = time.process_time()
                    taken = work(session)
                    spent += time.process_time() - before
                    if postgres:
                        server += _backend_cpu(session) - backend
                    session.rollback()
                _reset(store)
            loops.append(spent / reps * 1e6)
        figures[name] = {"min": min(loops), "median": statistics.median(loops), "taken": taken}
        if postgres:  # /proc counts in clock ticks: only the average over every round
            figures[name]["server"] = server / (rounds * reps) * 1e6
    return figures


def explain(store: Any) -> None:
    """Print the database's plan for each statement a burst's claim rounds run."""
    from sqlalchemy import event
    from sqlmodel import Session

    seen: list[tuple[str, Any]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH", "UPDATE")):
            seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    for _title, work, prepare in CASES.values():
        with Session(store.engine) as session:
            if prepare is not None:
                prepare(session)
            seen.clear()
            work(session)
            statements = list(seen)
            session.rollback()
        _reset(store)
        for statement, parameters in statements:
            print("--", " ".join(statement.split())[:300])
            with store.engine.connect() as connection:
                prefix = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
                cursor = connection.connection.cursor()
                cursor.execute(prefix + statement, parameters)
                for row in cursor.fetchall():
                    print("   ", " | ".join(str(x) for x in row))
    event.remove(store.engine, "before_cursor_execute", record)


def child(args: argparse.Namespace) -> None:
    from bot.store import Store

    store = Store(args.url)
    if args.migrate:
        store.upgrade()
    seed(store, args.burst_sends, args.burst_jobs, args.burst_future)
    if args.explain:
        explain(store)
    figures = measure(store, args.rounds, args.reps)
    store.dispose()
    print("RESULT " + json.dumps(figures))


def report(database: str, figures: dict[str, Any]) -> None:
    print(f"\n[{database}] burst: CPU per claim round (min / median of the loops)")
    for name, (title, _work, _prepare) in CASES.items():
        f = figures[name]
        server = f" (+ PostgreSQL {f['server']:,.0f} µs)" if "server" in f else ""
        print(f"  {title}: {f['min']:,.0f} / {f['median']:,.0f} µs{server}, {f['taken']} claimed")
