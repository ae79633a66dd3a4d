"""The inbox: events a platform was told had arrived, kept until the core has handled them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.domain.types import UTCDateTime


class InboxEvent(SQLModel, table=True):
    """One received event (the neutral event as JSON). Written before the platform gets its
    acknowledgement, deleted in the transaction that handles the event; a row still here at
    `due_at` belongs to a process that died or gave up, and is handled again."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "event_id"),
        Index("ix_inbox_due", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    event_id: str = Field(max_length=200)
    event: dict[str, Any] = Field(sa_type=JSON)
    received_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0
