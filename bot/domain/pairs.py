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


class EndSource(StrEnum):
    """Where a request to end a pair came from."""

    FIT_CHECK = "fit_check"
    """A side answered the fit check with "it doesn't work"."""
    STALLED = "stalled"
    """The pair stayed stalled after the last escalation step."""
    PARTICIPANT = "participant"
    """The mentor or mentee asked with `end pair`."""


class EndRequest(SQLModel, table=True):
    """A request to end a pair, waiting for the coordinators' review in `match` (which ends
    it and proposes the mentee again, or keeps the pair). The reason, typed by a participant,
    is shown to coordinators only."""

    __tablename__ = "end_request"

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", ondelete="CASCADE", index=True)
    pair_id: int = Field(foreign_key="pair.id", ondelete="CASCADE", index=True)
    person_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="CASCADE", index=True
    )
    """Who asked; None when the stalled check put the pair forward."""
    source: str = Field(sa_type=String(20))
    """An `EndSource` value."""
    reason: str | None = Field(default=None, max_length=1000)
    at: datetime = Field(sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, max_length=20)
    """"ended", "kept" (a coordinator kept the pair), "withdrawn" or "recovered"."""


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
    endings: list[Any] = Field(default_factory=list, sa_type=JSON)
    """Ids of active pairs that asked to end: approving ends them (their mentees are in
    `groups` or `unmatched` again)."""
