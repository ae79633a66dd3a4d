"""The outbox: durable actions, claimed atomically (`bot.claims`), retried with backoff.

`enqueue` inserts an action unless one with the same idempotency key exists (so doing the same
work twice schedules it once). A claim is a lease: if its process dies, the lease runs out and
another claim takes the action again; `renew` extends it, `complete` ends it, `release` gives
a failed action back for a retry. `move` and `cancel` change actions nobody has claimed.
`first_sight` is the same guard for what comes in: a platform event is handled once, however
often it is delivered. What these functions make due is noted for the dispatchers
(`bot.horizon`), which claim only when a claim can find something.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import (
    Insert,
    and_,
    bindparam,
    case,
    delete,
    func,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from bot import horizon
from bot.domain import OutboxItem, ProcessedEvent
from bot.domain.types import UTCDateTime
from bot.pacing import BULK, URGENT
from bot.prepared import Prepared

SEND = "send"  # the kind of an action that sends a message (bot.delivery)
_BULK_DUE = "maatje.outbox.bulk_due"

# The hot paths (every reply is written, claimed and completed) run statements on the table,
# built once and compiled once (`bot.prepared`): rebuilding an ORM statement per row, and even
# SQLAlchemy's execution of a statement built once, cost more than the database work itself.
# They run in the session's transaction, on its connection: no ORM object is involved.

_OUTBOX = OutboxItem.__table__
_EVENTS = ProcessedEvent.__table__
_PROMOTE = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.lane.in_(bindparam("lanes", expanding=True)),
        _OUTBOX.c.priority != URGENT,
        _OUTBOX.c.done_at.is_(None),
        _OUTBOX.c.failed_at.is_(None),
    )
    .values(priority=URGENT)
)
_COMPLETE = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("item_id"), _OUTBOX.c.claimed_by == bindparam("worker"))
    .values(done_at=bindparam("now"), claimed_until=None, last_error=None)
)
# A sent message has served its purpose: what it said, to whom and in which lane is dropped;
# the row stays only as its idempotency key (docs/privacy.md).
_COMPLETE_SENT = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id.in_(bindparam("item_ids", expanding=True)),
        _OUTBOX.c.claimed_by == bindparam("worker"),
    )
    .values(done_at=bindparam("now"), claimed_until=None, last_error=None, payload={}, lane=None)
)

_UNFINISHED = (
    select(_OUTBOX.c.id)
    .where(
        _OUTBOX.c.idempotency_key.in_(bindparam("keys", expanding=True)),
        _OUTBOX.c.done_at.is_(None),
        _OUTBOX.c.failed_at.is_(None),
    )
    .limit(1)
)


_COMPLETE_PREPARED = Prepared(_COMPLETE)
_COMPLETE_SENT_PREPARED = Prepared(_COMPLETE_SENT)
_UNFINISHED_PREPARED = Prepared(_UNFINISHED)


def _insert_once(dialect: str, table, unique: list[str]) -> Insert:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing(index_elements=unique)


_ENQUEUE = {
    dialect: _insert_once(dialect, _OUTBOX, ["idempotency_key"])
    for dialect in ("sqlite", "postgresql")
}
_ENQUEUE_PREPARED: dict[tuple[str, tuple[str, ...]], Prepared] = {}
_FIRST_SIGHT = {
    dialect: _insert_once(dialect, _EVENTS, ["platform", "event_id"]).returning(_EVENTS.c.id)
    for dialect in ("sqlite", "postgresql")
}
_FIRST_SIGHT_PREPARED = {
    dialect: Prepared(statement, ["platform", "event_id", "at"])
    for dialect, statement in _FIRST_SIGHT.items()
}


def _enqueue_statement(dialect: str, columns: tuple[str, ...]) -> Prepared:
    """The insert of rows giving `columns`, prepared once per set of columns."""
    shape = (dialect, columns)
    if shape not in _ENQUEUE_PREPARED:
        _ENQUEUE_PREPARED[shape] = Prepared(_ENQUEUE[dialect], columns)
    return _ENQUEUE_PREPARED[shape]


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    key: str,
    due_at: datetime,
    now: datetime,
    lane: str | None = None,
) -> None:
    """Schedule `kind` with `payload` at `due_at`, once per `key` (in order within `lane`)."""
    enqueue_many(
        session,
        [
            {
                "kind": kind,
                "payload": payload,
                "idempotency_key": key,
                "due_at": due_at,
                "created_at": now,
                "lane": lane,
            }
        ],
    )


def enqueue_many(session: Session, rows: Iterable[Mapping[str, Any]], chunk: int = 1000) -> None:
    """`enqueue` for many rows (keys `kind`, `payload`, `idempotency_key`, `due_at`,
    `created_at`, optionally `lane` and `priority`): one prepared statement executed per chunk
    of rows, in the caller's transaction; a row whose key exists already is skipped."""
    dialect = session.get_bind().dialect.name
    iterator = iter(rows)
    while batch := list(islice(iterator, chunk)):
        values = [{"lane": None, "attempts": 0, "priority": BULK, **row} for row in batch]
        connection = session.connection()
        columns = tuple(values[0])
        # Many rows on PostgreSQL: SQLAlchemy's one multi-row INSERT per page beats the
        # driver's statement per row. Rows giving different columns: SQLAlchemy's checks.
        if (len(values) == 1 or dialect == "sqlite") and all(
            tuple(row) == columns for row in values
        ):
            _enqueue_statement(dialect, columns).execute_many(connection, values)
        else:
            connection.execute(_ENQUEUE[dialect], values)
        horizon.wrote(connection, values)
        note_bulk_due(session, values)


