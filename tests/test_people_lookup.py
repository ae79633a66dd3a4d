"""Who is talking (`people.resolve`): one person per account, found again on every event; the
account used last is the one Maatje writes to, to the minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, inspect

from bot.domain import Identity, Membership, Person, Role
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.services import people
from bot.store import Store
from tests.programme_support import law_programme

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


def test_a_known_person_is_read_in_one_statement_as_the_sessions_own_objects(
    database_url: str,
) -> None:
    """`resolve` reads the account and the person with one Core statement and makes them the
    session's objects: found again by the session without a statement, and what a turn
    changes of them is written, only that, and only once."""
    store = Store(database_url)
    store.upgrade()
    ref = PersonRef("slack", "T1", "U1")
    with store.session() as session:
        person, _ = people.resolve(session, ref, START)
        person.display_name = "Anna"
        person.language = "en"
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(store.engine, "before_cursor_execute", note)
    try:
        with store.session() as session:
            person, identity = people.resolve(session, ref, START + timedelta(seconds=5))
            assert (person.display_name, person.language, identity.user_id) == ("Anna", "en", "U1")
            assert inspect(person).persistent and inspect(identity).persistent
            assert session.get(Person, person.id) is person
            assert session.get(Identity, identity.id) is identity
            assert len(seen) == 1 and seen[0].startswith("SELECT")
            person.language = "nl"
    finally:
        event.remove(store.engine, "before_cursor_execute", note)
    assert len(seen) == 2 and seen[1].startswith("UPDATE person SET language=")
    assert " WHERE " in seen[1] and "," not in seen[1].split(" WHERE ")[0]
    with store.session() as session:
        again, _ = people.resolve(session, ref, START + timedelta(seconds=10))
        assert (again.display_name, again.language) == ("Anna", "nl")
    store.dispose()


def test_a_newcomer_is_written_in_two_statements_and_has_no_memberships_to_read(
    store: Store,
) -> None:
    """First contact writes the person and their account with one INSERT each, both held as
    the session's own objects (a later change is one UPDATE of that column); the newcomer's
    memberships are known to be none without a statement, until the turn adds one."""
    ref = PersonRef("slack", "T1", "U1")
    dm = SpaceRef("slack", "T1", "D1", SpaceKind.DIRECT)
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(" ".join(statement.split()))

    with store.session() as session:
        programme_id = law_programme(session).id
    event.listen(store.engine, "before_cursor_execute", note)
    try:
        with store.session() as session:
            person, identity = people.resolve(session, ref, START, dm)
            assert [s.split(" (")[0] for s in seen[1:]] == [
                "INSERT INTO person",
                "INSERT INTO identity",
            ]  # after the lookup that found no one
            assert inspect(person).persistent and inspect(identity).persistent
            assert session.get(Person, person.id) is person
            assert people.only_account(session, person.id) is identity
            before = len(seen)
            assert people.memberships(session, person.id) == []
            assert len(seen) == before
            person.language = "en"
            session.add(
                Membership(
                    programme_id=programme_id,
                    person_id=person.id,
                    role=Role.MENTEE,
                    joined_at=START,
                )
            )
            assert [m.role for m, _ in people.memberships(session, person.id)] == [Role.MENTEE]
            person_id = person.id
    finally:
        event.remove(store.engine, "before_cursor_execute", note)
    assert any(s.startswith("UPDATE person SET language=") for s in seen)
    with store.session() as session:
        again, identity = people.resolve(session, ref, START + timedelta(minutes=5))
        assert (again.id, again.language, again.created_at) == (person_id, "en", START)
        assert (identity.direct_channel, identity.last_seen_at) == (
            "D1",
            START + timedelta(minutes=5),
        )
        assert [m.role for m, _ in people.memberships(session, person_id)] == [Role.MENTEE]
