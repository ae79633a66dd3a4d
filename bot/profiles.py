"""People as their platform knows them: name, time zone and language, looked up off the hot path
and refreshed daily.

On every event the core notes what the event itself carries (`note_event`: Discord's names, a
Teams time zone) and plans a lookup when the account's profile is unknown or a day old
(`plan`): a `profile.refresh` outbox action, due at once but written after the event's replies,
so the answer to a first message never waits for the platform. The dispatcher carries it out
(`ProfileRefresh`): the adapter asks its platform and the answer is stored in the transaction
that marks the action done. An adapter paces lookups to its platform's rate tier without
waiting (Slack: `adapters/slack/profiles.py`): it names the moment to come back, and the action
puts itself off until then, so a burst of newcomers never holds up the replies the outbox
sends between lookups. A platform that fails is retried with the outbox's backoff; a lookup
that gives up is planned again the next day, so no one stays nameless for good, and a
conversation never waits for it.

What is stored follows consent, as everything else: before a person agreed to the intake, only
the language (so the rest of the intake speaks it); the name and the zone once they said yes
(coordinators, who have no intake, at once). Consent is read when the answer is stored, so a
lookup still waiting when someone says yes stores their name: it is not planned again. What a
person tells Maatje about themselves (`Source.SELF`: the `name` and `timezone` commands, the
intake's zone question) is never overwritten by the platform.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event, inspect
from sqlmodel import Session

from bot import outbox, zones
from bot.adapter import Adapter, DeliveryError, Profile
from bot.domain import Identity, OutboxItem, Person, Source
from bot.engine import Outbound
from bot.events import Event, PersonRef
from bot.i18n import normalise_language
from bot.sanitise import NAME_LENGTH, clean_name
from bot.services import accounts, people
from bot.store import FastSession, Store

REFRESH = "profile.refresh"
STALE_AFTER = timedelta(days=1)
MAX_DEFERRALS = 20
"""Times a lookup may be put off to when the platform asks (beyond: the outbox's retries)."""


def note_event(session: Session, person: Person, event: Event) -> None:
    """Store what the event says about its sender, where allowed: the language when none is
    known yet (before consent too), a name when none is known yet (the daily lookup keeps it
    current), the zone the platform reports."""
    assert person.id is not None
    language = normalise_language(event.locale)
    if language and person.language is None:
        person.language = language
        session.add(person)
    name = (event.display_name or "").strip()[:NAME_LENGTH]
    zone = zones.valid(event.timezone)
    wants_name = bool(name) and person.display_name is None
    wants_zone = zone is not None and zone != person.timezone
    if not (wants_name or wants_zone) or not people.may_store_profile(session, person.id):
        return
    if wants_name:
        set_name(person, name, Source.PLATFORM)
    if wants_zone and zone is not None:
        set_timezone(person, zone, Source.PLATFORM)
    session.add(person)


_PLANNED: WeakKeyDictionary[Engine, dict[int, str]] = WeakKeyDictionary()
"""Per database: the key of the lookup last planned (and committed) per identity. Until a
lookup succeeds (Slack's Tier 4 takes minutes for a crowd of newcomers) every event would plan
it again, only to find the key taken."""
_PLANNING = "maatje.profiles.planning"


def plan(
    session: Session,
    person: Person,
    identity: Identity,
    now: datetime,
    turn: Callable[[PersonRef], float],
) -> None:
    """Schedule a lookup of `identity`'s profile unless a recent one was stored, due at the
    turn its platform keeps for it (`turn`: seconds from now, `Adapter.lookup_turn`). The key
    holds the day and whether storing is allowed, so saying yes to consent looks up again at
    once — unless the lookup planned before is still to come (`_still_to_come`): that one
    stores what consent allows by the time it is done."""
    if identity.profile_at is not None and now - identity.profile_at < STALE_AFTER:
        return
    if inspect(identity).was_deleted:  # erased in this very event
        return
    assert person.id is not None and identity.id is not None
    allowed = int(people.may_store_profile(session, person.id))
    key = f"profile:{identity.id}:{allowed}:{now.date().isoformat()}"
    planned = _PLANNED.get(session.get_bind().engine, {}).get(identity.id)
    if planned == key:
        return  # planned already by an earlier event
    if planned is None or not _still_to_come(session, planned):
        ref = PersonRef(identity.platform, identity.workspace, identity.user_id)
        due = now + timedelta(seconds=turn(ref))
        outbox.enqueue(session, REFRESH, {"identity": identity.id}, key, due, now)
    session.info.setdefault(_PLANNING, {})[identity.id] = key


def _still_to_come(session: Session, planned: str) -> bool:
    """Whether the lookup planned before under key `planned`, or one it was put off to
    (`ProfileRefresh._later`), is not done yet: it reads the consent when it stores the answer
    (`ProfileRefresh`), after this transaction. At a kick-off Slack's pacing puts newcomers'
    lookups off for minutes: a second lookup for everyone who says yes meanwhile would double
    the wait for every name. Asked only where this process planned one before: after a restart
    a lookup may be planned twice, never not at all."""
    keys = [planned]
    for tries in range(1, MAX_DEFERRALS + 1):
        keys.append(_put_off(keys[-1], tries))
    return outbox.unfinished(session, keys)


def _put_off(key: str, tries: int) -> str:
    """The key of a lookup put off for the `tries`-th time, from the key of the one before."""
    return f"{key}:{tries}"


@event.listens_for(FastSession, "after_commit")
def _planned(session: Session) -> None:
    """Remember the lookups a transaction planned once they are committed."""
    planning = session.info.pop(_PLANNING, None)
    if planning:
        _PLANNED.setdefault(session.get_bind().engine, {}).update(planning)


@event.listens_for(FastSession, "after_rollback")
def _not_planned(session: Session) -> None:
    session.info.pop(_PLANNING, None)


def set_name(person: Person, name: str, source: Source) -> None:
    """Give `person` a name from `source`, cleaned of invisible characters (`clean_name`); the
    platform never replaces what they told us."""
    cleaned = clean_name(name)
    if cleaned is None or (source is Source.PLATFORM and person.name_source == Source.SELF):
        return
    person.display_name = cleaned
    person.name_source = source


def set_timezone(person: Person, zone: str, source: Source) -> None:
    """Give `person` a time zone from `source`; the platform never replaces what they told us."""
    if source is Source.PLATFORM and person.timezone_source == Source.SELF:
        return
    person.timezone = zone
    person.timezone_source = source


def apply(session: Session, identity: Identity, profile: Profile, now: datetime) -> None:
    """Store what the platform's profile says, as far as consent allows."""
    person = session.get(Person, identity.person_id)
    if person is None or person.id is None:
        return
    language = normalise_language(profile.locale)
    if language and person.language is None:
        person.language = language
    if people.may_store_profile(session, person.id):
        name = (profile.display_name or "").strip()
        if name:
            set_name(person, name, Source.PLATFORM)
        zone = zones.valid(profile.timezone)
        if zone:
            set_timezone(person, zone, Source.PLATFORM)
        identity.profile_at = now
        session.add(identity)
    session.add(person)


Record = Callable[[Session, datetime], list[Outbound]]


class ProfileRefresh:
    """The `profile.refresh` platform action: ask the adapter, store the answer."""

    def __init__(self, store: Store, adapters: Mapping[str, Adapter]) -> None:
        self.store = store
        self.adapters = adapters

    async def __call__(self, item: OutboxItem) -> Record | None:
        identity_id = int(item.payload["identity"])
        ref = await self.store.run(self._account, identity_id)
        if ref is None:
            return None  # erased meanwhile
        adapter = self.adapters.get(ref.platform)
        if adapter is None:
            raise DeliveryError(f"platform {ref.platform} is not running")
        try:
            profile = await adapter.profile(ref)
        except DeliveryError as exc:
            return self._later(item, exc)

        def record(session: Session, now: datetime) -> list[Outbound]:
            # After a turn of theirs under way (PostgreSQL): a yes it commits is read here.
            self.store.serialise(session, ref.lock_key)
            found = accounts.account(session, identity_id)  # with what `apply` asks
            if found is not None:
                apply(session, found[0], profile, now)
            return []

        return record

    @staticmethod
    def _later(item: OutboxItem, refused: DeliveryError) -> Record:
        """The platform said when to ask again (its pacing, a 429): a new lookup due then, not
        an attempt used up. Anything else goes to the outbox's retries as it is."""
        tries = int(item.payload.get("tries", 0)) + 1
        if refused.permanent or refused.retry_after is None or tries > MAX_DEFERRALS:
            raise refused
        delay = timedelta(seconds=refused.retry_after)

        def record(session: Session, now: datetime) -> list[Outbound]:
            payload = {**item.payload, "tries": tries}
            key = _put_off(item.idempotency_key, tries)
            outbox.enqueue(session, REFRESH, payload, key, now + delay, now)
            return []

        return record

    def _account(self, identity_id: int) -> PersonRef | None:
        with self.store.session() as session:
            identity = session.get(Identity, identity_id)
            if identity is None:
                return None
            return PersonRef(identity.platform, identity.workspace, identity.user_id)