def note_bulk_due(session: Session, rows: Iterable[Mapping[str, Any]]) -> None:
    """Note for `wrote_bulk_due` whether `rows`, just written, hold a bulk action due at once."""
    if any(row["priority"] != URGENT and row["due_at"] <= row["created_at"] for row in rows):
        session.info[_BULK_DUE] = True


def wrote_bulk_due(session: Session) -> bool:
    """Whether the session's transaction wrote bulk actions due at once (the dispatcher need
    claim only then: the urgent replies of a turn are handed to it directly)."""
    return bool(session.info.get(_BULK_DUE))


def first_sight(session: Session, platform: str, event_id: str, now: datetime) -> bool:
    """Record a platform event as handled; False when it was handled before (a retry, or the
    same event delivered to another process)."""
    statement = _FIRST_SIGHT_PREPARED[session.get_bind().dialect.name]
    row = {"platform": platform, "event_id": event_id, "at": now}
    return bool(statement.execute(session.connection(), row).rows)


def promote(session: Session, lanes: Iterable[str]) -> None:
    """Make the unfinished actions in `lanes` urgent: an urgent reply cannot pass what is
    older in its lane, so what is older goes first at the reply's priority."""
    wanted = sorted(set(lanes))
    if wanted:
        session.connection().execute(_PROMOTE, {"lanes": wanted})


# Waiting: not done, not dead, not claimed — nobody is carrying it out, so it may be changed.
_WAITING = and_(
    _OUTBOX.c.idempotency_key.in_(bindparam("old", expanding=True)),
    _OUTBOX.c.done_at.is_(None),
    _OUTBOX.c.failed_at.is_(None),
    _OUTBOX.c.claimed_by.is_(None),
)
_CANCEL = delete(_OUTBOX).where(_WAITING)
horizon.harmless(*_ENQUEUE.values(), _PROMOTE, _COMPLETE, _COMPLETE_SENT, _CANCEL)
_RENEW = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id.in_(bindparam("item_ids", expanding=True)),
        _OUTBOX.c.claimed_by == bindparam("worker"),
        _OUTBOX.c.done_at.is_(None),
    )
    .values(claimed_until=bindparam("until", type_=UTCDateTime()))
    .returning(_OUTBOX.c.id)
)
horizon.harmless(_RENEW)
_MOVES: dict[int, Prepared] = {}


def _move_statement(count: int) -> Prepared:
    """The move of `count` keys (parameters `old`, `old_0`…, `key_0`…, `due_0`…, `payload`,
    `now`), built once per count."""
    if count not in _MOVES:
        by_key = [_OUTBOX.c.idempotency_key == bindparam(f"old_{i}") for i in range(count)]
        statement = (
            update(_OUTBOX)
            .where(_WAITING)
            .values(
                idempotency_key=case(
                    *((old, bindparam(f"key_{i}")) for i, old in enumerate(by_key))
                ),
                due_at=case(
                    *(
                        (old, bindparam(f"due_{i}", type_=UTCDateTime()))
                        for i, old in enumerate(by_key)
                    )
                ),
                payload=bindparam("payload", type_=_OUTBOX.c.payload.type),
                created_at=bindparam("now", type_=UTCDateTime()),
                attempts=0,
                last_error=None,
            )
        )
        horizon.harmless(statement)  # `move` notes what it makes due itself
        _MOVES[count] = Prepared(statement)
    return _MOVES[count]


