"""Programmes: keep the store in step with config.toml, and answer who coordinates what.

Coordinator rights follow their source (`Grant`): rights from the programme's `coordinators`
list are given when the person first writes and end at the first start after they left the
list; rights from a platform role (Discord's `coordinator_role`) are given and ended by what the
platform says at each command. Every right that ends is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.config.model import ProgrammeConfig
from bot.domain import Grant, Identity, IntakeState, Membership, Person, Programme, Role
from bot.events import PersonRef
from bot.prepared import Prepared
from bot.services import closing
from bot.store import columns_of, read_loaded

log = logging.getLogger(__name__)


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
    _end_unlisted_coordinators(session, synced)
    _CONFIGURED.pop(session.get_bind().engine, None)
    return synced


def _listed(programme: Programme, platform: str, user_id: str) -> bool:
    return user_id in programme.settings.get("coordinators", {}).get(platform, [])


@dataclass(frozen=True)
class _Configured:
    """What only `sync` writes, at start-up, read once per process and database instead of on
    every event: the accounts some programme's `coordinators` list names, and the language of
    the only programme when there is just one."""

    listed: frozenset[tuple[str, str]]
    sole_language: str | None


_CONFIGURED: WeakKeyDictionary[Engine, _Configured] = WeakKeyDictionary()


def _configured(session: Session) -> _Configured:
    bind = session.get_bind().engine  # a unit of work may be bound to a held connection
    known = _CONFIGURED.get(bind)
    if known is None:
        rows = every(session)
        known = _CONFIGURED[bind] = _Configured(
            listed=frozenset(
                (platform, account)
                for programme in rows
                for platform, accounts in programme.settings.get("coordinators", {}).items()
                for account in accounts
            ),
            sole_language=rows[0].language if len(rows) == 1 else None,
        )
    return known


def sole_language(session: Session) -> str | None:
    """The language of the only programme there is (None when there are several, or none)."""
    return _configured(session).sole_language


def _end_unlisted_coordinators(session: Session, configured: list[Programme]) -> None:
    """Rights from config.toml end for whoever is no longer listed (each with a log line);
    rights from a platform role are left to the next command."""
    by_id = {p.id: p for p in configured}
    rows = session.exec(
        select(Membership, Identity)
        .join(Identity, col(Identity.person_id) == Membership.person_id)
        .where(
            Membership.role == Role.COORDINATOR,
            col(Membership.programme_id).in_(list(by_id)),
            col(Membership.granted_by).is_distinct_from(Grant.ROLE),
        )
    ).all()
    accounts: dict[int, list[Identity]] = {}
    memberships: dict[int, Membership] = {}
    for membership, identity in rows:
        assert membership.id is not None
        memberships[membership.id] = membership
        accounts.setdefault(membership.id, []).append(identity)
    for membership_id, membership in memberships.items():
        programme = by_id[membership.programme_id]
        if any(_listed(programme, i.platform, i.user_id) for i in accounts[membership_id]):
            if membership.granted_by is None:
                membership.granted_by = Grant.CONFIG
                session.add(membership)
            continue
        log.warning(
            "coordinator rights of person %s in programme %s ended: no longer listed in its "
            "coordinators (config.toml)",
            membership.person_id,
            programme.slug,
        )
        session.delete(membership)
    session.flush()


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
        "final_evaluation_anonymous": cfg.final_evaluation_anonymous,
        "institution": cfg.institution,
        "certificate_signer": cfg.certificate_signer,
        "certificate_signer_role": cfg.certificate_signer_role,
        "certificate_criteria": dict(cfg.certificate_criteria),
        "certificate_comprised": [dict(c) for c in cfg.certificate_comprised],
        "crisis_line": cfg.crisis_line,
    }


_EVERY = Prepared(select(*columns_of(Programme)).order_by(Programme.__table__.c.id))


def every(session: Session) -> list[Programme]:
    """All programmes, read once per unit of work: nearly every event needs them (coordinator
    roles, the default language, what to offer), and rows are only added by `sync` at start-up.
    The session's identity map keeps changes to them visible."""
    rows = session.info.get("programmes")
    if rows is None:
        rows = session.info["programmes"] = read_loaded(session, Programme, _EVERY, {})
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
    session: Session, person: Person, ref: PersonRef, now: datetime, vouched: bool | None = None
) -> None:
    """Give the coordinator role in every programme whose config lists this account, and, when
    the platform vouches for the person (a coordinator role there), in every open programme.
    When the platform says the person no longer holds that role (`vouched` False), the rights
    it gave end."""
    assert person.id is not None
    if vouched is None and (ref.platform, ref.user_id) not in _configured(session).listed:
        return  # the common case: a participant, and nothing to check
    listed = [p for p in every(session) if _listed(p, ref.platform, ref.user_id)]
    held = {
        m.programme_id: m
        for m in session.exec(
            select(Membership).where(
                Membership.person_id == person.id, Membership.role == Role.COORDINATOR
            )
        ).all()
    }
    grants = {p.id: Grant.CONFIG for p in listed}
    if vouched:
        for programme in open_programmes(session, now.date()):
            grants.setdefault(programme.id, Grant.ROLE)
    for programme_id, grant in grants.items():
        assert programme_id is not None
        membership = held.get(programme_id)
        if membership is None:
            membership = Membership(
                programme_id=programme_id,
                person_id=person.id,
                role=Role.COORDINATOR,
                intake=IntakeState.NOT_NEEDED,
                joined_at=now,
            )
        elif membership.granted_by == grant or membership.granted_by == Grant.CONFIG:
            continue  # rights from config.toml are not lowered to rights from a role
        membership.granted_by = grant
        session.add(membership)
    if vouched is False:
        slugs = {p.id: p.slug for p in every(session)}
        for programme_id, membership in held.items():
            if programme_id not in grants and membership.granted_by == Grant.ROLE:
                log.warning(
                    "coordinator rights of person %s in programme %s ended: no longer holds "
                    "the coordinator role on %s",
                    person.id,
                    slugs.get(programme_id, programme_id),
                    ref.platform,
                )
                session.delete(membership)
    session.flush()
