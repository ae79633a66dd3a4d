"""Retention: personal data of a programme that ended long enough ago is deleted.

A programme's `retention_days` after its end date (0 keeps everything), its participants'
data goes: people who take part in no other, still-kept programme are erased completely;
others lose what belonged to this programme. Coordinators stay. Anonymous poll answers stay
(they belong to no one). The check runs daily as a durable outbox job that plans its next run.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlmodel import Session, delete, select

from bot import outbox
from bot.domain import (
    Consent,
    IntakeAnswer,
    Membership,
    OutboxItem,
    Programme,
    Role,
    SafeguardingAlert,
)
from bot.engine import Outbound
from bot.services import people

DAILY = "retention.daily"


def expired(programme: Programme, today: date) -> bool:
    days = int(programme.settings.get("retention_days", 365) or 0)
    return days > 0 and programme.end + timedelta(days=days) < today


def purge(session: Session, today: date) -> list[int]:
    """Delete what retention asks for; returns the ids of the programmes purged now."""
    purged = []
    programmes = session.exec(select(Programme)).all()
    kept = {p.id for p in programmes if not expired(p, today)}
    for programme in programmes:
        if not expired(programme, today) or programme.settings.get("purged_at"):
            continue
        members = session.exec(
            select(Membership).where(
                Membership.programme_id == programme.id, Membership.role != Role.COORDINATOR
            )
        ).all()
        for membership in members:
            elsewhere = session.exec(
                select(Membership).where(
                    Membership.person_id == membership.person_id,
                    Membership.programme_id != programme.id,
                )
            ).all()
            if not any(m.programme_id in kept for m in elsewhere):
                people.erase(session, membership.person_id)
                continue
            for model in (IntakeAnswer, Consent, Membership, SafeguardingAlert):
                session.exec(
                    delete(model).where(
                        model.person_id == membership.person_id, model.programme_id == programme.id
                    )
                )
        programme.settings = {**programme.settings, "purged_at": today.isoformat()}
        session.add(programme)
        purged.append(programme.id)
    return purged


def plan(session: Session, day: date, now: datetime) -> None:
    """The daily check for `day` (once per day, whichever process plans it)."""
    due = datetime.combine(day, time(3, 0), tzinfo=now.tzinfo)
    outbox.enqueue(
        session, DAILY, {"day": day.isoformat()}, f"retention:{day.isoformat()}", max(due, now), now
    )


def daily(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
    purge(session, now.date())
    plan(session, date.fromisoformat(item.payload["day"]) + timedelta(days=1), now)
    return []
