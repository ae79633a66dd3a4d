"""Matches: proposals a coordinator reviews, and the pairs (mentor + mentee) they create.

A pair belongs to its mentor's group (`MentorGroup`). Pair and group record the private space
the platform gave them once it exists.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.domain.types import UTCDateTime


class PairStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class Pair(SQLModel, table=True):
    __tablename__ = "pair"
    __table_args__ = (UniqueConstraint("programme_id", "mentor_id", "mentee_id"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", ondelete="CASCADE", index=True)
    group_id: int = Field(foreign_key="mentor_group.id", ondelete="CASCADE", index=True)
    mentor_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    mentee_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    status: str = Field(default=PairStatus.ACTIVE, sa_type=String(20))
    """A `PairStatus` value."""
    matched_at: datetime = Field(sa_type=UTCDateTime)
    fit: float = 0.0
    reasons: list[Any] = Field(default_factory=list, sa_type=JSON)
    space_platform: str | None = Field(default=None, max_length=20)
    space_workspace: str | None = Field(default=None, max_length=64)
    space_channel: str | None = Field(default=None, max_length=64, index=True)
    guide: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """The kennismakingsgids: each side's answers, under "mentor" and "mentee"."""
    agreement: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """What the guide settled for the meeting scheduler: cadence, weekdays, dayparts, dates."""


class ProposalStatus(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    REPLACED = "replaced"


class MatchProposal(SQLModel, table=True):
    """A matching proposal under review. `groups` maps a mentor id (as text) to a list of
    {"mentee": id, "fit": float, "reasons": [Text JSON]}; nothing is created before approval."""

    __tablename__ = "match_proposal"

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default=ProposalStatus.OPEN, sa_type=String(20))
    groups: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    unmatched: list[Any] = Field(default_factory=list, sa_type=JSON)
