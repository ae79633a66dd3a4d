"""Durable work: the outbox of scheduled actions, and platform events already processed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from bot.domain.types import UTCDateTime
from bot.pacing import BULK

PENDING = "done_at IS NULL AND failed_at IS NULL"
UNFINISHED = "coalesce(done_at, failed_at) IS NULL"
"""The same as PENDING, for the claim indexes: the claims spell it so (`bot.claims`), which
keeps planners from walking every unfinished row through ix_outbox_pending instead."""


class OutboxItem(SQLModel, table=True):
    """An action due at `due_at`. Done once `done_at` is set; dead once `failed_at` is."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "done_at", "failed_at", "due_at"),
        Index(
            "ix_outbox_lane_pending",
            "lane",
            "id",
            postgresql_where=text(PENDING),
            sqlite_where=text(PENDING),
        ),
        # The claims' indexes carry `claimed_until`, so that rows claimed already are passed
        # over in the index, and `id` after `due_at`, so that they are read in claim order;
        # `done_at` and `failed_at` (NULL) so that SQLite checks its condition in the index.
        Index(
            "ix_outbox_urgent",
            "priority",
            "due_at",
            "id",
            "claimed_until",
            "done_at",
            "failed_at",
            postgresql_where=text(UNFINISHED),
            sqlite_where=text(UNFINISHED),
        ),
        Index(
            "ix_outbox_claimable",
            "kind",
            "due_at",
            "id",
            "claimed_until",
            "done_at",
            "failed_at",
            postgresql_where=text(UNFINISHED),
            sqlite_where=text(UNFINISHED),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    idempotency_key: str = Field(max_length=200, unique=True)
    lane: str | None = Field(default=None, max_length=120)
    """Actions in one lane (messages to one person or one space) are carried out in the order
    they were written: none is claimed while an older one in its lane is unfinished."""
    priority: int = Field(default=BULK, sa_column_kwargs={"server_default": str(BULK)})
    """`bot.pacing.URGENT` (0: someone waits for it, claimed first) or `BULK` (1)."""
    due_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=1000)
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "processed_event"
    __table_args__ = (UniqueConstraint("platform", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    event_id: str = Field(max_length=200)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
