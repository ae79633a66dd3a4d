"""Safeguarding alerts: the safety net went off for someone, or they asked for help now.

An alert names a person and where it happened (the kind of space, the conversation), never
what they wrote: `held_text` keeps their words only until they say whether a coordinator may
read them (and at most a week), see docs/safeguarding.md.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from bot.domain.types import UTCDateTime


class AlertReason(StrEnum):
    WORDS = "words"
    """Something the person wrote matched the phrase lists."""
    REQUEST = "request"
    """The person asked for help now (`hulp`, `help now`)."""


class SafeguardingAlert(SQLModel, table=True):
    __tablename__ = "safeguarding_alert"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    programme_id: int | None = Field(
        default=None, foreign_key="programme.id", ondelete="CASCADE", index=True
    )
    reason: str = Field(sa_type=String(20))
    """An `AlertReason` value."""
    raised_at: datetime = Field(sa_type=UTCDateTime)
    space_kind: str = Field(max_length=20)
    flow: str | None = Field(default=None, max_length=40)
    """The conversation the person was in (never an anonymous poll's)."""
    run_id: int | None = None
    ask_seq: int | None = None
    """The run and the asking of its question that the alert interrupted: a second hit at the
    same question is taken as the answer (no loop), see docs/safeguarding.md."""
    contact: bool | None = None
    """May a coordinator contact them? None: not answered (yet)."""
    share: bool | None = None
    """May the coordinators read what they wrote? None: not answered (yet)."""
    held_text: str | None = Field(default=None, max_length=4000)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
