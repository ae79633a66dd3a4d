"""Personal data of a programme that ended long ago is deleted; other programmes keep theirs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from bot import retention
from bot.domain import IntakeAnswer, Membership, Person, Programme, Role
from bot.events import PersonRef
from bot.testing import build_app, programme_config
from tests import participants


async def test_data_is_purged_after_the_retention_period(database_url, clock, console):
    old = programme_config("old", end=date(2025, 6, 30), retention_days=30)
    current = programme_config("current")
    app = build_app(database_url, clock, {"console": console}, programmes=(old, current))
    with app.store.session() as session:
        ids = {p.slug: p.id for p in session.exec(select(Programme))}
    only_old = participants.enrol_in(
        app.store,
        clock.now(),
        PersonRef("console", "t", "ann"),
        "Ann",
        Role.MENTEE,
        {"hopes": "x"},
        ids["old"],
    )
    both = participants.enrol_in(
        app.store,
        clock.now(),
        PersonRef("console", "t", "bo"),
        "Bo",
        Role.MENTEE,
        {"hopes": "y"},
        ids["old"],
    )
    participants.enrol_in(
        app.store,
        clock.now(),
        None,
        "Bo",
        Role.MENTEE,
        {"hopes": "z"},
        ids["current"],
        person_id=both,
    )

    with app.store.session() as session:  # the end date + 30 days has not passed yet
        assert retention.purge(session, datetime(2025, 7, 30, tzinfo=UTC)) == []
    clock.advance(timedelta(days=1))  # the first check is planned for the day after start-up
    await app.core.dispatcher.run_due()
    with app.store.session() as session:
        assert session.get(Person, only_old) is None
        assert session.get(Person, both) is not None
        left = session.exec(select(IntakeAnswer.value).where(IntakeAnswer.person_id == both))
        assert list(left) == ["z"]
        assert session.exec(select(Membership).where(Membership.person_id == both)).one()
        old_row = session.get(Programme, ids["old"])
    assert old_row.settings["purged_at"] == clock.now().date().isoformat()
    clock.advance(timedelta(days=1))
    assert await app.core.dispatcher.run_due() == 1  # tomorrow's check ran and planned the next
    app.store.dispose()
