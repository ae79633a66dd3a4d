"""Polls: a questionnaire sent to an audience, who still has to answer, and the answers.

Anonymous means anonymous. An anonymous response has no person, no time and a random id, and
the responses of a poll are rewritten together in random order from time to time (`mix` in
bot/services/polls.py), so neither a column, nor the order of the rows, nor the transaction
that wrote a row joins a response to the invite of the person who gave it. What is kept per
person is only whether they answered (`PollInvite.answered_at`), for reminders.
See docs/polls.md.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlmodel import Field, SQLModel

from bot.domain.types import UTCDateTime

RESPONSE_ID_BITS = 53
"""Random response ids stay below 2**53, so they survive JSON and JavaScript unharmed."""


def random_response_id() -> int:
    return secrets.randbits(RESPONSE_ID_BITS) or 1


class PollStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Poll(SQLModel, table=True):
    __tablename__ = "poll"

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", ondelete="CASCADE", index=True)
    questionnaire: str = Field(max_length=40)
    questionnaire_version: str = Field(max_length=16)
    """The hash of the questionnaire file when the poll was sent."""
    audience: str = Field(max_length=80)
    """mentees, mentors, all, or group:<id>."""
    anonymous: bool = False
    closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default=PollStatus.OPEN, sa_type=String(20))
    """A `PollStatus` value."""
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PollInvite(SQLModel, table=True):
    """Who was asked, and whether they answered — never what."""

    __tablename__ = "poll_invite"

    poll_id: int = Field(foreign_key="poll.id", ondelete="CASCADE", primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", primary_key=True)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PollResponse(SQLModel, table=True):
    """One person's answers, by item id. For an anonymous poll `person_id` and `submitted_at`
    are NULL and `id` is random (on SQLite the id is the rowid, so no hidden sequence is left)."""

    __tablename__ = "poll_response"

    id: int = Field(
        default_factory=random_response_id,
        primary_key=True,
        sa_type=BigInteger().with_variant(Integer(), "sqlite"),
        sa_column_kwargs={"autoincrement": False},
    )
    poll_id: int = Field(foreign_key="poll.id", ondelete="CASCADE", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="CASCADE")
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answers: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
