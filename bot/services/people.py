"""People: who is talking, in which language and zone, and in which role; how a member is named
in messages, and whether they paused.

Before someone consents, Maatje keeps only what it needs to hold the conversation: their
platform account id, the position in the conversation and, when the platform tells us, their
language. Names, time zones and answers are stored only after a yes (`bot.profiles`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, exists
from sqlmodel import Session, col, select

from bot.domain import Consent, Identity, Membership, Person, Programme, Role
from bot.events import PersonRef
from bot.i18n import DEFAULT_LANGUAGE
from bot.prepared import Prepared
from bot.services import programmes, standing
from bot.services.accounts import only_account
from bot.services.accounts import resolve as resolve  # who is talking: `bot.services.accounts`
from bot.store import column_values, inserted, read, read_prepared

_LATEST_CONSENT = (
    select(Consent).where(Consent.person_id == bindparam("person")).order_by(col(Consent.id).desc())
)
_ACCOUNT = (Identity.platform, Identity.workspace, Identity.user_id)
# Looked up for many messages (`bot.audience`): prepared once (`bot.prepared`).
_LATEST_IDENTITY = Prepared(
    select(*_ACCOUNT)
    .where(Identity.person_id == bindparam("person"))
    .order_by(col(Identity.last_seen_at).desc().nulls_last(), col(Identity.id).desc())
)
_IDENTITY_ON = Prepared(
    select(*_ACCOUNT)
    .where(Identity.person_id == bindparam("person"), Identity.platform == bindparam("platform"))
    .order_by(col(Identity.last_seen_at).desc().nulls_last())
)
_MEMBERSHIPS = (
    select(Membership, Programme)
    .join(Programme, col(Programme.id) == Membership.programme_id)
    .where(Membership.person_id == bindparam("person"))
    .order_by(col(Membership.id))
)
_MAIN_PROGRAMME = (
    select(Programme)
    .join(Membership, col(Programme.id) == Membership.programme_id)
    .where(Membership.person_id == bindparam("person"))
    .order_by(col(Membership.id).desc())
    .limit(1)
)
_MAIN_SETTINGS = Prepared(_MAIN_PROGRAMME.with_only_columns(Programme.language, Programme.timezone))
_COORDINATOR = select(Membership.id).where(
    Membership.person_id == bindparam("person"), Membership.role == Role.COORDINATOR
)
_MAY_STORE = Prepared(  # `has_consented` or `is_coordinator`, in one statement
    select(
        _LATEST_CONSENT.with_only_columns(Consent.given).limit(1).scalar_subquery(),
        exists().where(
            Membership.person_id == bindparam("person"), Membership.role == Role.COORDINATOR
        ),
    )
)


def has_consented(session: Session, person_id: int) -> bool:
    latest = session.exec(_LATEST_CONSENT, params={"person": person_id}).first()
    return bool(latest and latest.given)


def reachable_ref(session: Session, person_id: int) -> PersonRef | None:
    """The account the person used most recently."""
    only = only_account(session, person_id)
    if only is not None:
        return PersonRef(only.platform, only.workspace, only.user_id)
    rows = read_prepared(session, _LATEST_IDENTITY, {"person": person_id})
    return PersonRef(*rows[0]) if rows else None


def ref_on(session: Session, person_id: int, platform: str) -> PersonRef | None:
    """The person's account on `platform`, if they have one."""
    only = only_account(session, person_id)
    if only is not None:
        return (
            PersonRef(only.platform, only.workspace, only.user_id)
            if only.platform == platform
            else None
        )
    rows = read_prepared(session, _IDENTITY_ON, {"person": person_id, "platform": platform})
    return PersonRef(*rows[0]) if rows else None


def memberships(session: Session, person_id: int) -> list[tuple[Membership, Programme]]:
    """The person's memberships and their programmes, in the order they joined (none, without
    a statement, when they are known to have joined none: `joined_none`)."""
    if joined_none(session, person_id):
        return []
    rows = session.exec(_MEMBERSHIPS, params={"person": person_id}).all()
    return [(m, p) for m, p in rows]


def join(session: Session, membership: Membership, programme: Programme) -> Membership:
    """Write a new membership of `programme` with one prepared INSERT (`store.inserted`) and
    return it as the session's own object. The person's standing follows (`standing.changed`):
    this is the programme they joined last."""
    joined = inserted(session, Membership, column_values(membership))
    coordinating = {"coordinator": True} if membership.role == Role.COORDINATOR else {}
    settings = (programme.language, programme.timezone)
    standing.changed(session, membership.person_id, settings=settings, **coordinating)
    return joined


