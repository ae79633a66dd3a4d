"""The inbox: an event is on disk before the platform hears it arrived.

A platform that got its acknowledgement (Slack's HTTP 200, a Socket Mode ack) does not send the
event again, so an event acknowledged and then lost with the process would never be answered.
Adapters therefore `record` an event before acknowledging it and answer an error when it could
not be recorded in time (the platform then retries). The core deletes the row in the same
transaction that handles the event, so a row that is still there after its lease belongs to a
process that died (or gave up on an outage), and `claim_due` hands it out to be handled again —
by any process; the handling itself is idempotent (`outbox.first_sight`). A process renews the
lease of the events it is still handling (a long queue must not look like a death).

Recording must stay fast, since platforms want their answer within seconds: rows are written
through `Store.record`, never queued behind the core's work, and everything that arrived while
one write was under way goes into the next in one transaction.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from bot import events
from bot.clock import Clock
from bot.domain import InboxEvent
from bot.events import Event, PersonRef, SpaceKind, SpaceRef
from bot.prepared import Prepared
from bot.store import Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
"""Handled this often without success (each time the process died or gave up): dropped, with
an error in the log, so that an event which kills the process cannot do so for ever."""
BATCH = 100
KINDS = {
    kind.__name__: kind
    for kind in (events.Message, events.Command, events.Choice, events.FormSubmitted)
}


# -- events as JSON --------------------------------------------------------------------------


def to_json(event: Event) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": type(event).__name__}
    for item in dataclasses.fields(event):
        value = getattr(event, item.name)
        if isinstance(value, PersonRef | SpaceRef):
            value = dataclasses.asdict(value)
        elif isinstance(value, tuple):
            value = list(value)
        data[item.name] = value
    return data


def from_json(data: dict[str, Any]) -> Event:
    fields = dict(data)
    kind = KINDS[fields.pop("kind")]
    fields["person"] = PersonRef(**fields["person"])
    space = fields["space"]
    fields["space"] = SpaceRef(**{**space, "kind": SpaceKind(space["kind"])})
    for name, value in fields.items():
        if isinstance(value, list):
            fields[name] = tuple(value)
    known = {f.name for f in dataclasses.fields(kind)}
    return kind(**{k: v for k, v in fields.items() if k in known})


# -- the table -------------------------------------------------------------------------------

_TABLE = InboxEvent.__table__
_FORGET_PREPARED = Prepared(  # every event's transaction: compiled once
    delete(_TABLE).where(
        _TABLE.c.platform == bindparam("platform"), _TABLE.c.event_id == bindparam("event_id")
    )
)
_DUE_AT = update(_TABLE).where(_TABLE.c.id == bindparam("row_id")).values(due_at=bindparam("due"))
_INSERT = {
    "sqlite": sqlite_insert(_TABLE).on_conflict_do_nothing(index_elements=["platform", "event_id"]),
    "postgresql": pg_insert(_TABLE).on_conflict_do_nothing(index_elements=["platform", "event_id"]),
}


def write(connection: Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Insert received events; one already there (a platform's retry) is left as it is."""
    connection.execute(_INSERT[connection.dialect.name], list(rows))


def forget(session: Session, platform: str, event_id: str) -> None:
    """The event is handled (in this transaction): its row goes. A prepared statement on the
    session's connection: nothing of the session's objects is involved, so the ORM's (and
    even SQLAlchemy's execution's) handling is only cost. Called only for events that have a
    row (`Inbox.holds`)."""
    _FORGET_PREPARED.execute(session.connection(), {"platform": platform, "event_id": event_id})


def forget_person(session: Session, accounts: Iterable[PersonRef]) -> int:
    """Delete the unhandled events of these accounts (for erasure: nothing they sent may be
    handled, or kept, after they are gone). The inbox holds only events in flight, so reading
    it whole is cheap."""
    wanted = set(accounts)
    gone = [
        row.id
        for row in session.exec(select(InboxEvent)).all()
        if PersonRef(**row.event["person"]) in wanted
    ]
    if gone:
        session.execute(delete(_TABLE).where(_TABLE.c.id.in_(gone)))
    return len(gone)


