"""Meetings over the store: a programme's meeting settings, a pair's meetings, and the numbers
a coordinator sees. Plain functions; a pair's state and the stalled rules are in
`pair_states.py`, the conversations in `flows/contact/meetings*.py`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.domain import OPEN_MEETING, Meeting, MeetingStatus, Pair, Programme
from bot.services import scheduling
from bot.store import read


@dataclass(frozen=True)
class MeetingSettings:
    minutes: int = 60
    nudge_hours: tuple[int, ...] = (24, 1)
    agenda: tuple[dict[str, str], ...] = ()
    first_meeting_days: int = 21
    missed_in_row: int = 2
    silence_days: int = 10
    step_days: int = 3
    digest_weekday: str = "monday"
    quiet: tuple[scheduling.QuietPeriod, ...] = field(default=())
    timezone: str = "UTC"
    """The programme's zone, in which quiet periods are read."""

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Time from `start` to `end` outside quiet periods (what stalled rules count)."""
        return scheduling.outside_quiet(start, end, self.quiet, self.timezone)

    @classmethod
    def of(cls, programme: Programme) -> MeetingSettings:
        s = programme.settings
        return cls(
            minutes=s.get("meeting_minutes", 60),
            nudge_hours=tuple(s.get("nudge_hours", (24, 1))),
            agenda=tuple(s.get("meeting_agenda", ())),
            first_meeting_days=s.get("stalled_first_meeting_days", 21),
            missed_in_row=s.get("stalled_missed_in_row", 2),
            silence_days=s.get("stalled_silence_days", 10),
            step_days=s.get("stalled_step_days", 3),
            digest_weekday=s.get("digest_weekday", "monday"),
            quiet=scheduling.quiet_periods(s),
            timezone=programme.timezone,
        )


def meetings_of(session: Session, pair_id: int) -> Sequence[Meeting]:
    return session.exec(
        select(Meeting)
        .where(Meeting.pair_id == pair_id)
        .order_by(col(Meeting.starts_at), col(Meeting.id))
    ).all()


def meetings_of_pairs(session: Session, pair_ids: Sequence[int]) -> dict[int, list[Meeting]]:
    """`meetings_of` for many pairs in one query: pair id → its meetings (pairs without
    meetings are left out)."""
    found: dict[int, list[Meeting]] = {}
    for chunk in range(0, len(pair_ids), 500):
        rows = session.exec(
            select(Meeting)
            .where(col(Meeting.pair_id).in_(pair_ids[chunk : chunk + 500]))
            .order_by(col(Meeting.starts_at), col(Meeting.id))
        ).all()
        for meeting in rows:
            found.setdefault(meeting.pair_id or 0, []).append(meeting)
    return found


def open_meeting(session: Session, pair_id: int) -> Meeting | None:
    """The pair's meeting being planned or ahead (proposed or confirmed), if any."""
    return session.exec(
        select(Meeting)
        .where(Meeting.pair_id == pair_id, col(Meeting.status).in_(OPEN_MEETING))
        .order_by(col(Meeting.id).desc())
    ).first()


def held_by_mentor(session: Session, programme_id: int, mentor_id: int) -> int:
    """Meetings a mentor held with their mentees in a programme (for certificates)."""
    pairs = session.exec(
        select(Pair.id).where(Pair.programme_id == programme_id, Pair.mentor_id == mentor_id)
    ).all()
    if not pairs:
        return 0
    return len(
        session.exec(
            select(Meeting.id).where(
                col(Meeting.pair_id).in_(pairs), Meeting.status == MeetingStatus.HELD
            )
        ).all()
    )


def held_count(meetings: Sequence[Meeting]) -> int:
    return sum(1 for m in meetings if m.status == MeetingStatus.HELD)


def used_dates(meetings: Sequence[Meeting], zones: Sequence[str]) -> set[date]:
    """The local dates (in any of `zones`) that already had a meeting of the pair: held,
    confirmed, missed (it had been confirmed), or confirmed by both and then moved."""
    used = {
        m.starts_at
        for m in meetings
        if m.status in (MeetingStatus.HELD, MeetingStatus.CONFIRMED, MeetingStatus.MISSED)
        or len((m.confirmations or {}).get("confirmed") or {}) >= 2
    }
    return {start.astimezone(ZoneInfo(zone)).date() for start in used for zone in zones}


@dataclass(frozen=True)
class MeetingCounts:
    held: int
    missed: int
    planned: int


def counts(session: Session, programme_id: int, now: datetime, days: int = 28) -> MeetingCounts:
    """Meetings held and missed in the last `days` days, and planned (confirmed) in the next."""
    rows = read(
        session,
        select(Meeting.starts_at, Meeting.status).where(
            Meeting.programme_id == programme_id,
            col(Meeting.starts_at) >= now - timedelta(days=days),
            col(Meeting.starts_at) <= now + timedelta(days=days),
        ),
    ).all()
    past = [m for m in rows if m.starts_at <= now]
    return MeetingCounts(
        held=sum(1 for m in past if m.status == MeetingStatus.HELD),
        missed=sum(1 for m in past if m.status == MeetingStatus.MISSED),
        planned=sum(1 for m in rows if m.starts_at > now and m.status == MeetingStatus.CONFIRMED),
    )


def confirmations(meeting: Meeting) -> dict[str, Any]:
    """A copy of the meeting's answers, with the usual keys present."""
    data = copy.deepcopy(meeting.confirmations or {})
    data.setdefault("confirmed", {})
    data.setdefault("met", {})
    return data
