"""Meetings of a pair (or a group) and the escalations of a pair that stalls.

A meeting that moves keeps its calendar identity: the new row carries the same `ics_uid` with a
higher `ics_sequence`, and the old row stays as `rescheduled` (or `missed`) so the timeline
shows what happened.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String
from sqlmodel import Field, SQLModel

from bot.domain.types import UTCDateTime


class MeetingStatus(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    HELD = "held"
    MISSED = "missed"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"


OPEN_MEETING = (MeetingStatus.PROPOSED, MeetingStatus.CONFIRMED)


class Meeting(SQLModel, table=True):
    __tablename__ = "meeting"

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", ondelete="CASCADE", index=True)
    pair_id: int | None = Field(default=None, foreign_key="pair.id", ondelete="CASCADE", index=True)
    group_id: int | None = Field(
        default=None, foreign_key="mentor_group.id", ondelete="CASCADE", index=True
    )
    number: int
    """Which of the programme's meetings this is (1 = the first)."""
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    duration_minutes: int = 60
    status: str = Field(default=MeetingStatus.PROPOSED, sa_type=String(20))
    """A `MeetingStatus` value."""
    confirmations: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """{"confirmed": {person id: iso time}, "met": {person id: bool}, "asked_at": iso,
    "followup_at": iso}: who said what, and since when Maatje waits for an answer."""
    ics_uid: str = Field(max_length=120)
    ics_sequence: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime)


class Escalation(SQLModel, table=True):
    """One step taken for a stalled pair: 1 a nudge to the pair, 2 the mentor, 3 the
    coordinators (0: a coordinator's own reminder)."""

    __tablename__ = "escalation"

    id: int | None = Field(default=None, primary_key=True)
    pair_id: int = Field(foreign_key="pair.id", ondelete="CASCADE", index=True)
    level: int
    rule: str = Field(max_length=40)
    at: datetime = Field(sa_type=UTCDateTime)
    note: str = Field(default="", max_length=500)
