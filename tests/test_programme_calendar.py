"""The programme calendar holds everywhere: quiet periods and pauses hold back escalations and
reminders (and quiet days do not count towards "stalled"), meeting 1's reflection questions look
ahead, `pairs` never calls a past proposal the next meeting, and the mentors' quarterly
self-evaluation goes out on its own."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from bot.config.model import QuietPeriod
from bot.domain import Poll
from tests.meeting_support import answer, open_meeting, pair_posts, planned_pair
from tests.test_meetings_stalled import days, escalations

AUTUMN = QuietPeriod(date(2026, 10, 7), date(2026, 10, 20), "herfstvakantie")


async def test_a_quiet_period_holds_back_escalations_and_its_days_do_not_count(make_app, clock):
    app, chat = make_app(
        stalled_first_meeting_days=5,
        stalled_silence_days=0,
        stalled_step_days=2,
        quiet_periods=(AUTUMN,),
    )
    await chat.send("cora", "hello")
    await planned_pair(app, clock.now())  # Monday 5 October; nobody answers
    await days(app, clock, 18)  # 2 days before the holiday, 3 after it: not yet 5
    assert escalations(app) == []
    assert not any("friendly nudge" in p for p in pair_posts(chat))
    await days(app, clock, 1)
    assert escalations(app) == [(1, "no_first_meeting")]
    assert pair_posts(chat)[-1].startswith(
        "A friendly nudge from Maatje: no meeting has taken place yet, 19 days after matching."
    )


async def test_a_paused_person_gets_no_reminder_until_the_pause_ends(chat, clock):
    await chat.send("anna", "hello")
    assert "May I store" in chat.last("anna")
    await chat.command("anna", "pause", "until", "09-10-2026")
    chat.new("anna")
    clock.advance(timedelta(days=3))  # the intake reminder was due after 48 hours
    await chat.core.dispatcher.run_due()
    assert chat.new("anna") == []
    clock.set(datetime(2026, 10, 9, 6, 0, tzinfo=UTC))  # the pause is over
    await chat.core.dispatcher.run_due()
    (reminder, question) = chat.new("anna")
    assert reminder == "A gentle reminder: I'm still waiting for your answer."
    assert "May I store" in question


async def test_reminders_wait_for_the_end_of_a_quiet_period(make_app, clock):
    app, chat = make_app(quiet_periods=(AUTUMN,))
    clock.set(datetime(2026, 10, 6, 9, 0, tzinfo=UTC))
    await chat.send("anna", "hello")
    chat.new("anna")
    clock.set(datetime(2026, 10, 20, 21, 59, tzinfo=UTC))  # still the last quiet day
    await app.core.dispatcher.run_due()
    assert chat.new("anna") == []
    clock.set(datetime(2026, 10, 21, 6, 0, tzinfo=UTC))  # 08:00 the day after, Amsterdam
    await app.core.dispatcher.run_due()
    assert chat.new("anna")[0] == "A gentle reminder: I'm still waiting for your answer."


async def test_the_first_meetings_reflection_questions_look_ahead(app, chat, clock):
    await chat.send("cora", "hello")
    pair_id = await planned_pair(app, clock.now())
    await answer(chat, "anna", "yes")
    await answer(chat, "maarten", "yes")
    meeting = open_meeting(app, pair_id)
    chat.new("anna")
    clock.set(meeting.starts_at - timedelta(hours=24))
    await app.core.dispatcher.run_due()
    (questions,) = [t for t in chat.new("anna") if "To prepare for" in t]
    assert questions.startswith("To prepare for your first meeting with Maarten")
    assert "What do you hope to get out of this mentorship?" in questions
    assert "since" not in questions


async def test_pairs_never_shows_a_past_proposal_as_the_next_meeting(app, chat, clock):
    await chat.send("cora", "hello")
    pair_id = await planned_pair(app, clock.now())
    meeting = open_meeting(app, pair_id)
    await chat.command("cora", "pairs")
    listing = chat.last("cora")
    assert "next meeting: Tuesday, October 13, 2026" in listing
    assert "(proposed, not yet confirmed)" in listing
    clock.set(meeting.starts_at + timedelta(hours=1))
    await app.core.dispatcher.run_due()
    await chat.command("cora", "pairs")
    assert chat.last("cora").endswith("Maarten and Anna: meeting proposed; next meeting: none")


async def test_the_quarterly_self_evaluation_goes_to_mentors_on_its_schedule(make_app, clock):
    app, chat = make_app(quiet_periods=(QuietPeriod(date(2026, 12, 1), date(2026, 12, 2)),))
    await chat.send("cora", "hello")
    await planned_pair(app, clock.now())  # the programme started on 1 September
    clock.set(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))  # three months on, but a quiet day
    await app.core.dispatcher.run_due()
    chat.new("maarten"), chat.new("anna")
    with app.store.session() as session:
        assert session.exec(select(Poll)).all() == []
    clock.set(datetime(2026, 12, 3, 7, 0, tzinfo=UTC))  # 08:00 after the quiet days
    await app.core.dispatcher.run_due()
    assert any("“Quarterly reflection for mentors”" in t for t in chat.new("maarten"))
    assert not any("Quarterly" in t for t in chat.new("anna"))
    with app.store.session() as session:
        (poll,) = session.exec(select(Poll)).all()
    assert (poll.questionnaire, poll.audience, poll.created_by) == (
        "mentor-quarterly",
        "mentor",
        None,
    )
    assert poll.closes_at == datetime(2026, 12, 17, 23, 0, tzinfo=UTC)
    clock.set(datetime(2027, 3, 1, 8, 0, tzinfo=UTC))  # the next quarter
    await app.core.dispatcher.run_due()
    with app.store.session() as session:
        assert len(session.exec(select(Poll)).all()) == 2
