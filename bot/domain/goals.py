"""SMART goals a mentee sets with their mentor, and the check-ins between meetings."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String
from sqlmodel import Field, SQLModel

from bot.domain.types import UTCDateTime


class GoalStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class Goal(SQLModel, table=True):
    """Specific (`what`), Measurable (`measure`), Achievable (`confidence` 1–5), Relevant
    (`why`), Time-bound (`due`)."""

    __tablename__ = "goal"

    id: int | None = Field(default=None, primary_key=True)
    pair_id: int = Field(foreign_key="pair.id", ondelete="CASCADE", index=True)
    mentee_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    what: str = Field(max_length=600)
    measure: str = Field(max_length=600)
    confidence: int
    why: str = Field(max_length=600)
    due: date
    status: str = Field(default=GoalStatus.OPEN, sa_type=String(20))
    """A `GoalStatus` value."""
    progress: int = 0
    """The latest check-in's score, 1–5 (0: not checked in yet)."""
    mentor_comment: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class CheckIn(SQLModel, table=True):
    __tablename__ = "check_in"

    id: int | None = Field(default=None, primary_key=True)
    pair_id: int = Field(foreign_key="pair.id", ondelete="CASCADE", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    went_well: str = Field(max_length=1000)
    was_hard: str = Field(max_length=1000)
    progress: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """Goal id (as text) → 1–5."""
    help_needed: bool = False
