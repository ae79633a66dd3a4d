"""People, the platform accounts they use, what they consented to and what they told intake."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.domain.types import UTCDateTime


class Source(StrEnum):
    """Where a name or time zone came from: what a person tells Maatje wins over the platform."""

    PLATFORM = "platform"
    SELF = "self"


class Person(SQLModel, table=True):
    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    display_name: str | None = Field(default=None, max_length=200)
    name_source: str | None = Field(default=None, max_length=10)
    """A `Source` value: who gave `display_name`."""
    language: str | None = Field(default=None, max_length=8)
    timezone: str | None = Field(default=None, max_length=64)
    timezone_source: str | None = Field(default=None, max_length=10)
    """A `Source` value: who gave `timezone`."""
    paused_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Identity(SQLModel, table=True):
    """One platform account of a person (a Slack user in a workspace, a Discord user...)."""

    __tablename__ = "identity"
    __table_args__ = (UniqueConstraint("platform", "workspace", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    platform: str = Field(max_length=20)
    workspace: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    direct_channel: str | None = Field(default=None, max_length=64)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    profile_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the platform's profile (name, zone, locale) was last looked up and stored."""


class Consent(SQLModel, table=True):
    """A yes or no to storing data for a purpose, with the version of the text that was shown."""

    __tablename__ = "consent"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    programme_id: int = Field(foreign_key="programme.id", ondelete="CASCADE")
    purpose: str = Field(max_length=40)
    text_version: int
    given: bool
    at: datetime = Field(sa_type=UTCDateTime)


class IntakeAnswer(SQLModel, table=True):
    """A structured intake answer (the record matching reads)."""

    __tablename__ = "intake_answer"
    __table_args__ = (UniqueConstraint("person_id", "programme_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    programme_id: int = Field(foreign_key="programme.id", ondelete="CASCADE")
    role: str = Field(max_length=20)
    key: str = Field(max_length=40)
    value: Any = Field(sa_type=JSON)
