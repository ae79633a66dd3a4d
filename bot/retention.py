"""Retention: personal data of a programme that ended long enough ago is deleted, and the
bookkeeping of work done is kept only as long as it serves.

A programme's `retention_days` after its end date (0 keeps everything), its participants'
data goes: people who take part in no other, still-kept programme are erased completely;
others lose what belonged to this programme. Coordinators stay. Anonymous poll answers stay
(they belong to no one).

Outbox rows finished more than `OUTBOX_DAYS` ago (a sent message keeps only its idempotency key
by then, a job its small payload) and platform event ids older than `EVENT_DAYS` (platforms
retry within minutes) are deleted, except the rows that are the record of something done once:
a programme's closing and the certificates it sent (`RECORD_KEYS`).

The check runs daily as a durable outbox job that plans its next run; afterwards the database
files are wiped of what it deleted (`bot.store.wipe_after_commit`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, or_
from sqlmodel import Session, col, delete, select

from bot import outbox
from bot.domain import (
    Consent,
    IntakeAnswer,
    Membership,
    OutboxItem,
    ProcessedEvent,
    Programme,
    Role,
    SafeguardingAlert,
)
from bot.engine import Outbound
from bot.services import privacy
from bot.services.closing import CERTIFICATES
from bot.store import wipe_after_commit

DAILY = "retention.daily"
OUTBOX_DAYS = 30
EVENT_DAYS = 7
RECORD_KEYS = (f"{CERTIFICATES}:", "certificate:")
"""Outbox keys that record what must happen only once, for as long as the programme's data."""


def expired(programme: Programme, today: date) -> bool:
    days = int(programme.settings.get("retention_days", 365) or 0)
    return days > 0 and programme.end + timedelta(days=days) < today


def purge(session: Session, now: datetime) -> list[int]:
    """Delete what retention asks for; returns the ids of the programmes purged now."""
    today = now.date()
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
                privacy.erase(session, membership.person_id, now)
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


def purge_bookkeeping(session: Session, now: datetime) -> int:
    """Delete finished outbox rows and platform event ids that no longer serve a purpose;
    returns how many rows went."""
    finished = now - timedelta(days=OUTBOX_DAYS)
    key = col(OutboxItem.idempotency_key)
    rows = session.exec(
        delete(OutboxItem).where(
            or_(
                and_(col(OutboxItem.done_at).is_not(None), col(OutboxItem.done_at) < finished),
                and_(col(OutboxItem.failed_at).is_not(None), col(OutboxItem.failed_at) < finished),
            ),
            *(~key.startswith(prefix) for prefix in RECORD_KEYS),
        )
    )
    seen = now - timedelta(days=EVENT_DAYS)
    events = session.exec(delete(ProcessedEvent).where(col(ProcessedEvent.at) < seen))
    return rows.rowcount + events.rowcount


def daily(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
    programmes = purge(session, now)
    if purge_bookkeeping(session, now) or programmes:
        wipe_after_commit(session)  # only when something went: a checkpoint is not free
    plan(session, date.fromisoformat(item.payload["day"]) + timedelta(days=1), now)
    return []