def give_consent(session: Session, consent: Consent) -> None:
    """Write a consent (or its refusal) with one prepared INSERT (`store.inserted`); the
    person's standing follows (`standing.changed`): it is their latest."""
    inserted(session, Consent, column_values(consent))
    standing.changed(session, consent.person_id, consented=consent.given)


def joined_none(session: Session, person_id: int) -> bool:
    """Whether the person is known, without a statement, to have joined no programme: their
    standing as this unit of work knows it (`standing.known`; a newcomer's first messages)."""
    known = standing.known(session, person_id)
    return known is not None and known.settings is None


def main_programme(session: Session, person_id: int) -> Programme | None:
    """The programme the person joined last."""
    return session.exec(_MAIN_PROGRAMME, params={"person": person_id}).first()


class PersonLike(Protocol):
    """What choosing a person's language and zone needs of them: a `Person`, or the same
    values read without the ORM (`bot.audience.Reader`)."""

    @property
    def id(self) -> int | None: ...

    @property
    def language(self) -> str | None: ...

    @property
    def timezone(self) -> str | None: ...


def _main_settings(session: Session, person: PersonLike) -> tuple[str, str] | None:
    """The language and time zone of the programme the person joined last (`main_programme`),
    read without making the programme an object."""
    if not person.id:
        return None
    known = standing.known(session, person.id)
    if known is not None:
        return known.settings
    rows = read_prepared(session, _MAIN_SETTINGS, {"person": person.id})
    return None if not rows else (rows[0][0], rows[0][1])


def language_of(session: Session, person: PersonLike) -> str:
    if person.language:
        return person.language
    return _programme_language(session, _main_settings(session, person))


def _programme_language(session: Session, settings: tuple[str, str] | None) -> str:
    """The language of the person's programme; before they joined one, of the only programme
    there is (otherwise the default)."""
    if settings:
        return settings[0]
    return programmes.sole_language(session) or DEFAULT_LANGUAGE


def timezone_of(session: Session, person: PersonLike) -> str:
    if person.timezone:
        return person.timezone
    settings = _main_settings(session, person)
    return settings[1] if settings else "UTC"


def reader(session: Session, person: PersonLike) -> tuple[str, str]:
    """(language, time zone) to render for this person, looking up their programme once."""
    if person.language and person.timezone:
        return person.language, person.timezone
    settings = _main_settings(session, person)
    language = person.language or _programme_language(session, settings)
    timezone = person.timezone or (settings[1] if settings else "UTC")
    return language, timezone


def may_store_profile(session: Session, person_id: int) -> bool:
    """Whether the platform's name and time zone may be stored: after consent, or for a
    coordinator (their role comes from the configuration, not from an intake)."""
    known = standing.known(session, person_id)
    if known is not None:
        return known.consented or known.coordinator
    ((given, coordinator),) = read_prepared(session, _MAY_STORE, {"person": person_id})
    return bool(given) or bool(coordinator)


def is_coordinator(session: Session, person_id: int, programme_id: int | None = None) -> bool:
    if programme_id is None:
        return read(session, _COORDINATOR, {"person": person_id}).first() is not None
    query = _COORDINATOR.where(Membership.programme_id == programme_id)
    return session.exec(query, params={"person": person_id}).first() is not None


def coordinated_programmes(session: Session, person_id: int) -> list[Programme]:
    """The programmes the person coordinates."""
    return list(
        session.exec(
            select(Programme)
            .join(Membership, col(Membership.programme_id) == Programme.id)
            .where(Membership.person_id == person_id, Membership.role == Role.COORDINATOR)
            .order_by(col(Programme.id))
        ).all()
    )


def latest_coordinated(session: Session, person_id: int) -> Programme | None:
    """Of the programmes the person coordinates, the one that started last: the one a
    coordinator's command is about."""
    return max(coordinated_programmes(session, person_id), key=lambda p: p.start, default=None)


def coordinators_of(session: Session, programme_id: int) -> list[int]:
    return list(
        session.exec(
            select(Membership.person_id).where(
                Membership.programme_id == programme_id, Membership.role == Role.COORDINATOR
            )
        ).all()
    )


def name(session: Session, person_id: int) -> str:
    person = session.get(Person, person_id)
    return shown_name(person.display_name if person else None, person_id)


def shown_name(display_name: str | None, person_id: int) -> str:
    """How a member is named in meeting messages: their name, else their number."""
    return display_name or f"#{person_id}"


def is_paused(person: Person | None, now: datetime) -> bool:
    return paused_at(person.paused_until if person else None, now)


def paused_at(paused_until: datetime | None, now: datetime) -> bool:
    """Whether a pause that lasts until `paused_until` still holds at `now`."""
    return bool(paused_until and paused_until > now)
