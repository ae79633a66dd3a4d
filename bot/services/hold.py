"""When Maatje holds back: a programme's quiet periods and a person's pause.

Every nudge, reminder and escalation asks `until` before it goes out. During a quiet period
(programme time zone, inclusive dates) it waits until 08:00 on the first day after it; while a
person it is meant for has paused (`pause until DATE`), until their pause ends — whichever is
later, checked again at that moment. `postpone` puts the outbox action back for then.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session

from bot import outbox
from bot.domain import OutboxItem, Person, Programme
from bot.services import scheduling

HELD = ":held:"


def until(
    programme: Programme | None, people: Iterable[Person | None], now: datetime
) -> datetime | None:
    """None when nothing holds back at `now`; otherwise the moment nothing does any more."""
    periods = scheduling.quiet_periods(programme.settings) if programme else ()
    pauses = [p.paused_until for p in people if p is not None and p.paused_until is not None]
    moment = now
    while True:
        later = moment
        if programme is not None and periods:
            later = scheduling.after_quiet(later, periods, programme.timezone)
        later = max([later, *pauses])
        if later == moment:
            return None if moment == now else moment
        moment = later


def postpone(session: Session, item: OutboxItem, at: datetime, now: datetime) -> None:
    """Write `item` again, due at `at` (its key records the moment, so each hold is one row)."""
    base = item.idempotency_key.split(HELD)[0]
    outbox.enqueue(
        session, item.kind, item.payload, f"{base}{HELD}{at:%Y%m%dT%H%M}", at, now, item.lane
    )


def held(
    session: Session,
    item: OutboxItem,
    programme: Programme | None,
    people: Iterable[Person | None],
    now: datetime,
) -> bool:
    """Postpone `item` if something holds it back now; True when it did."""
    at = until(programme, people, now)
    if at is None:
        return False
    postpone(session, item, at, now)
    return True
