"""Safeguarding alerts over the store: raising one, the person's answers, who needs following
up, closing. What the person and the coordinators are told is in flows/safeguarding; the
protocol is in docs/safeguarding.md."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from bot import outbox
from bot.domain import (
    AlertReason,
    Identity,
    Membership,
    OutboxItem,
    Person,
    Role,
    SafeguardingAlert,
)
from bot.engine import Outbound
from bot.i18n import Text, _l
from bot.prepared import Prepared
from bot.store import columns_of, read_loaded

HOLD = timedelta(days=7)
"""What someone wrote is kept at most this long while they decide whether to share it."""
FORGET = "safeguarding.forget"
MAX_HELD = 4000
PLATFORMS = {"slack": "Slack", "discord": "Discord", "console": "console"}


def raise_alert(
    session: Session,
    person_id: int,
    programme_id: int | None,
    reason: AlertReason,
    now: datetime,
    space_kind: str,
    flow: str | None = None,
    run: tuple[int, int] | None = None,
    text: str | None = None,
) -> SafeguardingAlert:
    """A new alert; `run` is the (run id, ask_seq) it interrupted, `text` what they wrote
    (held until they decide, at most `HOLD`)."""
    alert = SafeguardingAlert(
        person_id=person_id,
        programme_id=programme_id,
        reason=reason,
        raised_at=now,
        space_kind=space_kind,
        flow=flow,
        run_id=run[0] if run else None,
        ask_seq=run[1] if run else None,
        held_text=text[:MAX_HELD] if text else None,
    )
    session.add(alert)
    session.flush()
    if text:
        outbox.enqueue(
            session, FORGET, {"alert": alert.id}, f"safeguarding-forget:{alert.id}", now + HOLD, now
        )
    return alert


def hold_more(alert: SafeguardingAlert, text: str) -> None:
    """Someone who has not yet decided about sharing wrote more: it is held with the rest."""
    if alert.share is None and alert.contact is not False:
        alert.held_text = "\n".join(filter(None, (alert.held_text, text)))[:MAX_HELD]


def forget(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
    """The outbox job: a held text is deleted after `HOLD`, decided or not."""
    alert = session.get(SafeguardingAlert, item.payload["alert"])
    if alert is not None and alert.held_text is not None:
        alert.held_text = None
        session.add(alert)
    return []


_LATEST = Prepared(  # the safety net reads it for every yes or no typed: prepared once
    select(*columns_of(SafeguardingAlert))
    .where(SafeguardingAlert.person_id == bindparam("person"))
    .order_by(col(SafeguardingAlert.id).desc())
    .limit(1)
)


def latest(session: Session, person_id: int) -> SafeguardingAlert | None:
    """The person's latest alert, as the session's own object (`loaded`)."""
    alerts = read_loaded(session, SafeguardingAlert, _LATEST, {"person": person_id})
    return alerts[0] if alerts else None


def open_alerts(session: Session, programme_ids: Sequence[int]) -> list[SafeguardingAlert]:
    """Alerts of these programmes nobody has closed yet, oldest first."""
    return list(
        session.exec(
            select(SafeguardingAlert)
            .where(
                col(SafeguardingAlert.programme_id).in_(programme_ids),
                col(SafeguardingAlert.closed_at).is_(None),
            )
            .order_by(col(SafeguardingAlert.id))
        ).all()
    )


def alerts_of(session: Session, person_ids: Sequence[int]) -> list[SafeguardingAlert]:
    return list(
        session.exec(
            select(SafeguardingAlert)
            .where(col(SafeguardingAlert.person_id).in_(person_ids))
            .order_by(col(SafeguardingAlert.id))
        ).all()
    )


def flagged(session: Session, programme_id: int) -> set[int]:
    """People with an open alert in the programme (for coordinators' views only)."""
    return {a.person_id for a in open_alerts(session, [programme_id])}


def asked_for_referral(session: Session, programme_id: int) -> list[int]:
    """Participants who said at intake that they need more help than mentoring gives."""
    return list(
        session.exec(
            select(Membership.person_id)
            .where(
                Membership.programme_id == programme_id,
                Membership.role != Role.COORDINATOR,
                col(Membership.needs_referral).is_(True),
            )
            .order_by(col(Membership.id))
        ).all()
    )


def close(
    session: Session, person_id: int, programme_ids: Sequence[int], by: int, now: datetime
) -> int:
    """A coordinator followed up: the person's open alerts in these programmes are closed."""
    closed = 0
    for alert in open_alerts(session, programme_ids):
        if alert.person_id == person_id:
            alert.closed_at, alert.closed_by, alert.held_text = now, by, None
            session.add(alert)
            closed += 1
    return closed


def name_of(session: Session, person_id: int) -> Text | str:
    """How coordinators are told who someone is: their name, or the chat account to find them
    by (before consent Maatje knows no name)."""
    person = session.get(Person, person_id)
    if person is not None and person.display_name:
        return person.display_name
    identity = session.exec(
        select(Identity)
        .where(Identity.person_id == person_id)
        .order_by(col(Identity.last_seen_at).desc().nulls_last())
    ).first()
    if identity is None:
        return f"#{person_id}"
    return _l(
        "{platform} account {account}",
        platform=PLATFORMS.get(identity.platform, identity.platform),
        account=identity.user_id,
    )


def export(session: Session, person_id: int) -> list[dict[str, Any]]:
    """The person's alerts, for `privacy` export."""
    return [
        {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in alert.model_dump().items()
            if key not in ("person_id", "closed_by")
        }
        for alert in alerts_of(session, [person_id])
    ]
