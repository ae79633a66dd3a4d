"""Who reads a message, and so in which languages and time zones it is rendered: the one place
that decides it.

- A message to a person (their direct chat, or addressed to them in a shared space): their
  language and zone.
- A post for everyone in a pair or group space: the language its members share; when they
  share none, each of their languages (the programme's first). Times in every zone the members
  live in (the mentor's first), so "19:00 (Amsterdam) / 13:00 (New York)".
- A farewell to someone whose data was just erased: the language it was written for.

A message addressed to one member of a shared space mentions them (`addressed`), so the space
sees whose turn it is; the people a message mentions are looked up for the space's platform.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, select

from bot.domain import Identity, Person, Programme
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.i18n import DEFAULT_LANGUAGE, Mention, Text, _l, mentioned, text_from_json
from bot.prepared import Prepared
from bot.services import accounts, people
from bot.spaces import members_of


@dataclass(frozen=True)
class Audience:
    """The reader's account (None for a post to a whole space), the languages and zones to
    render in, and the platform account and name of everyone the text mentions."""

    ref: PersonRef | None
    languages: tuple[str, ...]
    timezones: tuple[str, ...]
    mentions: dict[int, tuple[PersonRef | None, str]]
    addressed: bool = False
    """Meant for one member of a shared space: the text is prefixed with a mention of them."""


def addressed(person_id: int, text: Any) -> Text:
    """`text` for one member of a shared space, opening with a mention of them."""
    return _l("{person}: {message}", person=Mention(person_id), message=text)


@dataclass(frozen=True)
class Reader:
    """What rendering needs of a person, read without the ORM (`Accounts.hold`)."""

    id: int
    display_name: str | None
    language: str | None
    timezone: str | None


@dataclass(frozen=True)
class Account:
    """What choosing and naming a person's platform account needs of an `Identity`."""

    id: int
    platform: str
    workspace: str
    user_id: str
    last_seen_at: datetime | None


