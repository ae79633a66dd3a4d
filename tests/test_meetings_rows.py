"""The daily stalled check and the overviews read pairs and meetings as plain rows
(`pair_states.stalled_pairs`, `pair_states.active_pair_rows`): what they decide from the rows is
what the objects, read pair by pair, decide."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.domain import Pair, PairStatus, Programme
from bot.services import meetings as store
from bot.services import pair_states
from bot.services import pairs as pair_store
from tests.meeting_support import plant_pairs


def _programme_of_every_kind(app, now) -> None:
    """Pairs in every state, stalled by each rule or not, and one that ended."""
    past, future = now - timedelta(days=2), now + timedelta(days=2)
    asked = {"asked_at": (now - timedelta(days=20)).isoformat()}
    followed = {"followup_at": (now - timedelta(days=20)).isoformat()}
    # mentee → (days since matching, guide complete, meetings as (status, start[, answers]))
    plans = {
        "starting": (1, False, []),
        "no-first": (40, True, []),
        "no-first-ahead": (40, True, [("confirmed", future, {})]),
        "proposed": (1, True, [("rescheduled", past, {}), ("proposed", future, {})]),
        "asked-long-ago": (40, True, [("held", past, {}), ("proposed", future, asked)]),
        "unanswered": (40, True, [("held", past, {}), ("confirmed", past, followed)]),
        "planned": (1, True, [("held", past, {}), ("confirmed", future, {})]),
        "finished": (60, True, [("held", past - timedelta(days=d), {}) for d in range(4)]),
        "unplanned": (1, True, [("cancelled", future, asked)]),
        "missed": (40, True, [("held", past, {}), ("missed", past), ("missed", future)]),
        "ended": (40, True, []),
    }
    with app.store.session() as session:
        pairs = plant_pairs(session, now, plans, spread=timedelta(hours=1))
        pairs["ended"].status = PairStatus.ENDED
        session.commit()


def test_the_stalled_pairs_read_as_rows_are_those_stalled_one_by_one(app, clock) -> None:
    now = clock.now()
    _programme_of_every_kind(app, now)
    with app.store.session() as session:
        programme = session.exec(select(Programme)).one()
        settings = store.MeetingSettings.of(programme)
        pairs = session.exec(select(Pair).order_by(Pair.id)).all()
        one_by_one = [pair.id for pair in pairs if pair_states.is_stalled(session, pair, now)]
        from_rows = pair_states.stalled_pairs(session, programme.id, settings, now)
    assert from_rows == one_by_one
    assert len(one_by_one) == 4  # no first meeting, asked long ago, unanswered, missed


def test_the_states_read_as_rows_are_those_of_the_objects(app, clock) -> None:
    now = clock.now()
    _programme_of_every_kind(app, now)
    with app.store.session() as session:
        programme = session.exec(select(Programme)).one()
        pairs = pair_store.active_pairs(session, programme.id)
        meetings = store.meetings_of_pairs(session, [pair.id for pair in pairs])
        objects = pair_states.states_of(programme, pairs, meetings, now)
        row_pairs, row_meetings = pair_states.active_pair_rows(session, programme.id)
        rows = pair_states.states_of(programme, row_pairs, row_meetings, now)
    assert rows == objects
    assert [row.id for row in row_pairs] == [pair.id for pair in pairs]
    assert {pair_states.PairState.STALLED, pair_states.PairState.STARTING} <= set(rows.values())
