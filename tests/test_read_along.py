"""What a turn reads with the person's account holds only while the turn leaves it so: an active
run noted is looked up again once a run is inserted, and the person's standing (consent,
coordinator role, programme) is read again once a consent or membership is written."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event

from bot.domain import Consent, Membership, Role
from bot.engine import Engine, lookups
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.i18n import Translator
from bot.services import accounts, people
from bot.store import Store
from tests.programme_support import law_programme
from tests.run_support import intake_run

NOW = datetime(2026, 10, 5, 9, tzinfo=UTC)
ANNA = PersonRef("console", "test", "anna")
SPACE = SpaceRef("console", "test", "dm-anna", SpaceKind.DIRECT)


def _yes(person_id: int, programme_id: int | None) -> Consent:
    """A yes to the intake's consent question."""
    return Consent(
        person_id=person_id,
        programme_id=programme_id,
        purpose="intake",
        text_version=1,
        given=True,
        at=NOW,
    )


def _known_person(store: Store) -> int:
    with store.session() as session:
        person, _ = accounts.resolve(session, ANNA, NOW, SPACE)
        assert person.id is not None
        return person.id


def test_a_run_started_after_the_active_one_was_read_along_is_found(store: Store) -> None:
    person_id = _known_person(store)
    engine = Engine({}, Translator())
    with store.session() as session:
        accounts.resolve(session, ANNA, NOW, SPACE, along=lookups.active_along(SPACE))
        assert engine.active_run(session, person_id, SPACE) is None  # noted: none
        run = intake_run(session, person_id, SPACE, NOW)
        found = engine.active_run(session, person_id, SPACE)
        assert found is run
        run.status = "done"
        assert engine.active_run(session, person_id, SPACE) is None


def test_the_standing_read_along_follows_the_consent_and_membership_written(store) -> None:
    person_id = _known_person(store)
    with store.session() as session:
        programme = law_programme(session)
    with store.session() as session:
        person, _ = accounts.resolve(session, ANNA, NOW, SPACE)
        assert not people.may_store_profile(session, person_id)
        assert people.timezone_of(session, person) == "UTC"
        session.add(_yes(person_id, programme.id))
        assert people.may_store_profile(session, person_id)
        session.add(
            Membership(
                programme_id=programme.id, person_id=person_id, role=Role.MENTEE, joined_at=NOW
            )
        )
        assert people.timezone_of(session, person) == "Europe/Amsterdam"


def test_a_consent_and_membership_written_with_core_statements_leave_the_standing_right(
    store,
) -> None:
    """`people.give_consent` and `people.join` write without the ORM, which the standing's own
    checks cannot see: the standing they leave is what the database then says, and it is
    known without a statement."""
    person_id = _known_person(store)
    with store.session() as session:
        programme = law_programme(session)
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement.split()[0])

    with store.session() as session:
        person, _ = accounts.resolve(session, ANNA, NOW, SPACE)
        assert people.joined_none(session, person_id)
        event.listen(store.engine, "before_cursor_execute", note)
        try:
            people.give_consent(session, _yes(person_id, programme.id))
            assert people.may_store_profile(session, person_id)
            membership = people.join(
                session,
                Membership(
                    programme_id=programme.id,
                    person_id=person_id,
                    role=Role.COORDINATOR,
                    joined_at=NOW,
                ),
                programme,
            )
            assert people.timezone_of(session, person) == "Europe/Amsterdam"
            assert people.language_of(session, person) == "nl"
            assert not people.joined_none(session, person_id)
        finally:
            event.remove(store.engine, "before_cursor_execute", note)
        assert seen == ["INSERT", "INSERT"]  # the two writes; everything else was known
        assert session.get(Membership, membership.id) is membership
        assert people.is_coordinator(session, person_id)  # read: it finds what was written
    with store.session() as session:  # what a new unit of work reads from the database
        person, _ = accounts.resolve(session, ANNA, NOW, SPACE)
        assert people.may_store_profile(session, person_id)
        assert people.timezone_of(session, person) == "Europe/Amsterdam"
        assert people.is_coordinator(session, person_id)
        assert [m.role for m, _ in people.memberships(session, person_id)] == [Role.COORDINATOR]
