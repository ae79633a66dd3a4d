"""Who is talking (`people.resolve`): one person per account, found again on every event; the
account used last is the one Maatje writes to, to the minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.services import people
from bot.store import Store

START = datetime(2026, 9, 1, 9, tzinfo=UTC)


def test_an_account_is_found_again_and_the_last_used_one_is_reached(database_url: str) -> None:
    store = Store(database_url)
    store.upgrade()
    slack = PersonRef("slack", "T1", "U1")
    dm = SpaceRef("slack", "T1", "D1", SpaceKind.DIRECT)
    with store.session() as session:
        person, identity = people.resolve(session, slack, START, dm)
        person_id = person.id
        assert identity.id is not None and identity.direct_channel == "D1"
    with store.session() as session:
        again, identity = people.resolve(session, slack, START + timedelta(seconds=20))
        assert again.id == person_id
        assert identity.last_seen_at == START  # less than a minute later: not written again
        discord = PersonRef("discord", "G1", "900")
        _, other = people.resolve(session, discord, START + timedelta(seconds=30))
        other.person_id = person_id  # the same person on a second platform
    with store.session() as session:
        assert people.reachable_ref(session, person_id) == discord
        _, identity = people.resolve(session, slack, START + timedelta(minutes=2))
        assert identity.last_seen_at == START + timedelta(minutes=2)
    with store.session() as session:
        assert people.reachable_ref(session, person_id) == slack
    store.dispose()