def move(
    session: Session,
    moves: Mapping[str, tuple[str, datetime]],
    payload: dict[str, Any],
    now: datetime,
) -> int:
    """Re-aim waiting actions (unfinished, unclaimed): each whose key is in `moves` takes the
    new key and due time it maps to, and `payload`, as if written `now`; one statement.
    Returns how many moved (an action claimed or done meanwhile stays as it is)."""
    if not moves:
        return 0
    parameters: dict[str, Any] = {"old": list(moves), "payload": payload, "now": now}
    for i, (old, (key, due_at)) in enumerate(moves.items()):
        parameters.update({f"old_{i}": old, f"key_{i}": key, f"due_{i}": due_at})
    connection = session.connection()
    horizon.made_due(connection, min(due_at for _, due_at in moves.values()))
    return _move_statement(len(moves)).execute(connection, parameters).rowcount


def cancel(session: Session, keys: list[str]) -> None:
    """Delete the waiting actions (unfinished, unclaimed) with these keys; one claimed
    already is left to the job, which finds it has nothing to do."""
    if keys:
        session.connection().execute(_CANCEL, {"old": keys})


def unclaim(session: Session, item_ids: list[int], worker: str) -> None:
    """Give claimed actions back untried: due as before, the attempt not counted."""
    if item_ids:
        session.execute(
            update(OutboxItem)
            .where(col(OutboxItem.id).in_(item_ids), OutboxItem.claimed_by == worker)
            .values(claimed_by=None, claimed_until=None, attempts=OutboxItem.attempts - 1)
        )
        horizon.made_due(session.connection())


def release_all_claims(session: Session) -> int:
    """Forget every claim: for a store only one process uses (SQLite), claims found at start-up
    belong to a process that died, and waiting out their lease would only delay its messages."""
    result = session.exec(
        update(OutboxItem)
        .where(col(OutboxItem.done_at).is_(None), col(OutboxItem.claimed_until).isnot(None))
        .values(claimed_until=None, claimed_by=None)
    )
    horizon.made_due(session.connection())
    return result.rowcount


def renew(session: Session, ids: list[int], worker: str, until: datetime) -> set[int]:
    """Extend `worker`'s claims on `ids`; returns the ids it still holds (a claim that ran out
    may have been taken over by another process)."""
    if not ids:
        return set()
    parameters = {"item_ids": ids, "worker": worker, "until": until}
    return set(session.connection().execute(_RENEW, parameters).scalars())


def complete(session: Session, item_id: int, worker: str, now: datetime) -> bool:
    """Mark done; False when the claim was lost (it expired and someone else took it)."""
    parameters = {"item_id": item_id, "worker": worker, "now": now}
    return _COMPLETE_PREPARED.execute(session.connection(), parameters).rowcount == 1


def complete_sent(db: Session | Connection, item_ids: list[int], worker: str, now: datetime) -> int:
    """Mark sent messages done and forget their content, recipient and lane: only the key that
    stops each being sent twice is kept. One statement for all (messages sent side by side are
    recorded together); returns how many were still held."""
    parameters = {"item_ids": item_ids, "worker": worker, "now": now}
    connection = db.connection() if isinstance(db, Session) else db
    return _COMPLETE_SENT_PREPARED.execute(connection, parameters).rowcount


def release(
    session: Session,
    item_id: int,
    worker: str,
    error: str,
    retry_at: datetime | None,
    now: datetime,
) -> None:
    """Give a failed action back: due again at `retry_at`, or dead when `retry_at` is None."""
    values: dict[str, Any] = {"claimed_until": None, "claimed_by": None, "last_error": error[:1000]}
    if retry_at is None:
        values["failed_at"] = now
    else:
        values["due_at"] = retry_at
    session.exec(
        update(OutboxItem)
        .where(OutboxItem.id == item_id, OutboxItem.claimed_by == worker)
        .values(**values)
    )
    if retry_at is not None:
        horizon.made_due(session.connection(), retry_at)


def unfinished(session: Session, keys: list[str]) -> bool:
    """Whether an action with one of these idempotency keys is still to be done: due later,
    under way, or waiting for a retry."""
    return bool(_UNFINISHED_PREPARED.execute(session.connection(), {"keys": keys}).rows)


def backlog(session: Session, now: datetime) -> dict[str, int]:
    """Actions due by now and not done yet, per kind: the progress of bulk work."""
    rows = session.exec(
        select(OutboxItem.kind, func.count())
        .where(
            col(OutboxItem.done_at).is_(None),
            col(OutboxItem.failed_at).is_(None),
            col(OutboxItem.due_at) <= now,
        )
        .group_by(OutboxItem.kind)
    ).all()
    return dict(rows)


def next_due(session: Session) -> datetime | None:
    return session.exec(
        select(OutboxItem.due_at)
        .where(col(OutboxItem.done_at).is_(None), col(OutboxItem.failed_at).is_(None))
        .order_by(col(OutboxItem.due_at))
        .limit(1)
    ).first()
