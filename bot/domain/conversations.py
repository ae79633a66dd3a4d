"""Flow runs: the persisted position and answers of one conversation."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, text
from sqlmodel import Field, SQLModel

from bot.domain.types import UTCDateTime


class RunStatus(StrEnum):
    ACTIVE = "active"
    DONE = "done"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class FlowRun(SQLModel, table=True):
    """One run of a flow for one subject, talking with `person_id` in one space.

    At most one active run per person and space (a partial unique index guards it).
    `ask_seq` counts how often a step was asked, so a reminder scheduled for an earlier
    asking knows it is stale.
    """

    __tablename__ = "flow_run"
    __table_args__ = (
        Index(
            "uq_flow_run_active_conversation",
            "person_id",
            "space_platform",
            "space_workspace",
            "space_channel",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    flow: str = Field(max_length=40)
    version: int
    subject: str = Field(max_length=60, index=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    programme_id: int | None = Field(default=None, foreign_key="programme.id", ondelete="CASCADE")
    space_platform: str = Field(max_length=20)
    space_workspace: str = Field(max_length=64)
    space_channel: str = Field(max_length=64)
    space_kind: str = Field(max_length=20)
    step: str = Field(max_length=40)
    ask_seq: int = 0
    answers: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default=RunStatus.ACTIVE, sa_type=String(20))
    """A `RunStatus` value."""
    started_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