class Accounts:
    """People's platform accounts, each looked up when asked for; or for many people at once
    (`preloaded`), so that the audiences of a batch of messages cost one query, or a few.
    It also remembers, for the batch it serves, each shared space's members and each
    person's language and zone, so that messages to the same space or person read them
    once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._known: dict[int, list[Account]] | None = None
        self._people: dict[int, Person | Reader | None] = {}
        self._spaces: dict[SpaceRef, tuple[list[int], Programme | None] | None] = {}
        self._readers: dict[int, tuple[str, str]] = {}

    @classmethod
    def preloaded(
        cls, session: Session, person_ids: Iterable[int], account_ids: Iterable[int]
    ) -> Accounts:
        """The people with `person_ids` and the accounts of those with `account_ids`, in one
        query at most (`hold`)."""
        accounts = cls(session)
        accounts._known = {}
        accounts.hold(person_ids, account_ids)
        return accounts

    def hold(self, person_ids: Iterable[int], account_ids: Iterable[int] = ()) -> None:
        """Hold the people with `person_ids` and, when preloaded, the accounts of those with
        `account_ids`: one Core query on the session's connection for what is not held yet
        (the ORM's loading cost more than the query), none when there is nothing to read. A
        person the session holds already is taken from it: it may carry changes of the
        transaction not flushed yet (a language just chosen; a turn's reader always is), and
        what the transaction changed of people and accounts is flushed before reading."""
        session, held = self.session, self.session.identity_map
        wanted = set(account_ids) - self._known.keys() if self._known is not None else set()
        for person_id in set(person_ids) - self._people.keys():
            found = held.get((Person, (person_id,), None))
            if found is None:
                wanted.add(person_id)
            else:
                self._people[person_id] = found
        if self._known is not None:
            for person_id in [p for p in wanted if isinstance(self._people.get(p), Person)]:
                only = accounts.only_account(session, person_id)  # the turn's writer, mostly
                if only is not None:
                    self._known[person_id] = [_account(only)]
                    wanted.discard(person_id)
        if not wanted:
            return
        changed = (*session.new, *session.dirty, *session.deleted)
        if any(isinstance(row, Identity | Person) for row in changed):
            session.flush()
        for person_id in wanted:
            self._people.setdefault(person_id, None)  # None: erased
            if self._known is not None:
                self._known[person_id] = []
        rows = _PEOPLE_AND_ACCOUNTS.execute(session.connection(), {"ids": sorted(wanted)}).rows
        for person_id, name, language, timezone, account_id, *account in rows:
            if self._people[person_id] is None:
                self._people[person_id] = Reader(person_id, name, language, timezone)
            if account_id is not None and self._known is not None:
                # (platform, workspace, user_id, last_seen_at): `Account`'s order
                self._known[person_id].append(Account(account_id, *account))

    def person(self, person_id: int) -> Person | Reader | None:
        """The person as held (`hold`), or as the session finds them."""
        if person_id in self._people:
            return self._people[person_id]
        return self.session.get(Person, person_id)

    def members(self, space: SpaceRef) -> tuple[list[int], Programme | None] | None:
        """`bot.spaces.members_of`, read once per space."""
        if space not in self._spaces:
            self._spaces[space] = members_of(self.session, space)
        return self._spaces[space]

    def reader(self, person: Person | Reader) -> tuple[str, str]:
        """`people.reader`, looked up once per person."""
        key = person.id or 0
        if key not in self._readers:
            self._readers[key] = people.reader(self.session, person)
        return self._readers[key]

    def reachable(self, person_id: int) -> PersonRef | None:
        """The account the person used most recently (`people.reachable_ref`)."""
        found = self._identities(person_id)
        if found is None:
            return people.reachable_ref(self.session, person_id)
        return _ref(max(found, key=_recency, default=None))

    def on(self, person_id: int, platform: str) -> PersonRef | None:
        """The person's account on `platform` (`people.ref_on`)."""
        found = self._identities(person_id)
        if found is None:
            return people.ref_on(self.session, person_id, platform)
        there = (identity for identity in found if identity.platform == platform)
        return _ref(max(there, key=_recency, default=None))

    def _identities(self, person_id: int) -> list[Account] | None:
        return None if self._known is None else self._known.get(person_id)


_NEVER = datetime.min.replace(tzinfo=UTC)
_PERSON, _IDENTITY = Person.__table__, Identity.__table__
_PEOPLE_AND_ACCOUNTS = Prepared(  # `Reader`'s columns, then `Account`'s (`bot.prepared`)
    select(
        _PERSON.c.id,
        _PERSON.c.display_name,
        _PERSON.c.language,
        _PERSON.c.timezone,
        _IDENTITY.c.id.label("account_id"),
        _IDENTITY.c.platform,
        _IDENTITY.c.workspace,
        _IDENTITY.c.user_id,
        _IDENTITY.c.last_seen_at,
    )
    .select_from(_PERSON.outerjoin(_IDENTITY, _IDENTITY.c.person_id == _PERSON.c.id))
    .where(_PERSON.c.id.in_(bindparam("ids", expanding=True)))
)


def _account(identity: Identity) -> Account:
    assert identity.id is not None
    platform, workspace, user_id = identity.platform, identity.workspace, identity.user_id
    return Account(identity.id, platform, workspace, user_id, identity.last_seen_at)


def _recency(identity: Account) -> tuple[bool, datetime, int]:
    """Ordered as `people.reachable_ref` orders: the most recently seen account, one never
    seen last; the newest account among equals."""
    seen = identity.last_seen_at
    return (seen is not None, seen or _NEVER, identity.id or 0)


def _ref(identity: Account | None) -> PersonRef | None:
    if identity is None:
        return None
    return PersonRef(identity.platform, identity.workspace, identity.user_id)


def audiences_of(session: Session, payloads: Sequence[dict[str, Any]]) -> list[Audience | None]:
    """`audience_of` for many `send` payloads, their readers and the people they mention
    looked up together: the readers, and the accounts of those mentioned and of readers
    whose message names no account or goes to a shared space (one query), then the members
    of the shared spaces posted to."""
    readers, ids = set(), set()
    named = [mentioned(text_from_json(payload["reply"]["text"])) for payload in payloads]
    for payload, mentions in zip(payloads, named, strict=True):
        readers.add(payload["person"])
        ids.update(mentions)
        space = payload.get("space")
        if not payload.get("ref") or (space and space["kind"] != SpaceKind.DIRECT.value):
            ids.add(payload["person"])
    accounts = Accounts.preloaded(session, readers | ids, ids)
    shared = {
        space
        for payload in payloads
        if not payload.get("ref")
        and (space := space_from_json(payload.get("space"))) is not None
        and space.kind is not SpaceKind.DIRECT
    }
    members = [found[0] for space in shared if (found := accounts.members(space)) is not None]
    accounts.hold(member_id for member_ids in members for member_id in member_ids)
    return [
        audience_of(session, payload, accounts, mentions)
        for payload, mentions in zip(payloads, named, strict=True)
    ]


def audience_of(
    session: Session,
    payload: dict[str, Any],
    accounts: Accounts | None = None,
    mentions: set[int] | None = None,
) -> Audience | None:
    """The audience of a `send` action's payload; None when its reader was erased.
    `mentions`: the people its text mentions, when the caller has them already."""
    accounts = accounts or Accounts(session)
    ref = PersonRef(**payload["ref"]) if payload.get("ref") else None
    space = space_from_json(payload.get("space"))
    override = payload.get("language")
    person = accounts.person(payload["person"])
    if person is None:
        if ref is None or not override:
            return None
        return Audience(ref, (override,), ("UTC",), {})
    shared = space is not None and space.kind is not SpaceKind.DIRECT
    if space is None:
        ref = ref or accounts.reachable(payload["person"])
    is_addressed = shared and ref is not None and not payload["reply"].get("ephemeral")
    members = accounts.members(space) if shared and ref is None and space else None
    if members is None:
        language, timezone = accounts.reader(person)
        languages, timezones = (override or language,), (timezone,)
    else:
        languages, timezones = _shared(session, accounts, *members)
    if mentions is None:
        mentions = mentioned(text_from_json(payload["reply"]["text"]))
    ids = set(mentions)
    if is_addressed:
        ids.add(payload["person"])
    platform = space.platform if space else ref.platform if ref else None
    return Audience(
        ref,
        languages,
        timezones,
        _mentions(session, accounts, ids, platform),
        addressed=is_addressed,
    )


def _shared(
    session: Session, accounts: Accounts, member_ids: list[int], programme: Any
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The languages and zones of a space's members (in their order, the mentor first)."""
    readers = [
        accounts.reader(member)
        for member_id in member_ids
        if (member := accounts.person(member_id)) is not None
    ]
    languages = list(dict.fromkeys(language for language, _ in readers))
    if programme is not None and programme.language in languages:
        languages.remove(programme.language)
        languages.insert(0, programme.language)
    timezones = tuple(dict.fromkeys(zone for _, zone in readers))
    fallback = programme.timezone if programme is not None else "UTC"
    return tuple(languages) or (DEFAULT_LANGUAGE,), timezones or (fallback,)


def _mentions(
    session: Session, accounts: Accounts, ids: set[int], platform: str | None
) -> dict[int, tuple[PersonRef | None, str]]:
    found: dict[int, tuple[PersonRef | None, str]] = {}
    for person_id in sorted(ids):
        person = accounts.person(person_id)
        name = (person.display_name if person else None) or "?"
        account = accounts.on(person_id, platform) if platform and person else None
        found[person_id] = (account, name)
    return found


def space_from_json(data: Mapping[str, str] | None) -> SpaceRef | None:
    if data is None:
        return None
    return SpaceRef(
        data["platform"], data["workspace"], data["channel_id"], SpaceKind(data["kind"])
    )
