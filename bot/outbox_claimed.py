"""A turn's replies, written and claimed in one statement (`enqueue_claimed`).

A turn's urgent replies are what a claim by key right after the turn's commit would take; the
statement that writes them claims them for the turn's dispatcher at once, so they go out
without a claim of their own (`bot.dispatcher`'s hand-over). The rest is written as
`outbox.enqueue_many` would write it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, cast, exists, literal, null, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from bot import horizon
from bot.domain import OutboxItem
from bot.domain.types import UTCDateTime
from bot.outbox import note_bulk_due, promote
from bot.pacing import URGENT
from bot.prepared import Prepared
from bot.store import made

_OUTBOX = OutboxItem.__table__
_WRITTEN = ("kind", "payload", "idempotency_key", "lane", "priority", "due_at", "created_at")
_WRITE_CLAIMED: dict[tuple[str, tuple[bool, ...]], Prepared] = {}
CLAIMED_CHUNK = 20
"""Rows per written-claimed statement: each claimable row's lane check names every key of its
statement (a size that grows with the square of the rows), and SQLite allows 500 terms in a
compound SELECT."""
_CLAIM_COLUMNS = ("claimed_by", "claimed_until")
_COLUMNS = tuple(column.key for column in _OUTBOX.c)


def _write_claimed_statement(dialect: str, claimable: tuple[bool, ...]) -> Prepared:
    """The insert of `len(claimable)` rows (parameters `<column>_<i>`, `worker`, `until`),
    built once per shape: row i, when `claimable[i]`, is written claimed by `worker` unless
    its lane holds an unfinished action other than this statement's own rows (which are left
    out by key, so the answer is the same whether the database shows a statement its own
    earlier rows or not). The rows come from a `SELECT … UNION ALL SELECT …` of parameters,
    not a multi-row `VALUES`: SQLAlchemy caches the compiled form of the one, and compiles
    the other again for every execution."""
    shape = (dialect, claimable)
    if shape not in _WRITE_CLAIMED:
        keys = [bindparam(f"idempotency_key_{i}") for i in range(len(claimable))]
        older = _OUTBOX.alias("older")
        selects = []
        for i, claim in enumerate(claimable):
            row: list[Any] = [
                bindparam(f"{name}_{i}", type_=_OUTBOX.c[name].type) for name in _WRITTEN
            ]
            if claim:
                free = ~exists().where(
                    older.c.lane == bindparam(f"lane_{i}"),
                    older.c.done_at.is_(None),
                    older.c.failed_at.is_(None),
                    older.c.idempotency_key.not_in(keys),
                )
                until = bindparam("until", type_=UTCDateTime())
                worker = bindparam("worker", type_=_OUTBOX.c.claimed_by.type)
                row += [
                    case((free, worker), else_=null()),
                    case((free, until), else_=null()),
                    case((free, literal(1)), else_=literal(0)),
                ]
            else:
                # typed: PostgreSQL's UNION matches each column's types across the rows
                unclaimed = (cast(null(), _OUTBOX.c[name].type) for name in _CLAIM_COLUMNS)
                row += [*unclaimed, literal(0)]
            selects.append(select(*row))
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        rows = union_all(*selects) if len(selects) > 1 else selects[0]
        columns = [*_WRITTEN, *_CLAIM_COLUMNS, "attempts"]
        statement = (
            insert(_OUTBOX)
            .from_select(columns, rows)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(_OUTBOX.c.id, _OUTBOX.c.idempotency_key, _OUTBOX.c.claimed_by)
        )
        horizon.harmless(statement)  # `enqueue_claimed` notes what it writes
        _WRITE_CLAIMED[shape] = Prepared(statement)
    return _WRITE_CLAIMED[shape]


def enqueue_claimed(
    session: Session, rows: Sequence[Mapping[str, Any]], worker: str, until: datetime
) -> list[OutboxItem]:
    """`outbox.enqueue_many` for a turn's replies (the same keys, `lane` and `priority`
    given), in one statement that also claims for `worker` until `until` each urgent one
    that may go now: nothing older is unfinished in its lane (but rows of this statement) —
    what a claim by key right after would take, without a statement of its own. The rows in
    the lane of an urgent one are urgent too, and so claimed with it, in their order:
    `outbox.promote` would have made them urgent (a post for the pair written before the
    reply to the member waiting, in the pair's space). An urgent row that has to wait behind
    something older in its lane makes that lane's waiting actions urgent (`outbox.promote`):
    the only case in which promoting changes anything, and so the only one that costs a
    statement. Returns the claimed actions in the order written (a row whose key existed is
    neither written nor claimed).

    The bulk rows are written first, then the urgent ones, each in their order (no lane holds
    both), `CLAIMED_CHUNK` rows per statement: a statement's shape is then its two counts."""
    if not rows:
        return []
    lanes = {row["lane"] for row in rows if row["priority"] == URGENT and row["lane"]}
    rows = [{**row, "priority": URGENT} if row["lane"] in lanes else row for row in rows]
    ordered = [row for row in rows if row["priority"] != URGENT]
    ordered += [row for row in rows if row["priority"] == URGENT]
    items: list[OutboxItem] = []
    for start in range(0, len(ordered), CLAIMED_CHUNK):
        items += _write_claimed(session, ordered[start : start + CLAIMED_CHUNK], worker, until)
    return sorted(items, key=lambda item: item.id or 0)


def _write_claimed(
    session: Session, rows: Sequence[Mapping[str, Any]], worker: str, until: datetime
) -> list[OutboxItem]:
    claimable = tuple(row["priority"] == URGENT for row in rows)
    statement = _write_claimed_statement(session.get_bind().dialect.name, claimable)
    parameters: dict[str, Any] = {"worker": worker, "until": until}
    for i, row in enumerate(rows):
        parameters.update({f"{name}_{i}": row[name] for name in _WRITTEN})
    connection = session.connection()
    written = statement.execute(connection, parameters).rows
    note_bulk_due(session, rows)
    claimed = {key: item_id for item_id, key, by in written if by is not None}
    horizon.wrote(connection, rows)  # what waits in its lane is for a claim to find
    horizon.claimed(connection, claimed)
    waiting = {
        row["lane"]
        for row, urgent in zip(rows, claimable, strict=True)
        if urgent and row["lane"] and row["idempotency_key"] not in claimed
    }
    promote(session, waiting)
    values = {"attempts": 1, "claimed_by": worker, "claimed_until": until}
    items = [
        _item({**row, **values, "id": claimed[row["idempotency_key"]]})
        for row in rows
        if row["idempotency_key"] in claimed
    ]
    return sorted(items, key=lambda item: item.id or 0)


def _item(values: Mapping[str, Any]) -> OutboxItem:
    """An OutboxItem of a row just written (`store.made`: SQLModel's constructor cost more
    than the insert). The dispatcher only reads it."""
    return made(OutboxItem, {name: values.get(name) for name in _COLUMNS})
