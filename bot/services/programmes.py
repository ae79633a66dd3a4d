"""Programmes: keep the store in step with config.toml, and answer who coordinates what."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from bot.config import ProgrammeConfig
from bot.domain import IntakeState, Membership, Person, Programme, Role
from bot.events import PersonRef
from bot.services import closing


def sync(session: Session, programmes: tuple[ProgrammeConfig, ...]) -> list[Programme]:
    """Create or update a programme row per configured programme (matched by slug).

    Programmes removed from the config stay in the store (their people and history remain) but
    are no longer offered to newcomers: their `settings.configured` becomes false.
    """
    rows = {p.slug: p for p in session.exec(select(Programme)).all()}
    synced = []
    for cfg in programmes:
        row = rows.pop(cfg.slug, None) or Programme(
            slug=cfg.slug,
            name=cfg.name,
            language=cfg.language,
            timezone=cfg.timezone,
            start=cfg.start,
            end=cfg.end,
            meeting_cadence=cfg.meeting_cadence,
            meetings=cfg.meetings,
        )
        row.name = cfg.name
        row.language = cfg.language
        row.timezone = cfg.timezone
        row.start = cfg.start
        row.end = cfg.end
        row.meeting_cadence = cfg.meeting_cadence
        row.meetings = cfg.meetings
        row.referral = cfg.referral
        row.settings = _settings(cfg)
        session.add(row)
        synced.append(row)
    for stale in rows.values():
        stale.settings = {**stale.settings, "configured": False}
        session.add(stale)
    session.flush()
    return synced


def _settings(cfg: ProgrammeConfig) -> dict[str, Any]:
    return {
        "configured": True,
        "coordinators": {k: list(v) for k, v in cfg.coordinators.items()},
        "quiet_periods": [
            {"from": q.start.isoformat(), "to": q.end.isoformat(), "reason": q.reason}
            for q in cfg.quiet_periods
        ],
        "intake_reminder_hours": cfg.intake_reminder_hours,
        "intake_expiry_days": cfg.intake_expiry_days,
        "guide_reminder_hours": cfg.guide_reminder_hours,
        "fit_check_days": cfg.fit_check_days,
        "mentor_reflection_months": cfg.mentor_reflection_months,
        "group_size": cfg.group_size,
        "min_fit": cfg.min_fit,
        "matching_weights": dict(cfg.matching_weights),
        "meeting_minutes": cfg.meeting_minutes,
        "nudge_hours": list(cfg.nudge_hours),
        "meeting_agenda": [{"theme": a.theme, "exercise": a.exercise} for a in cfg.meeting_agenda],
        "stalled_first_meeting_days": cfg.stalled_first_meeting_days,
        "stalled_missed_in_row": cfg.stalled_missed_in_row,
        "stalled_silence_days": cfg.stalled_silence_days,
        "stalled_step_days": cfg.stalled_step_days,
        "digest_weekday": cfg.digest_weekday,
        "retention_days": cfg.retention_days,
        "poll_min_responses": cfg.poll_min_responses,
        "poll_reminder_days": cfg.poll_reminder_days,
        "poll_reminders": cfg.poll_reminders,
        "institution": cfg.institution,
        "certificate_signer": cfg.certificate_signer,
        "certificate_signer_role": cfg.certificate_signer_role,
        "certificate_criteria": dict(cfg.certificate_criteria),
        "certificate_comprised": [dict(c) for c in cfg.certificate_comprised],
    }


def every(session: Session) -> list[Programme]:
    """All programmes, read once per unit of work: nearly every event needs them (coordinator
    roles, the default language, what to offer), and rows are only added by `sync` at start-up.
    The session's identity map keeps changes to them visible."""
    rows = session.info.get("programmes")
    if rows is None:
        rows = session.info["programmes"] = list(
            session.exec(select(Programme).order_by(Programme.id)).all()
        )
    return rows


def open_programmes(session: Session, today: date) -> list[Programme]:
    return [
        p
        for p in sorted(every(session), key=lambda p: (p.start, p.id or 0))
        if p.settings.get("configured", True)
        and p.is_open(today)
        and not closing.is_closed(session, p)
    ]


def ensure_coordinator_roles(
    session: Session, person: Person, ref: PersonRef, now: datetime, vouched: bool = False
) -> None:
    """Give the coordinator role in every programme whose config lists this account, or, when
    the platform vouches for the person (a coordinator role there), in every open programme."""
    assert person.id is not None
    open_now = {p.id for p in open_programmes(session, now.date())} if vouched else set()
    for programme in every(session):
        listed = programme.settings.get("coordinators", {}).get(ref.platform, [])
        if ref.user_id not in listed and programme.id not in open_now:
            continue
        exists = session.exec(
            select(Membership).where(
                Membership.programme_id == programme.id,
                Membership.person_id == person.id,
                Membership.role == Role.COORDINATOR,
            )
        ).first()
        if exists is None:
            assert programme.id is not None
            session.add(
                Membership(
                    programme_id=programme.id,
                    person_id=person.id,
                    role=Role.COORDINATOR,
                    intake=IntakeState.NOT_NEEDED,
                    joined_at=now,
                )
            )
    session.flush()
