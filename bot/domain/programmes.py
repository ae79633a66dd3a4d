"""Programmes, who takes part in which role, and mentor groups."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.domain.types import UTCDateTime


class Role(StrEnum):
    MENTEE = "mentee"
    MENTOR = "mentor"
    COORDINATOR = "coordinator"


class Grant(StrEnum):
    """Where a coordinator's rights come from (`Membership.granted_by`)."""

    CONFIG = "config"
    """Listed under the programme's `coordinators` in config.toml: checked at every start."""
    ROLE = "role"
    """A platform role (Discord's `coordinator_role`): checked at every command."""


class IntakeState(StrEnum):
    """Where a participant is in intake; coordinators have no intake (`not_needed`)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    NOT_COMMITTED = "not_committed"
    NOT_NEEDED = "not_needed"


class Programme(SQLModel, table=True):
    """A mentoring programme as declared in config.toml and synchronised at start-up."""

    __tablename__ = "programme"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    language: str = Field(max_length=8)
    timezone: str = Field(max_length=64)
    start: date
    end: date
    meeting_cadence: str = Field(max_length=20)
    meetings: int
    referral: str = Field(default="", max_length=2000)
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)

    def is_open(self, today: date) -> bool:
        return today <= self.end


class Membership(SQLModel, table=True):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("programme_id", "person_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", ondelete="CASCADE", index=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    role: str = Field(sa_type=String(20))
    """A `Role` value."""
    intake: str = Field(default=IntakeState.NOT_STARTED, sa_type=String(20))
    """An `IntakeState` value."""
    needs_referral: bool = False
    joined_at: datetime = Field(sa_type=UTCDateTime)
    granted_by: str | None = Field(default=None, sa_type=String(20))
    """For coordinators, a `Grant` value (None on rows from before it was recorded: treated as
    config at the next start); None for participants."""


class MentorGroup(SQLModel, table=True):
    __tablename__ = "mentor_group"

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", ondelete="CASCADE", index=True)
    mentor_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    name: str = Field(max_length=100)
    space_platform: str | None = Field(default=None, max_length=20)
    space_workspace: str | None = Field(default=None, max_length=64)
    space_channel: str | None = Field(default=None, max_length=64, index=True)


class GroupMember(SQLModel, table=True):
    __tablename__ = "group_member"

    group_id: int = Field(foreign_key="mentor_group.id", ondelete="CASCADE", primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", primary_key=True)
