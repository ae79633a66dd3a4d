"""Taking due actions from the outbox: a look at what is due, then claims.

`claim` takes due, unclaimed actions — urgent ones (a reply someone waits for) before bulk work
— each group in one statement: on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several
processes share the work; on SQLite the single UPDATE is atomic on its own. A claim is a lease
(`bot.outbox`). A turn's own replies are claimed as they are written
(`bot.outbox_claimed.enqueue_claimed`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    null,
    or_,
    update,
)
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from bot import horizon
from bot.domain import OutboxItem
from bot.domain.types import UTCDateTime
from bot.outbox import SEND
from bot.pacing import URGENT
from bot.prepared import Prepared
from bot.store import made

_OUTBOX = OutboxItem.__table__
Database = Session | Connection
"""Where the claims run: a session's transaction (its connection), or a connection's own."""


def connection_of(db: Database) -> Connection:
    return db.connection() if isinstance(db, Session) else db


@dataclass(frozen=True)
class Look:
    """What `look` found: whether anything urgent is due and unclaimed, the kinds of which
    anything is, and when the first unfinished action not due yet falls due (None: none)."""

    urgent: bool
    kinds: frozenset[str]
    next_due: datetime | None

    @property
    def empty(self) -> bool:
        return not self.urgent and not self.kinds


def claim(
    db: Database,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    bulk_limit: int | None = None,
    others_limit: int | None = None,
    jobs: Iterable[str] = (),
    jobs_limit: int = 0,
) -> list[OutboxItem]:
    """`look`, then `claim_found` (the dispatcher runs the two itself: it also keeps what the
    look says of the next due time)."""
    if limit <= 0:
        return []
    conn = connection_of(db)
    found = look(conn, now)
    return claim_found(
        conn, found, worker, now, lease, limit, bulk_limit, others_limit, jobs, jobs_limit
    )


def claim_found(
    db: Database,
    found: Look,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    bulk_limit: int | None = None,
    others_limit: int | None = None,
    jobs: Iterable[str] = (),
    jobs_limit: int = 0,
) -> list[OutboxItem]:
    """Claim up to `limit` due actions for `worker` until `now + lease`: the urgent ones first
    (someone is waiting for them), then bulk work, each in due order; at most `bulk_limit`
    bulk actions. Of the bulk work first up to `jobs_limit` actions of the `jobs` kinds (work
    in the store, quick; they go one after another, so they count apart from `limit`). Jobs
    go before all other bulk work: while any is still due and unclaimed after that (more
    were due than `jobs_limit`; a `jobs_limit` of 0 takes none), no other bulk work is
    claimed, so that a reminder is not written late because messages went first. Then
    messages, then the other actions (slow platform work, at most `others_limit`). The look
    (`found`, just before, in the same transaction) tells whether anything urgent and which
    kinds have anything due and unclaimed: only the claims that can find something run (most
    claims find nothing, when the dispatcher looks again after each piece of work), and each
    claims only the kinds found, through the index that leads with the kind."""
    if limit <= 0 or found.empty:
        return []
    conn, kinds = connection_of(db), found.kinds
    job_kinds = kinds & set(jobs)
    items = _claim(conn, worker, now, lease, limit) if found.urgent else []
    rest = limit - len(items)
    if bulk_limit is not None:
        rest = min(rest, bulk_limit)
    if job_kinds:
        claimed = _claim(conn, worker, now, lease, jobs_limit, job_kinds) if jobs_limit else []
        items += claimed
        if jobs_limit == 0 or len(claimed) == jobs_limit:
            return items  # jobs still due wait for none of the bulk work after them
    if rest > 0 and SEND in kinds:
        claimed = _claim(conn, worker, now, lease, rest, {SEND})
        items += claimed
        rest -= len(claimed)
    if others_limit is not None:
        rest = min(rest, others_limit)
    others = kinds - job_kinds - {SEND}
    if rest > 0 and others:
        items += _claim(conn, worker, now, lease, rest, others)
    return items


def _unfinished(table):
    """Neither done nor dead, spelt as the claim indexes' own condition (`UNFINISHED`): so
    SQLite, which has no statistics, cannot take `done_at IS NULL` for a cheap equality on
    ix_outbox_pending and walk every unfinished row with it; and PostgreSQL, which drops from
    an index's search what its condition implies, seeks by the claim indexes' first column."""
    return func.coalesce(table.c.done_at, table.c.failed_at).is_(None)


def _pending(table, now):
    """Due, unfinished and unclaimed (or its claim ran out)."""
    return and_(
        _unfinished(table),
        table.c.due_at <= now,
        or_(table.c.claimed_until.is_(None), table.c.claimed_until < now),
    )


def _is_urgent(table):
    """A literal, so that ix_outbox_urgent (partial on nothing else) finds them in due order."""
    return table.c.priority == literal_column(str(URGENT))


def _first(query, table, now, leading):
    """Whether `query` finds a pending row: its first in the claim index's order (`leading`,
    then `due_at`), which PostgreSQL then reads from that index rather than from another
    whose order it would have to walk."""
    first = query.where(_pending(table, now)).order_by(leading, table.c.due_at).limit(1)
    return first.scalar_subquery().is_not(None)


def _probe_statement():
    """Rows: each kind with an action due and unclaimed; NULL when an urgent one is (its lane
    may still hold it back: then the claim finds nothing); and, in the second column, the due
    time of the first unfinished action not due yet (`Look.next_due`).

    The kinds of unfinished actions are walked one by one (each the next after the last,
    one step through `ix_outbox_claimable` each), and each kind is asked whether it has
    anything claimable (in the same index, which carries `claimed_until`, so a row claimed
    already is passed over without being read): the cost grows with the number of kinds and
    with the rows of a kind under way, not with the rows due. A scan of the due rows
    instead read every one of them, of every kind, once per look, and the dispatcher looks
    after every piece of work. The next due time is one step into `ix_outbox_pending`."""
    now = bindparam("now", type_=UTCDateTime())
    first = select(_OUTBOX.c.kind).where(_unfinished(_OUTBOX)).order_by(_OUTBOX.c.kind).limit(1)
    kinds = select(first.scalar_subquery().label("kind")).cte("kinds", recursive=True)
    after = _OUTBOX.alias("after")
    following = (
        select(after.c.kind)
        .where(_unfinished(after), after.c.kind > kinds.c.kind)
        .order_by(after.c.kind)
        .limit(1)
    )
    kinds = kinds.union_all(select(following.scalar_subquery()).where(kinds.c.kind.is_not(None)))
    due = _OUTBOX.alias("due")
    no_time = cast(null(), UTCDateTime()).label("due")  # typed: PostgreSQL unites the types
    with_due = select(kinds.c.kind, no_time).where(
        kinds.c.kind.is_not(None),
        _first(select(due.c.id).where(due.c.kind == kinds.c.kind), due, now, due.c.kind),
    )
    urgent = select(null(), no_time).where(
        _first(select(_OUTBOX.c.id).where(_is_urgent(_OUTBOX)), _OUTBOX, now, _OUTBOX.c.priority)
    )
    later = _OUTBOX.alias("later")
    first_later = (
        select(later.c.due_at)
        .where(later.c.done_at.is_(None), later.c.failed_at.is_(None), later.c.due_at > now)
        .order_by(later.c.due_at)
        .limit(1)
        .subquery()
    )
    next_due = select(null(), first_later.c.due_at)
    return with_due.union_all(urgent, next_due)


_PROBE = _probe_statement()
_LOOK = Prepared(_PROBE)


def look(db: Database, now: datetime) -> Look:
    """What is due and unclaimed at `now`, and when the next action falls due: one statement."""
    urgent, kinds, next_due = False, set(), None
    for kind, due in _LOOK.execute(connection_of(db), {"now": now}).rows:
        if kind is not None:
            kinds.add(kind)
        elif due is None:
            urgent = True
        else:
            next_due = due
    return Look(urgent, frozenset(kinds), next_due)


def _claim_statement(which: str):
    """The claim of "urgent" actions or of the actions of some "kinds", built once —
    constructing it cost more than running it — on the table, and prepared (`bot.prepared`):
    SQLAlchemy's handling of a statement cost more than the database's work.
    Parameters: `now`, `until`, `worker`, `limit` (and `kinds`)."""
    now = bindparam("now", type_=UTCDateTime())
    older = _OUTBOX.alias("older")
    waits_in_lane = exists().where(
        older.c.lane == _OUTBOX.c.lane,
        older.c.id < _OUTBOX.c.id,
        older.c.done_at.is_(None),
        older.c.failed_at.is_(None),
    )
    chosen = (
        _OUTBOX.c.kind.in_(bindparam("kinds", expanding=True))
        if which == "kinds"
        else _is_urgent(_OUTBOX)
    )
    pending = and_(_pending(_OUTBOX, now), or_(_OUTBOX.c.lane.is_(None), ~waits_in_lane), chosen)
    due = (
        select(_OUTBOX.c.id)
        .where(pending)
        .order_by(_OUTBOX.c.due_at, _OUTBOX.c.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
        .cte("due")
        .prefix_with("MATERIALIZED")
    )
    # A materialized CTE runs the locking SELECT once. As an `IN (subquery)` PostgreSQL may
    # run it again per row, skipping rows this statement already locked: the limit is lost.
    return (
        update(_OUTBOX)
        .where(_OUTBOX.c.id == due.c.id)
        .values(
            claimed_by=bindparam("worker"),
            claimed_until=bindparam("until", type_=UTCDateTime()),
            attempts=_OUTBOX.c.attempts + 1,
        )
        .returning(*_OUTBOX.c)
    )


_CLAIM = {which: _claim_statement(which) for which in ("urgent", "kinds")}
horizon.harmless(*_CLAIM.values())
_CLAIM_PREPARED = {which: Prepared(statement) for which, statement in _CLAIM.items()}
_COLUMNS = tuple(column.key for column in _OUTBOX.c)


def _items(rows: Iterable[Sequence[Any]]) -> list[OutboxItem]:
    """OutboxItems of claimed rows (`store.made`), without the ORM's result machinery, which
    cost more than the claim itself. The dispatcher only reads them."""
    return [made(OutboxItem, dict(zip(_COLUMNS, row, strict=True))) for row in rows]


def _claim(
    connection: Connection,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    kinds: set[str] | None = None,
) -> list[OutboxItem]:
    """Claim urgent actions (`kinds` None) or those of `kinds`, in due order."""
    parameters: dict[str, Any] = {"now": now, "until": now + lease, "worker": worker}
    parameters["limit"] = limit
    if kinds is None:
        rows = _CLAIM_PREPARED["urgent"].execute(connection, parameters).rows
    else:
        parameters["kinds"] = sorted(kinds)
        rows = _CLAIM_PREPARED["kinds"].execute(connection, parameters).rows
    return sorted(_items(rows), key=lambda item: (item.due_at, item.id))
