"""People: who is talking, in which language and zone, and in which role.

Before someone consents, Maatje keeps only what it needs to hold the conversation: their
platform account id, the position in the conversation and, when the platform tells us, their
language. Names, time zones and answers are stored only after a yes (`bot.profiles`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, bindparam, event, exists, inspect
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session, col, select

from bot.domain import (
    Consent,
    Identity,
    Membership,
    Person,
    Programme,
    Role,
)
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.i18n import DEFAULT_LANGUAGE
from bot.services import programmes, standing
from bot.services.standing import Standing
from bot.store import loaded, read

SEEN_PRECISION = timedelta(minutes=1)
"""`Identity.last_seen_at` only orders a person's accounts (the one used last): it is written
when it is older than this, not on every event (a write less for nearly every event)."""

# The lookups of nearly every event and message, built once: SQLAlchemy builds a statement's
# cache key again for every new statement object, at several times SQLite's own cost.
_IDENTITY_COLUMNS = tuple(Identity.__table__.c)
_PERSON_COLUMNS = tuple(Person.__table__.c)
_OTHER_ACCOUNT = Identity.__table__.alias("other")
_MAIN = Programme.__table__.alias("main_programme")  # the one joined last (`main_programme`)
_STANDING = (  # `bot.services.standing`
    select(Consent.given)
    .where(Consent.person_id == Identity.person_id)
    .order_by(col(Consent.id).desc())
    .limit(1)
    .scalar_subquery(),
    exists().where(Membership.person_id == Identity.person_id, Membership.role == Role.COORDINATOR),
    _MAIN.c.language,
    _MAIN.c.timezone,
)
_IDENTITY_AND_PERSON = (
    select(
        *_IDENTITY_COLUMNS,
        *_PERSON_COLUMNS,
        ~exists().where(  # the person's only account (`only_account`)
            _OTHER_ACCOUNT.c.person_id == Identity.person_id, _OTHER_ACCOUNT.c.id != Identity.id
        ),
        *_STANDING,
    )
    .join_from(Identity, Person, col(Person.id) == Identity.person_id)
    .outerjoin(
        _MAIN,
        _MAIN.c.id
        == select(Membership.programme_id)
        .where(Membership.person_id == Identity.person_id)
        .order_by(col(Membership.id).desc())
        .limit(1)
        .scalar_subquery(),
    )
    .where(
        Identity.platform == bindparam("platform"),
        Identity.workspace == bindparam("workspace"),
        Identity.user_id == bindparam("user_id"),
    )
)
_LATEST_CONSENT = (
    select(Consent).where(Consent.person_id == bindparam("person")).order_by(col(Consent.id).desc())
)
_ACCOUNT = (Identity.platform, Identity.workspace, Identity.user_id)
_LATEST_IDENTITY = (
    select(*_ACCOUNT)
    .where(Identity.person_id == bindparam("person"))
    .order_by(col(Identity.last_seen_at).desc().nulls_last(), col(Identity.id).desc())
)
_IDENTITY_ON = (
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
_MAIN_SETTINGS = _MAIN_PROGRAMME.with_only_columns(Programme.language, Programme.timezone)
_COORDINATOR = select(Membership.id).where(
    Membership.person_id == bindparam("person"), Membership.role == Role.COORDINATOR
)
_MAY_STORE = select(  # `has_consented` or `is_coordinator`, in one statement
    _LATEST_CONSENT.with_only_columns(Consent.given).limit(1).scalar_subquery(),
    exists().where(
        Membership.person_id == bindparam("person"), Membership.role == Role.COORDINATOR
    ),
)


_ONLY_ACCOUNTS = "maatje.people.only_accounts"


@dataclass(frozen=True)
class Along:
    """What a unit of work reads next anyway, read in `resolve`'s statement: `statement` is
    one made by `reading_along` (built once), `params` its own parameters (not named
    `platform`, `workspace` or `user_id`), and `take` is given the session, the person and
    the row's added columns, when the account is found (a newcomer's is not: nothing is
    read along then)."""

    statement: Select
    params: Mapping[str, Any]
    take: Callable[[Session, Person, Sequence[Any]], None]


def reading_along(
    columns: Sequence[ColumnElement[Any]], join: Callable[[Select], Select]
) -> Select:
    """`resolve`'s statement with `columns` added, of the tables `join` adds to it: outer
    joins, so that the account is found whether they match or not."""
    return join(_IDENTITY_AND_PERSON.add_columns(*columns))


def resolve(
    session: Session,
    ref: PersonRef,
    now: datetime,
    space: SpaceRef | None = None,
    along: Along | None = None,
) -> tuple[Person, Identity]:
    """The person behind a platform account and that account, created on first contact.
    When it is the person's only account, the session remembers it (`only_account`).
    `along`: more read in the same statement (`Along`)."""
    account = {"platform": ref.platform, "workspace": ref.workspace, "user_id": ref.user_id}
    if along is None:
        row = read(session, _IDENTITY_AND_PERSON, account).first()
    else:
        row = read(session, along.statement, {**along.params, **account}).first()
    if row is None:
        person = Person(created_at=now)
        session.add(person)
        session.flush()
        assert person.id is not None
        identity = Identity(
            person_id=person.id, platform=ref.platform, workspace=ref.workspace, user_id=ref.user_id
        )
        only = True
        standing.note(session, person.id, Standing(False, False, None))  # nothing yet
    else:  # one Core statement, its values made into the session's objects (`loaded`)
        split, end = len(_IDENTITY_COLUMNS), len(_IDENTITY_COLUMNS) + len(_PERSON_COLUMNS)
        identity = loaded(session, Identity, _values(_IDENTITY_COLUMNS, row[:split]))
        person = loaded(session, Person, _values(_PERSON_COLUMNS, row[split:end]))
        only = bool(row[end])
        given, coordinator, language, timezone = row[end + 1 : end + 1 + len(_STANDING)]
        settings = None if language is None else (language, timezone)
        standing.note(session, person.id, Standing(bool(given), bool(coordinator), settings))
        if along is not None:
            along.take(session, person, row[end + 1 + len(_STANDING) :])
    if identity.last_seen_at is None or now - identity.last_seen_at >= SEEN_PRECISION:
        identity.last_seen_at = now
    if (
        space is not None
        and space.kind is SpaceKind.DIRECT
        and identity.direct_channel != space.channel_id
    ):  # set only when it changes: an unchanged object is not flushed before every query
        identity.direct_channel = space.channel_id
    if identity.id is None:
        session.add(identity)
        session.flush()
    if only:
        session.info.setdefault(_ONLY_ACCOUNTS, {})[person.id] = identity
    return person, identity


def only_account(session: Session, person_id: int) -> Identity | None:
    """The person's one platform account, without a statement: when `resolve` found, in this
    session, that they have no other, and the session has added, deleted or moved no account
    since (`_accounts_kept`). The object carries that account's own changes (the last time
    it was seen, its direct chat), so it is what a read of the person's accounts would find.
    None when not known so."""
    remembered = session.info.get(_ONLY_ACCOUNTS)
    identity = remembered.get(person_id) if remembered else None
    if identity is None or not _accounts_kept(session, remembered):
        return None
    return identity if inspect(identity).persistent else None


def _accounts_kept(session: Session, remembered: dict[int, Identity]) -> bool:
    """Whether the session's changes leave the accounts `resolve` remembered as they were;
    else it forgets them. Any account added or deleted counts, or one changed but the
    remembered ones, or those moved to another person."""
    owners = {id(identity): person_id for person_id, identity in remembered.items()}
    if not (
        any(isinstance(row, Identity) for row in (*session.new, *session.deleted))
        or any(
            isinstance(row, Identity) and owners.get(id(row)) != row.person_id
            for row in session.dirty
        )
    ):
        return True
    session.info.pop(_ONLY_ACCOUNTS, None)
    return False


@event.listens_for(Session, "before_flush")
def _flushing(session: Session, _context: Any, _instances: Any) -> None:
    """Changes about to be flushed are checked while they can be seen (`_accounts_kept`)."""
    remembered = session.info.get(_ONLY_ACCOUNTS)
    if remembered:
        _accounts_kept(session, remembered)


@event.listens_for(Session, "do_orm_execute")
def _writing(state: ORMExecuteState) -> None:
    """A bulk insert, update or delete of accounts (erasure's) forgets them all."""
    if (
        _ONLY_ACCOUNTS in state.session.info
        and (state.is_insert or state.is_update or state.is_delete)
        and state.bind_mapper is not None
        and state.bind_mapper.class_ is Identity
    ):
        state.session.info.pop(_ONLY_ACCOUNTS)


def _values(columns: tuple[Any, ...], row: Any) -> dict[str, Any]:
    return {column.key: value for column, value in zip(columns, row, strict=True)}


def has_consented(session: Session, person_id: int) -> bool:
    latest = session.exec(_LATEST_CONSENT, params={"person": person_id}).first()
    return bool(latest and latest.given)


def reachable_ref(session: Session, person_id: int) -> PersonRef | None:
    """The account the person used most recently."""
    only = only_account(session, person_id)
    if only is not None:
        return PersonRef(only.platform, only.workspace, only.user_id)
    row = read(session, _LATEST_IDENTITY, {"person": person_id}).first()
    return PersonRef(*row) if row is not None else None


def ref_on(session: Session, person_id: int, platform: str) -> PersonRef | None:
    """The person's account on `platform`, if they have one."""
    only = only_account(session, person_id)
    if only is not None:
        return (
            PersonRef(only.platform, only.workspace, only.user_id)
            if only.platform == platform
            else None
        )
    row = read(session, _IDENTITY_ON, {"person": person_id, "platform": platform}).first()
    return PersonRef(*row) if row is not None else None


def memberships(session: Session, person_id: int) -> list[tuple[Membership, Programme]]:
    rows = session.exec(_MEMBERSHIPS, params={"person": person_id}).all()
    return [(m, p) for m, p in rows]


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
    row = read(session, _MAIN_SETTINGS, {"person": person.id}).first()
    return None if row is None else (row.language, row.timezone)


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
    given, coordinator = read(session, _MAY_STORE, {"person": person_id}).one()
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
