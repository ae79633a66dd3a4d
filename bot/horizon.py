"""When a dispatcher's next claim can find work, so that it claims only then.

A look that finds nothing claimable (`bot.claims.look`) also tells when the first unfinished
action falls due; until then a claim can only find what was written to the outbox since.
`bot.outbox`'s functions note on their connection what they make due (`wrote`, `made_due`)
and strike off a turn's replies claimed in the same transaction (`claimed`); the notes are
reported to the engine's horizons when the connection goes back to the pool, or when a unit
of work ends on the connection the store's thread keeps (`ended`) — after its transaction
ended, so that the next look sees the rows.

Any other statement that changes the outbox (a flow moving a reminder forward) is seen by a
dialect event and counts as due at once. (A connection event instead cost SQLAlchemy's
per-connection event dispatch about 5 % more Python calls per event than the looks saved.)

What a look says holds for `span` at most (the dispatcher's tick): what is not reported here
— another process's writes (PostgreSQL), claims whose lease runs out — a look that often
finds, as the dispatcher's periodic claim always did.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from bot.pacing import URGENT

AT_ONCE = datetime.min.replace(tzinfo=UTC)
"""The due time of a write whose due time is not known: due before any claim."""
_NOTE = "maatje.outbox.written"
_TABLE = "outbox"
_HARMLESS: set[Any] = set()
_HORIZONS: weakref.WeakKeyDictionary[Engine, weakref.WeakSet[Horizon]] = weakref.WeakKeyDictionary()


class _Note:
    """What a connection's transaction wrote: urgent rows due at once that it may still claim
    itself (by key), and the earliest due time of everything else."""

    __slots__ = ("claimable", "earliest")

    def __init__(self) -> None:
        self.claimable: dict[str, datetime] = {}
        self.earliest: datetime | None = None

    def due(self) -> datetime | None:
        first = min(self.claimable.values(), default=None)
        if first is None or (self.earliest is not None and self.earliest < first):
            return self.earliest
        return first


def harmless(*statements: Any) -> None:
    """`bot.outbox`'s statements, built once, that make nothing due or note it themselves."""
    _HARMLESS.update(statements)


def _seen(_cursor: Any, _sql: Any, _parameters: Any, context: Any) -> None:
    """Any other change to the outbox (a flow moving a reminder forward, a test) counts as
    work due at once. A dialect event: one call per statement, none of the per-connection
    event dispatch a connection event costs."""
    if context.isupdate or context.isinsert or context.isdelete:
        statement = context.invoked_statement
        table = getattr(statement, "table", None)
        if getattr(table, "name", None) == _TABLE and statement not in _HARMLESS:
            _note(context.root_connection).earliest = AT_ONCE


def _note(connection: Connection) -> _Note:
    note = connection.info.get(_NOTE)
    if note is None:
        note = connection.info[_NOTE] = _Note()
    return note


def wrote(connection: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Note rows written (keys `idempotency_key`, `due_at`, `created_at`, `priority`); the
    urgent ones due at once may be claimed in the same transaction (`claimed`)."""
    note = _note(connection)
    for row in rows:
        due = row["due_at"]
        if row["priority"] == URGENT and due <= row["created_at"]:
            note.claimable[row["idempotency_key"]] = due
        elif note.earliest is None or due < note.earliest:
            note.earliest = due


def made_due(connection: Connection, due: datetime = AT_ONCE) -> None:
    """Note work made due at `due` (moved, given back, released: `AT_ONCE` when not known)."""
    note = _note(connection)
    if note.earliest is None or due < note.earliest:
        note.earliest = due


def claimed(connection: Connection, keys: Iterable[str]) -> None:
    """Strike off rows claimed in the transaction that wrote them: nobody else need look."""
    note = connection.info.get(_NOTE)
    if note is not None:
        for key in keys:
            note.claimable.pop(key, None)


def _returned(horizons: weakref.WeakSet[Horizon], info: dict[Any, Any]) -> None:
    note = info.pop(_NOTE, None)
    due = note.due() if note is not None else None
    if due is not None:
        for horizon in list(horizons):
            horizon.reported(due)


def ended(connection: Connection) -> None:
    """A unit of work ended on a connection that stays checked out (`bot.held`): report what
    it noted, as the pool's check-in does for any other connection."""
    horizons = _HORIZONS.get(connection.engine)
    if horizons is None:
        connection.info.pop(_NOTE, None)
    else:
        _returned(horizons, connection.info)


class Horizon:
    """One dispatcher's knowledge: no claim can find work before `until`, unless a write
    reported since says otherwise. Thread-safe: writes are reported on the store's threads."""

    def __init__(self, engine: Engine, span: timedelta) -> None:
        self.span = span
        self._lock = threading.Lock()
        self._until: datetime | None = None  # None: not known, claim
        self._since: datetime | None = None  # the earliest due reported since `looking`
        self._looked_at = AT_ONCE
        horizons = _HORIZONS.get(engine)
        if horizons is None:
            horizons = _HORIZONS[engine] = weakref.WeakSet()
            event.listen(engine, "checkin", lambda _dbapi, record: _returned(horizons, record.info))
            for execution in ("do_execute", "do_executemany", "do_execute_no_params"):
                event.listen(engine, execution, _seen)
        horizons.add(self)

    def may_find(self, now: datetime) -> bool:
        """Whether a claim at `now` can find anything (a clock set back knows nothing)."""
        until = self._until
        return until is None or now >= until or now < self._looked_at

    def looking(self) -> None:
        """A look begins: what is reported from now on, it may not see."""
        with self._lock:
            self._since = None

    def looked(self, now: datetime, empty: bool, next_due: datetime | None) -> None:
        """The look at `now` found nothing claimable (`empty`), and the first unfinished
        action is due at `next_due`; a look that found something tells nothing."""
        with self._lock:
            if not empty:
                self._until = None
                return
            self._looked_at, until = now, now + self.span
            for due in (next_due, self._since):
                if due is not None and due < until:
                    until = due
            self._until = until

    def reported(self, due: datetime) -> None:
        with self._lock:
            if self._since is None or due < self._since:
                self._since = due
            if self._until is not None and due < self._until:
                self._until = due
