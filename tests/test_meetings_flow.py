"""Meetings through the conversation: from the kennismakingsgids to a confirmed meeting with
an invite, reminders, "did you meet?", a missed meeting, a new time and an escalation."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import select

from bot.config.model import QuietPeriod
from bot.domain import Meeting, MeetingStatus, Person, Programme, Role
from bot.testing import Conversation, build_app, console_adapter
from flows.contact import meeting_nudges
from tests.meeting_support import (
    AGREEMENT,
    answer,
    enter_pair,
    invites,
    open_meeting,
    pair_posts,
    planned_pair,
)
from tests.test_matching_flow import MENTOR, enrol, fill_guide, mentee_answers


def vevent(calendar):
    (event,) = calendar.walk("VEVENT")
    return event


async def until(app, clock, moment: datetime) -> None:
    clock.set(moment)
    await app.core.dispatcher.run_due()


async def test_from_the_guide_to_a_missed_meeting_and_an_escalation(app, chat, clock) -> None:
    await chat.send("cora", "hello")
    enrol(app, "maarten", Role.MENTOR, MENTOR)
    enrol(app, "anna", Role.MENTEE, mentee_answers())
    await chat.command("cora", "match")
    await chat.click("cora", "all")
    for who, cadence, days in (("maarten", "1", "2,4"), ("anna", "1", "2")):
        chat.enter(who, "pair-test-maarten-anna")
        await fill_guide(chat, who, cadence, days)  # weekly, Tuesday evenings
    chat.new("cora")

    # proposal: two days' notice, then the first Tuesday evening, to each in the pair space
    proposal = chat.last_message("anna")
    assert proposal.text == (
        "@Anna: Time to plan meeting 1 of 4 with Maarten. My proposal: Tuesday, October 13, 2026, "
        "7:00\u202fPM (your time). Does that work for you?"
    )
    assert [o.value for o in proposal.choices] == ["yes", "other"]
    assert "Anna. My proposal: Tuesday, October 13" in chat.last("maarten")
    await answer(chat, "anna", "yes")
    assert chat.last("anna") == "Thanks! Now waiting for Maarten to confirm."
    assert invites(chat, "anna") == []
    await answer(chat, "maarten", "yes")
    assert "Meeting 1 is confirmed" in pair_posts(chat)[-1]
    confirmed = chat.last_message("anna")
    assert "confirmed for Tuesday, October 13, 2026, 7:00\u202fPM" in confirmed.text
    assert confirmed.files[0].filename == "maatje-meeting-1.ics"
    (first,) = invites(chat, "anna")
    assert "DTSTART;TZID=Europe/Amsterdam:20261013T190000" in first.to_ical().decode()
    assert first["METHOD"] == "REQUEST" and vevent(first)["SEQUENCE"] == 0
    uid = str(vevent(first)["UID"])
    assert [str(vevent(c)["UID"]) for c in invites(chat, "maarten")] == [uid]

    # reminders: 24 h before with the agenda and reflection questions, then 1 h before
    start = open_meeting(app, 1).starts_at
    await until(app, clock, start - timedelta(hours=25))  # the fit check comes and goes
    chat.new("anna"), chat.new("maarten")
    await until(app, clock, start - timedelta(hours=24, minutes=1))
    assert chat.new("anna") == [] and chat.new("maarten") == []
    await until(app, clock, start - timedelta(hours=24))
    anna, maarten = chat.new("anna"), chat.new("maarten")
    assert anna[0].startswith("A reminder: meeting 1 with Maarten starts in 24 hours")
    assert "What do you hope to get out of this mentorship?" in anna[1]
    assert "Theme: Getting to know each other" in maarten[1]
    assert "Exercise: Go through the introduction guide" in maarten[1]
    assert not any("Theme:" in t for t in anna)
    await until(app, clock, start - timedelta(hours=1))
    assert chat.new("anna") == [
        "A reminder: meeting 1 with Maarten starts in 1 hour, on Tuesday, October 13, 2026, "
        "7:00\u202fPM."
    ]
    assert len(chat.new("maarten")) == 1

    # "did you meet?" after the meeting; no → missed, and a new time for the same meeting
    await until(app, clock, start + timedelta(hours=2))
    assert chat.new("maarten") == ["Did meeting 1 with Anna take place?"]
    await answer(chat, "anna", "no")
    assert "Meeting 1 is not cancelled" in pair_posts(chat)[-1]
    assert "Let's find a new time for meeting 1 with Maarten. How about Tuesday, October 20" in (
        chat.last("anna")
    )

    # Maarten proposes another time by typing it; Anna confirms; the invite moves (same UID)
    await answer(chat, "maarten", "other")
    assert "Which day and time would you propose for meeting 1?" in chat.last("maarten")
    await chat.send("maarten", "22-10-2026 18:30")
    assert chat.last("anna").startswith(
        "@Anna: Maarten proposes another time for meeting 1: Thursday, October 22, 2026, "
        "6:30\u202fPM"
    )
    await answer(chat, "anna", "yes")
    moved = invites(chat, "anna")[-1]
    assert str(vevent(moved)["UID"]) == uid and vevent(moved)["SEQUENCE"] == 2
    assert "DTSTART;TZID=Europe/Amsterdam:20261022T183000" in moved.to_ical().decode()

    # missed again: the new proposal crosses the change to winter time and stays at 19:00
    second = open_meeting(app, 1)
    await until(app, clock, second.starts_at + timedelta(hours=3))
    await answer(chat, "maarten", "no")
    assert "How about Tuesday, October 27, 2026, 7:00\u202fPM" in chat.last("anna")
    with app.store.session() as session:
        statuses = [m.status for m in session.exec(select(Meeting).order_by(Meeting.id)).all()]
    assert statuses == ["missed", "rescheduled", "missed", "proposed"]

    # two missed in a row: the daily check nudges the pair, and status shows it
    await until(app, clock, datetime(2026, 10, 23, 7, 0, tzinfo=start.tzinfo))
    assert pair_posts(chat)[-1].startswith(
        "A friendly nudge from Maatje: the last 2 meetings did not take place."
    )
    await chat.command("cora", "status")
    status = chat.last("cora")
    assert "Pairs: 1 (1 stalled pair)" in status
    assert "Meetings in the last four weeks: 0 held, 2 missed" in status
    assert "Stalled pairs: Maarten and Anna: the last 2 meetings did not take place (step 1" in (
        status
    )


async def test_no_reminder_twice_after_a_restart(database_url, clock) -> None:
    consoles = [console_adapter(), console_adapter()]
    first = build_app(database_url, clock, adapters={"console": consoles[0]})
    chat = Conversation(first.core, consoles[0])
    await chat.send("cora", "hello")
    pair_id = await planned_pair(first, clock.now())
    await answer(chat, "anna", "yes")
    await answer(chat, "maarten", "yes")
    start = open_meeting(first, pair_id).starts_at
    await until(first, clock, start - timedelta(hours=24))
    reminders = [t for t in chat.new("anna") if t.startswith("A reminder")]
    assert len(reminders) == 1

    second = build_app(database_url, clock, adapters={"console": consoles[1]})  # a restart
    try:
        await second.core.dispatcher.run_due()
        assert consoles[1].sent == []
        with second.store.session() as session:  # confirming again schedules nothing new
            meeting = session.get(Meeting, open_meeting(second, pair_id).id)
            programme = session.get(Programme, meeting.programme_id)
            meeting_nudges.schedule(session, meeting, programme, clock.now())
        clock.set(start - timedelta(hours=1))
        await second.core.dispatcher.run_due()
        await first.core.dispatcher.run_due()
        texts = [m.text for who, m in consoles[0].sent + consoles[1].sent if who == "anna"]
        assert sum("starts in 1 hour" in t for t in texts) == 1
        assert sum("starts in 24 hours" in t for t in texts) == 1
    finally:
        second.store.dispose()
        first.store.dispose()


async def test_quiet_periods_get_no_meetings_and_move_reminders(make_app, clock) -> None:
    quiet = (QuietPeriod(date(2026, 10, 13), date(2026, 10, 19), "herfstvakantie"),)
    app, chat = make_app(quiet_periods=quiet)
    await chat.send("cora", "hello")
    pair_id = await planned_pair(app, clock.now())
    assert "Tuesday, October 20, 2026, 7:00\u202fPM" in chat.last("anna")  # not the 13th

    enter_pair(chat, "maarten")
    await answer(chat, "maarten", "other")
    await chat.send("maarten", "15-10-2026 18:00")
    assert (
        "falls in a quiet period of the programme (herfstvakantie, until October 19"
        in (chat.new("maarten")[-2])
    )
    assert "Which day and time" in chat.last("maarten")
    await chat.send("maarten", "20-10-2026 17:00")
    await answer(chat, "anna", "yes")
    start = open_meeting(app, pair_id).starts_at
    chat.new("anna")

    await until(app, clock, start - timedelta(hours=24))  # 19 October: still quiet
    assert chat.new("anna") == []
    await until(app, clock, datetime(2026, 10, 20, 6, 0, tzinfo=start.tzinfo))  # 08:00 local
    texts = chat.new("anna")
    assert texts[0].startswith("A reminder: meeting 1 with Maarten starts in 9 hours")
    assert "To prepare for your first meeting" in texts[1]


async def test_pause_stops_reminders_for_that_person_only(app, chat, clock) -> None:
    await chat.send("cora", "hello")
    pair_id = await planned_pair(app, clock.now())
    await answer(chat, "anna", "yes")
    await answer(chat, "maarten", "yes")
    await chat.command("anna", "pause")
    assert "pause until 14-03-2027" in chat.last("anna")
    await chat.command("anna", "pause", "until", "20-10-2026")
    assert chat.last("anna") == (
        "Okay: no reminders from me until October 20, 2026. Type 'pause off' to turn them on "
        "earlier."
    )
    with app.store.session() as session:
        person = session.exec(select(Person).where(Person.display_name == "Anna")).one()
    assert person.paused_until == datetime(2026, 10, 19, 22, 0, tzinfo=person.paused_until.tzinfo)

    start = open_meeting(app, pair_id).starts_at
    chat.new("anna"), chat.new("maarten")
    await until(app, clock, start - timedelta(hours=24))
    await until(app, clock, start + timedelta(hours=2))
    assert chat.new("anna") == []
    maarten = chat.new("maarten")
    assert any("starts in 24 hours" in t for t in maarten)
    assert "Did meeting 1 with Anna take place?" in maarten

    await chat.command("anna", "pause")
    assert "paused until October 20, 2026" in chat.last("anna")
    await chat.command("anna", "pause", "off")
    assert chat.last("anna") == "Welcome back! Reminders are on again."


async def test_two_time_zones_in_one_pair_each_in_their_own(app, chat, clock) -> None:
    await chat.send("cora", "hello")
    pair_id = await planned_pair(
        app,
        clock.now(),
        agreement={"cadence": "weekly", "weekdays": ["tue"], "dayparts": ["afternoon", "evening"]},
        mentee_fields={"timezone": "America/New_York", "language": "nl"},
    )
    assert "Tuesday, October 13, 2026, 7:00\u202fPM" in chat.last("maarten")
    assert "dinsdag 13 oktober 2026, 13:00" in chat.last("anna")  # her zone, her language
    assert "(jouw tijd)" in chat.last("anna")
    await answer(chat, "anna", "yes")
    await answer(chat, "maarten", "yes")
    anna, maarten = invites(chat, "anna")[0], invites(chat, "maarten")[0]
    assert "DTSTART;TZID=America/New_York:20261013T130000" in anna.to_ical().decode()
    assert "DTSTART;TZID=Europe/Amsterdam:20261013T190000" in maarten.to_ical().decode()
    assert vevent(anna).decoded("DTSTART") == vevent(maarten).decoded("DTSTART")
    assert str(vevent(anna)["SUMMARY"]) == "Mentorschap: afspraak 1 met Maarten"
    start = open_meeting(app, pair_id).starts_at
    await until(app, clock, start - timedelta(hours=1))
    assert "13 oktober 2026, 13:00" in chat.last("anna")


async def test_held_meetings_lead_to_the_next_and_the_hook(
    app, chat, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    held: list[int] = []
    monkeypatch.setattr(
        "flows.contact.meeting_followup.on_meeting_held",
        lambda work, meeting: held.append(meeting.number),
    )
    await chat.send("cora", "hello")
    pair_id = await planned_pair(app, clock.now())
    for number in (1, 2, 3, 4):
        await answer(chat, "anna", "yes")
        await answer(chat, "maarten", "yes")
        meeting = open_meeting(app, pair_id)
        assert meeting.number == number
        await until(app, clock, meeting.starts_at + timedelta(hours=2))
        await answer(chat, "maarten", "yes", "met")
        await answer(chat, "anna", "yes", "met")  # the second answer only adds to the record
    assert held == [1, 2, 3, 4]
    assert "That was the last meeting of the programme" in pair_posts(chat)[-1]
    with app.store.session() as session:
        rows = session.exec(select(Meeting).order_by(Meeting.starts_at)).all()
    assert [m.status for m in rows] == [MeetingStatus.HELD] * 4
    gaps = {(b.starts_at - a.starts_at).days for a, b in itertools.pairwise(rows)}
    assert gaps == {7}  # weekly, as agreed
    assert sorted(rows[0].confirmations["met"].values()) == [True, True]


async def test_the_meeting_command_shows_the_next_meeting_and_offers_another_time(
    app, chat, clock
) -> None:
    await chat.send("cora", "hello")
    await chat.command("cora", "meeting")
    assert "not in a mentoring pair yet" in chat.last("cora")
    pair_id = await planned_pair(app, clock.now())
    await chat.command("anna", "meeting")
    assert "is proposed for Tuesday, October 13" in chat.last("anna")
    assert [o.value for o in chat.last_message("anna").choices] == ["yes", "other"]
    await answer(chat, "anna", "yes")
    await answer(chat, "maarten", "yes")
    await chat.command("anna", "meeting")
    assert chat.last("anna").startswith("Your next meeting with Maarten: meeting 1, Tuesday")
    await answer(chat, "anna", "other")
    await chat.send("anna", "15-10-2026 16:00")
    assert "Anna proposes another time for meeting 1: Thursday, October 15" in chat.last("maarten")
    assert open_meeting(app, pair_id).status == MeetingStatus.PROPOSED
    await chat.command("anna", "meet", "999", "yes")
    assert "no longer works" in chat.last("anna")


async def held(app, chat: Conversation, clock, pair_id: int) -> None:
    """Anna and Maarten confirm the proposal, meet, and Maarten says so afterwards."""
    await answer(chat, "anna", "yes")
    await answer(chat, "maarten", "yes")
    meeting = open_meeting(app, pair_id)
    await until(app, clock, meeting.starts_at + timedelta(hours=2))
    await answer(chat, "maarten", "yes", "met")


async def test_meetings_2_and_3_on_the_dates_from_the_guide(app, chat, clock) -> None:
    await chat.send("cora", "hello")
    enrol(app, "maarten", Role.MENTOR, MENTOR)
    enrol(app, "anna", Role.MENTEE, mentee_answers())
    await chat.command("cora", "match")
    await chat.click("cora", "all")
    dates = {"maarten": ("22-10-2026", "05-11-2026"), "anna": ("22-10-2026", "")}
    for who, days in (("maarten", "2,4"), ("anna", "2")):  # weekly, Tuesday evenings
        chat.enter(who, "pair-test-maarten-anna")
        await fill_guide(chat, who, "1", days, *dates[who])
    assert "My proposal: Tuesday, October 13, 2026, 7:00\u202fPM" in chat.last("anna")

    # the cadence would say Tuesday 20 October; the guide says Thursday 22 (no agreed weekday,
    # so the second pass, at the agreed time of day)
    await held(app, chat, clock, 1)
    assert chat.last("anna") == (
        "@Anna: Time to plan meeting 2 of 4 with Maarten. My proposal: Thursday, October 22, "
        "2026, "
        "7:00\u202fPM (your time). Does that work for you?"
    )
    # meeting 3 on the date only the mentor proposed, after the change to winter time
    await held(app, chat, clock, 1)
    assert "meeting 3 of 4 with Maarten. My proposal: Thursday, November 5, 2026, 7:00\u202fPM" in (
        chat.last("anna")
    )
    # meeting 4 is not in the guide: one weekly step, on the agreed Tuesday
    await held(app, chat, clock, 1)
    assert "meeting 4 of 4 with Maarten. My proposal: Tuesday, November 17, 2026, 7:00\u202fPM" in (
        chat.last("anna")
    )
    with app.store.session() as session:
        rows = session.exec(select(Meeting).order_by(Meeting.starts_at)).all()
    assert [(m.number, m.starts_at.hour) for m in rows] == [(1, 17), (2, 17), (3, 18), (4, 18)]


async def test_a_guide_date_that_has_passed_leaves_meeting_2_to_the_cadence(
    app, chat, clock
) -> None:
    await chat.send("cora", "hello")
    agreement = {**AGREEMENT, "dates": ["2026-10-15"]}  # Thursday, two days after meeting 1
    on_time = await planned_pair(app, clock.now(), agreement=agreement)
    late = await planned_pair(app, clock.now(), mentor="max", mentee="bo", agreement=agreement)
    for mentor, mentee in (("maarten", "anna"), ("max", "bo")):
        await answer(chat, mentee, "yes")
        await answer(chat, mentor, "yes")
    start = open_meeting(app, on_time).starts_at
    assert open_meeting(app, late).starts_at == start  # both Tuesday 13 October, 19:00

    await until(app, clock, start + timedelta(hours=2))
    await answer(chat, "maarten", "yes", "met")
    assert "My proposal: Thursday, October 15, 2026, 7:00\u202fPM" in chat.last("anna")
    # Max and Bo say they met only on Friday 16 October: the 15th has passed
    await until(app, clock, datetime(2026, 10, 16, 10, 0, tzinfo=start.tzinfo))
    await answer(chat, "max", "yes", "met")
    assert "My proposal: Tuesday, October 20, 2026, 7:00\u202fPM" in chat.last("bo")


async def test_a_guide_date_a_meeting_was_confirmed_on_is_not_offered_again(
    app, chat, clock
) -> None:
    await chat.send("cora", "hello")
    pair_id = await planned_pair(app, clock.now(), agreement={**AGREEMENT, "dates": ["2026-10-16"]})
    await answer(chat, "anna", "yes")
    await answer(chat, "maarten", "yes")
    # meeting 1 moves to Friday 16 October (confirmed), then to Wednesday 14, where it is held
    for typed, day in (("16-10-2026 18:00", 16), ("14-10-2026 19:00", 14)):
        await chat.command("maarten", "meeting")  # its button: "Propose another time"
        await answer(chat, "maarten", "other")
        await chat.send("maarten", typed)
        await answer(chat, "anna", "yes")
        moved = open_meeting(app, pair_id)
        assert (moved.status, moved.starts_at.day) == (MeetingStatus.CONFIRMED, day)
    meeting = open_meeting(app, pair_id)
    await until(app, clock, meeting.starts_at + timedelta(hours=2))
    await answer(chat, "maarten", "yes", "met")
    # not Friday 16 again: one weekly step after Wednesday 14, on the agreed Tuesday
    assert "My proposal: Tuesday, October 27, 2026, 7:00\u202fPM" in chat.last("anna")


async def test_a_guide_date_after_the_programme_ends_is_not_used(make_app, clock) -> None:
    app, chat = make_app(end=date(2026, 10, 24))
    await chat.send("cora", "hello")
    agreement = {**AGREEMENT, "dates": ["2026-10-27"]}  # two weeks after meeting 1
    pair_id = await planned_pair(app, clock.now(), agreement=agreement)
    await held(app, chat, clock, pair_id)
    assert "My proposal: Tuesday, October 20, 2026, 7:00\u202fPM" in chat.last("anna")
