"""What an adapter must remember about its platform between restarts.

- `ConversationReference`: how to reach a conversation again without waiting for the person to
  write (Microsoft Teams needs the service URL, the bot's account and the person's
  conversation-scoped id for a proactive message). One row per platform conversation; a
  person's direct chat carries their `user_id`.
- `HeldFile`: a file waiting for the person to accept it (Teams' file consent card). Its bytes
  stay here until the person answers; then the row is deleted.

Both are deleted with the person (`bot.services.privacy.erase`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary
from sqlmodel import Field, SQLModel

from bot.domain.types import UTCDateTime


class ConversationReference(SQLModel, table=True):
    __tablename__ = "conversation_reference"
    __table_args__ = (Index("ix_conversation_reference_user", "platform", "workspace", "user_id"),)

    platform: str = Field(primary_key=True, max_length=20)
    channel_id: str = Field(primary_key=True, max_length=64)
    """The conversation as the core knows it (`SpaceRef.channel_id`): the platform's id, or a
    digest of it when that is longer than the core's 64 characters."""
    workspace: str = Field(max_length=64)
    kind: str = Field(max_length=20)
    """The platform's kind of conversation (Teams: personal, groupChat, channel)."""
    user_id: str | None = Field(default=None, max_length=64)
    """For a person's direct chat: the person's account id (`PersonRef.user_id`)."""
    reference: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """Everything needed to post there (Teams: conversation id, service URL, bot account)."""
    updated_at: datetime = Field(sa_type=UTCDateTime)


class HeldFile(SQLModel, table=True):
    __tablename__ = "held_file"

    id: str = Field(primary_key=True, max_length=64)
    platform: str = Field(max_length=20)
    workspace: str = Field(max_length=64)
    user_id: str = Field(max_length=64, index=True)
    filename: str = Field(max_length=200)
    mimetype: str = Field(max_length=100)
    content: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(sa_type=UTCDateTime)