def claim_due(session: Session, now: datetime, lease: timedelta, limit: int) -> list[Row[Any]]:
    """Take up to `limit` rows whose lease ran out (id, platform, event_id, event, received_at,
    attempts); each is due again after one lease, then two, four, … with every further attempt,
    so an outage is not hammered."""
    due = (
        select(_TABLE.c.id)
        .where(_TABLE.c.due_at <= now)
        .order_by(_TABLE.c.received_at, _TABLE.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    claimed = session.execute(
        update(_TABLE)
        .where(_TABLE.c.id == due.c.id)
        .values(attempts=_TABLE.c.attempts + 1, due_at=now + lease)
        .returning(
            _TABLE.c.id,
            _TABLE.c.platform,
            _TABLE.c.event_id,
            _TABLE.c.event,
            _TABLE.c.received_at,
            _TABLE.c.attempts,
        )
    ).all()
    later = [
        {"row_id": row.id, "due": now + lease * 2 ** min(row.attempts - 1, 10)}
        for row in claimed
        if row.attempts > 1
    ]
    if later:
        session.execute(_DUE_AT, later)
    return sorted(claimed, key=lambda row: (row.received_at, row.id))


def renew(session: Session, keys: Iterable[tuple[str, str]], until: datetime) -> None:
    """Keep the rows of events this process is still handling from being handed out."""
    by_platform: dict[str, list[str]] = {}
    for platform, event_id in keys:
        by_platform.setdefault(platform, []).append(event_id)
    for platform, ids in by_platform.items():
        for start in range(0, len(ids), 500):
            session.execute(
                update(_TABLE)
                .where(
                    _TABLE.c.platform == platform,
                    _TABLE.c.event_id.in_(ids[start : start + 500]),
                    _TABLE.c.due_at < until,
                )
                .values(due_at=until)
            )


def due_now(session: Session, now: datetime) -> int:
    """Make every row due (at start-up on SQLite, where one process owns the store: rows
    found then belong to a process that died)."""
    return session.execute(update(_TABLE).values(due_at=now)).rowcount


# -- recording from the event loop -----------------------------------------------------------


class Inbox:
    """Records events (`Store.record`), many at a time, and hands out again the ones whose
    handling never finished."""

    def __init__(self, store: Store, clock: Clock, lease: timedelta) -> None:
        self.store = store
        self.clock = clock
        self.lease = lease
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._handling: set[tuple[str, str]] = set()
        self._held: set[tuple[str, str]] = set()
        self._renewed_at: datetime | None = None
        self._redriving: asyncio.Task[int] | None = None
        self._stopping = False

    async def record(self, event: Event) -> None:
        """Return once `event` is committed (or was already there); raise what the store
        raised otherwise. Cancelling the wait does not cancel the write (`_write_all` is a
        task of its own)."""
        now = self.clock.now()
        row = {
            "platform": event.person.platform,
            "event_id": event.event_id,
            "event": to_json(event),
            "received_at": now,
            "due_at": now + self.lease,
            "attempts": 0,
        }
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_all())
        await done

    async def _write_all(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    await self.store.record(self._write, [row for row, _ in batch])
                except Exception as exc:
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                            done.exception()  # read here: nobody may be waiting any more
                else:
                    self._held.update((row["platform"], row["event_id"]) for row, _ in batch)
                    for _, done in batch:
                        if not done.done():
                            done.set_result(None)
        finally:
            self._writer = None

    def _write(self, rows: list[dict[str, Any]]) -> None:
        with self.store.transaction() as connection:  # no ORM session: the fewest steps
            write(connection, rows)

    # -- what this process is handling ----------------------------------------------------

    def handling(self, event: Event) -> None:
        """The core took `event` on: its row is not handed out while this process lives."""
        self._handling.add((event.person.platform, event.event_id))

    def handled(self, event: Event) -> None:
        key = (event.person.platform, event.event_id)
        self._handling.discard(key)
        self._held.discard(key)

    def holds(self, event: Event) -> bool:
        """Whether `event` may have a row to delete when it is handled: this process recorded
        it or handed it out again (a row another process left behind, found by `redrive`).
        An event that never came through the inbox (the console, a simulation, a test) has
        none, and its transaction needs no DELETE. A platform's retry that arrives while the
        first delivery is being handled may find the key gone and leave its row; that row is
        handed out after its lease and found to be a duplicate (`outbox.first_sight`)."""
        return (event.person.platform, event.event_id) in self._held

    # -- handling again what was never handled ------------------------------------------

    async def redrive(self, handle: Callable[[Event], Awaitable[object]]) -> int:
        """Hand every event whose lease ran out to `handle` (the core) again; returns how many.
        The scheduler calls this on every tick, and `maatje run` once at start-up; a call while
        another is running returns 0 at once."""
        if self._redriving is not None or self._stopping:
            return 0
        self._redriving = asyncio.current_task()
        try:
            taken = 0
            while not self._stopping:
                found = await self.store.run(self._claim)
                await asyncio.gather(*(handle(event) for event in found))
                taken += len(found)
                if len(found) < BATCH:
                    break
            return taken
        finally:
            self._redriving = None

    async def stop(self) -> None:
        """Hand out nothing more; wait for a redrive under way to finish (at shutdown)."""
        self._stopping = True
        if self._redriving is not None and self._redriving is not asyncio.current_task():
            await asyncio.wait({self._redriving})

    def _claim(self) -> list[Event]:
        now = self.clock.now()
        found: list[Event] = []
        with self.store.session() as session:
            if self._handling and (
                self._renewed_at is None or now - self._renewed_at >= self.lease / 3
            ):
                renew(session, list(self._handling), now + self.lease)
                self._renewed_at = now
            for row in claim_due(session, now, self.lease, BATCH):
                if (row.platform, row.event_id) in self._handling:
                    continue  # taken on since the renewal: due again after a lease
                if row.attempts > MAX_ATTEMPTS:
                    log.error(
                        "inbox: %s event %s dropped after %s attempts to handle it",
                        row.platform,
                        row.event_id,
                        row.attempts - 1,
                    )
                    session.execute(delete(_TABLE).where(_TABLE.c.id == row.id))
                    continue
                log.warning(
                    "inbox: handling %s event %s again (received %s; its handling never finished)",
                    row.platform,
                    row.event_id,
                    row.received_at.isoformat(timespec="seconds"),
                )
                found.append(from_json(row.event))
                self._held.add((row.platform, row.event_id))
        return found
