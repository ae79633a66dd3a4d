"""People's platform accounts as every event finds them: who is talking (`resolve`), read in
one statement with what the unit of work asks of them next — whether this is their only
account, their standing (`bot.services.standing`), and what a caller reads along (`Along`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, event, exists, inspect
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session, col, select

from bot.domain import Consent, Identity, Membership, Person, Programme, Role
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.prepared import Prepared
from bot.services import standing
from bot.services.standing import Standing
from bot.store import inserted, loaded, read_prepared

SEEN_PRECISION = timedelta(minutes=1)
"""`Identity.last_seen_at` only orders a person's accounts (the one used last): it is written
when it is older than this, not on every event (a write less for nearly every event)."""

# The lookups of nearly every event and message, built once and prepared once
# (`bot.prepared`): SQLAlchemy's execution of even a statement built once (its cache key, its
# parameters, its result) cost two to three times SQLite's own work.
_IDENTITY_COLUMNS = tuple(Identity.__table__.c)
_PERSON_COLUMNS = tuple(Person.__table__.c)
_OTHER_ACCOUNT = Identity.__table__.alias("other")
# For `bot.services.standing`: the person's memberships under names of their own (what they
# ask is not a membership the turn reads), and the programme they joined last.
_COORDINATING = Membership.__table__.alias("coordinating")
_JOINED = Membership.__table__.alias("joined")
_MAIN = Programme.__table__.alias("main_programme")
_STANDING = (
    select(Consent.given)
    .where(Consent.person_id == Identity.person_id)
    .order_by(col(Consent.id).desc())
    .limit(1)
    .scalar_subquery(),
    exists().where(
        _COORDINATING.c.person_id == Identity.person_id,
        _COORDINATING.c.role == Role.COORDINATOR,
    ),
    _MAIN.c.language,
    _MAIN.c.timezone,
)
_ACCOUNT_AND_PERSON = (
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
        == select(_JOINED.c.programme_id)
        .where(_JOINED.c.person_id == Identity.person_id)
        .order_by(_JOINED.c.id.desc())
        .limit(1)
        .scalar_subquery(),
    )
)
_IDENTITY_AND_PERSON = _ACCOUNT_AND_PERSON.where(
    Identity.platform == bindparam("platform"),
    Identity.workspace == bindparam("workspace"),
    Identity.user_id == bindparam("user_id"),
)
_BY_ID = Prepared(_ACCOUNT_AND_PERSON.where(Identity.id == bindparam("identity")))
_RESOLVE = Prepared(_IDENTITY_AND_PERSON)

# A newcomer's person and account before what is known of them (`_newcomer`): every column
# empty; built once, as the constructors' validation cost more than the INSERT.
_NO_PERSON = {c.key: None for c in _PERSON_COLUMNS if not c.primary_key}
_NO_IDENTITY = {c.key: None for c in _IDENTITY_COLUMNS if not c.primary_key}

_ONLY_ACCOUNTS = "maatje.people.only_accounts"


@dataclass(frozen=True)
class Along:
    """What a unit of work reads next anyway, read in `resolve`'s statement: `statement` is
    one made by `reading_along` (built and prepared once), `params` its own parameters (not
    named `platform`, `workspace` or `user_id`), and `take` is given the session, the person
    and the row's added columns, when the account is found (a newcomer's is not: nothing is
    read along then)."""

    statement: Prepared
    params: Mapping[str, Any]
    take: Callable[[Session, Person, Sequence[Any]], None]


def reading_along(
    columns: Sequence[ColumnElement[Any]], join: Callable[[Select], Select]
) -> Prepared:
    """`resolve`'s statement with `columns` added, of the tables `join` adds to it (outer
    joins, so that the account is found whether they match or not), prepared."""
    return Prepared(join(_IDENTITY_AND_PERSON.add_columns(*columns)))


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
        rows = read_prepared(session, _RESOLVE, account)
    else:
        rows = read_prepared(session, along.statement, {**along.params, **account})
    direct = space.channel_id if space is not None and space.kind is SpaceKind.DIRECT else None
    if not rows:
        return _newcomer(session, ref, now, direct)
    identity, person, more = _take(session, rows[0])
    if along is not None:
        along.take(session, person, more)
    if identity.last_seen_at is None or now - identity.last_seen_at >= SEEN_PRECISION:
        identity.last_seen_at = now
    if direct is not None and identity.direct_channel != direct:
        # set only when it changes: an unchanged object is not flushed before every query
        identity.direct_channel = direct
    return person, identity


def _newcomer(
    session: Session, ref: PersonRef, now: datetime, direct: str | None
) -> tuple[Person, Identity]:
    """First contact: a person and their account, written with prepared INSERTs and held by
    the session as loaded (`store.inserted`). The account is their only one, and their
    standing is nothing yet."""
    person = inserted(session, Person, {**_NO_PERSON, "created_at": now})
    assert person.id is not None
    account = {
        "person_id": person.id,
        "platform": ref.platform,
        "workspace": ref.workspace,
        "user_id": ref.user_id,
        "direct_channel": direct,
        "last_seen_at": now,
    }
    identity = inserted(session, Identity, {**_NO_IDENTITY, **account})
    standing.note(session, person.id, Standing(False, False, None))
    session.info.setdefault(_ONLY_ACCOUNTS, {})[person.id] = identity
    return person, identity


def account(session: Session, identity_id: int) -> tuple[Identity, Person] | None:
    """The account `identity_id` and its person, read as `resolve` reads them (what is known
    of them noted as it notes it); None when there is no such account."""
    rows = read_prepared(session, _BY_ID, {"identity": identity_id})
    if not rows:
        return None
    identity, person, _ = _take(session, rows[0])
    return identity, person


def identity_of(session: Session, ref: PersonRef) -> Identity | None:
    """The account `ref`, read plainly (outside an event's `resolve`); None when unknown."""
    return session.exec(
        select(Identity).where(
            Identity.platform == ref.platform,
            Identity.workspace == ref.workspace,
            Identity.user_id == ref.user_id,
        )
    ).first()


def _take(session: Session, row: Sequence[Any]) -> tuple[Identity, Person, Sequence[Any]]:
    """The account and person of an `_ACCOUNT_AND_PERSON` row, made into the session's objects
    (`loaded`: one Core statement cost less than the ORM's loading), with what the row says
    of them noted (`only_account`, `standing`); and the row's further columns."""
    split, end = len(_IDENTITY_COLUMNS), len(_IDENTITY_COLUMNS) + len(_PERSON_COLUMNS)
    identity = loaded(session, Identity, _values(_IDENTITY_COLUMNS, row[:split]))
    person = loaded(session, Person, _values(_PERSON_COLUMNS, row[split:end]))
    assert person.id is not None
    if row[end]:  # no other account
        session.info.setdefault(_ONLY_ACCOUNTS, {})[person.id] = identity
    given, coordinator, language, timezone = row[end + 1 : end + 1 + len(_STANDING)]
    settings = None if language is None else (language, timezone)
    standing.note(session, person.id, Standing(bool(given), bool(coordinator), settings))
    return identity, person, row[end + 1 + len(_STANDING) :]


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
