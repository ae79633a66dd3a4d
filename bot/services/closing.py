"""Whether a programme has been closed, and since when (docs/closing.md).

Closing is recorded twice: `programme.settings["closed_at"]` (what status and the greeting
read), and the payload of the closing's certificate job in the outbox (idempotency key
`closing.certificates:<programme>`). The second record is the durable one: `programmes.sync`
rewrites a programme's settings from config.toml at every start, so after a restart the
setting is gone while the outbox row stays. Both are read here.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from bot.domain import OutboxItem, Programme

CERTIFICATES = "closing.certificates"


def certificates_key(programme_id: int) -> str:
    return f"{CERTIFICATES}:{programme_id}"


def closed_at(session: Session, programme: Programme) -> datetime | None:
    """When the programme was closed, or None while it runs."""
    raw = programme.settings.get("closed_at")
    if raw:
        return datetime.fromisoformat(raw)
    if programme.id is None:
        return None
    marker = session.exec(
        select(OutboxItem).where(OutboxItem.idempotency_key == certificates_key(programme.id))
    ).first()
    if marker is None or not marker.payload.get("closed_at"):
        return None
    return datetime.fromisoformat(marker.payload["closed_at"])


def is_closed(session: Session, programme: Programme) -> bool:
    return closed_at(session, programme) is not None


def mark_closed(session: Session, programme: Programme, now: datetime) -> None:
    """Record the closing on the programme (a new dict, so the JSON column is written)."""
    programme.settings = {**programme.settings, "closed_at": now.isoformat()}
    session.add(programme)
