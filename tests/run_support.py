"""A conversation run as the engine starts one, for tests of how runs are held and found."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.engine import runs
from bot.engine.runs import Run
from bot.events import SpaceRef


def intake_run(
    session: Session, person_id: int, space: SpaceRef, now: datetime, **changed: Any
) -> Run:
    """`person_id`'s intake at its first step in `space` (`changed`: other column values)."""
    values: dict[str, Any] = {
        "flow": "intake",
        "version": 1,
        "subject": f"person:{person_id}",
        "person_id": person_id,
        "programme_id": None,
        "space_platform": space.platform,
        "space_workspace": space.workspace,
        "space_channel": space.channel_id,
        "space_kind": space.kind.value,
        "step": "consent",
        "answers": {},
        "started_at": now,
        "updated_at": now,
    }
    return runs.create(session, **{**values, **changed})
