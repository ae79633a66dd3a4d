"""Whether a programme has been closed, since when, and its real last day; and ending the
conversations of the pairs a closing ends (docs/closing.md).

Closing is recorded twice: `programme.settings["closed_at"]` (what status and the greeting
read), and the payload of the closing's certificate job in the outbox (idempotency key
`closing.certificates:<programme>`). The second record is the durable one: `programmes.sync`
rewrites a programme's settings from config.toml at every start, so after a restart the
setting is gone while the outbox row stays. Both are read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlmodel import Session, or_

from bot.domain import OutboxItem, Pair, Programme, RunStatus
from bot.engine import runs
from bot.events import SpaceKind
from bot.prepared import Prepared
from bot.store import read_prepared

CERTIFICATES = "closing.certificates"


def certificates_key(programme_id: int) -> str:
    return f"{CERTIFICATES}:{programme_id}"


_MARKER = Prepared(
    select(OutboxItem.__table__.c.payload).where(
        OutboxItem.__table__.c.idempotency_key == bindparam("key")
    )
)
"""The certificates' action's payload (`closed_at`): asked for every open programme on
every first message (what to offer), so prepared once (`bot.prepared`)."""


def closed_at(session: Session, programme: Programme) -> datetime | None:
    """When the programme was closed, or None while it runs."""
    raw = programme.settings.get("closed_at")
    if raw:
        return datetime.fromisoformat(raw)
    if programme.id is None:
        return None
    rows = read_prepared(session, _MARKER, {"key": certificates_key(programme.id)})
    closed = rows[0][0].get("closed_at") if rows else None
    return datetime.fromisoformat(closed) if closed else None


def is_closed(session: Session, programme: Programme) -> bool:
    return closed_at(session, programme) is not None


def last_day(session: Session, programme: Programme) -> date:
    """The programme's real last day: its end date, or the day it closed if that was earlier."""
    closed = closed_at(session, programme)
    if closed is None:
        return programme.end
    return min(programme.end, closed.astimezone(ZoneInfo(programme.timezone)).date())


def end_conversations(session: Session, pairs: Sequence[Pair], now: datetime) -> int:
    """Cancel every conversation still open about these pairs — the goals, the check-in, the
    kennismakingsgids, a meeting time being proposed — so none of them reminds anyone after the
    pairs end. Returns how many were cancelled."""
    subjects = [f"pair:{pair.id}" for pair in pairs]
    channels = [pair.space_channel for pair in pairs if pair.space_channel]
    if not subjects:
        return 0
    table = runs.TABLE
    in_pair_space = table.c.space_channel.in_(channels) & (
        table.c.space_kind == SpaceKind.PAIR.value
    )
    found = runs.select_where(
        session,
        runs.IS_ACTIVE,
        or_(table.c.subject.in_(subjects), in_pair_space),
    )
    for run in found:
        run.status = RunStatus.CANCELLED
        run.updated_at = now
    return len(found)


def mark_closed(session: Session, programme: Programme, now: datetime) -> None:
    """Record the closing on the programme (a new dict, so the JSON column is written)."""
    programme.settings = {**programme.settings, "closed_at": now.isoformat()}
    session.add(programme)
