"""Group meetings: a slot poll across a mentor group, votes by clicks, the best slot chosen
(when everyone answered, or at the deadline), and an invite per member in their own zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from bot.config.model import QuietPeriod
from bot.domain import GroupMember, Meeting, MeetingStatus, MentorGroup, Person, Programme, Role
from bot.events import PersonRef
from bot.testing import Conversation
from flows.contact import group_meetings, meeting_nudges
from flows.contact.group_poll_votes import best_slot
from tests.meeting_support import invites
from tests.participants import enrol_in

AMS, NY = "Europe/Amsterdam", "America/New_York"
GROUP_SPACE = "group-test-maarten"
# Tuesdays suit Maarten, Anna and Bram; Thursdays Maarten, Bram and Eva (Bram's afternoon in
# New York is the others' evening in Amsterdam), so the poll offers both, earliest first.
PEOPLE = {
    "maarten": (Role.MENTOR, AMS, ["tue", "thu"], ["evening"]),
    "anna": (Role.MENTEE, AMS, ["tue"], ["evening"]),
    "bram": (Role.MENTEE, NY, ["tue", "thu"], ["afternoon"]),
    "eva": (Role.MENTEE, AMS, ["thu"], ["evening", "morning"]),
}
# The candidate slots, 19:00 in Amsterdam (13:00 in New York), from 8 October 2026 (the poll
# closes on the 7th at 09:00 UTC, and the first slot is a day after that).
SLOTS = [
    datetime(2026, 10, 8, 17, 0, tzinfo=UTC),  # Thursday
    datetime(2026, 10, 13, 17, 0, tzinfo=UTC),  # Tuesday
    datetime(2026, 10, 15, 17, 0, tzinfo=UTC),  # Thursday
    datetime(2026, 10, 20, 17, 0, tzinfo=UTC),  # Tuesday
]
PM = "\u202fPM"


def make_group(app, with_outsider: bool = False) -> dict[str, int]:
    """A mentor and three mentees in two time zones, in a group with a space, as matching
    leaves them; optionally Zoe, a mentee of the programme outside the group."""
    now = app.core.clock.now()
    with app.store.session() as session:
        programme_id = session.exec(select(Programme.id)).one()
    ids = {}
    cast = dict(PEOPLE)
    if with_outsider:
        cast["zoe"] = (Role.MENTEE, AMS, ["tue", "thu"], ["evening"])
    for who, (role, zone, weekdays, dayparts) in cast.items():
        answers = {"weekdays": weekdays, "dayparts": dayparts}
        ref = PersonRef("console", "test", who)
        ids[who] = enrol_in(app.store, now, ref, who.capitalize(), role, answers, programme_id)
        with app.store.session() as session:
            person = session.get(Person, ids[who])
            person.timezone = zone
            session.add(person)
    with app.store.session() as session:
        group = MentorGroup(
            programme_id=programme_id,
            mentor_id=ids["maarten"],
            name="Maarten",
            space_platform="console",
            space_workspace="test",
            space_channel=GROUP_SPACE,
        )
        session.add(group)
        session.flush()
        for who in ("anna", "bram", "eva"):
            session.add(GroupMember(group_id=group.id, person_id=ids[who]))
    return ids


def poll_of(chat: Conversation, who: str):
    return next(
        m
        for m in reversed(chat.messages(who))
        if m.choice_token and m.choice_token.startswith("c:groupvote:")
    )


async def vote(chat: Conversation, who: str, *values: str) -> None:
    await chat.click(who, *values, token=poll_of(chat, who).choice_token)


def the_meeting(app) -> Meeting:
    with app.store.session() as session:
        (meeting,) = session.exec(select(Meeting)).all()
        return meeting


def dtstart(chat: Conversation, who: str) -> str:
    (calendar,) = invites(chat, who)
    (event,) = calendar.walk("VEVENT")
    return dtstart_of(event)


def dtstart_of(event) -> str:
    (line,) = [x for x in event.to_ical().decode().splitlines() if x.startswith("DTSTART")]
    return line


async def test_the_poll_votes_and_the_best_slot_when_all_answered(app, chat, clock) -> None:
    ids = make_group(app)
    chat.enter("anna", GROUP_SPACE)  # Anna answers in the group space; the others elsewhere
    await chat.command("maarten", "groupmeeting")
    assert chat.last("maarten").startswith(
        "I've asked the 4 members of Maarten which of 4 times work for them."
    )

    # the poll: one message per member in the group space, times in the reader's zone
    poll = poll_of(chat, "anna")
    assert poll.text.startswith(
        "@Anna: Time to plan group meeting 1 of Maarten. Which of these times"
    )
    assert poll.multiple
    labels = [o.label for o in poll.choices]
    assert labels == [
        f"Thursday, October 8, 2026, 7:00{PM}",
        f"Tuesday, October 13, 2026, 7:00{PM}",
        f"Thursday, October 15, 2026, 7:00{PM}",
        f"Tuesday, October 20, 2026, 7:00{PM}",
        "None of these",
    ]
    assert [o.label for o in poll_of(chat, "bram").choices][:2] == [
        f"Thursday, October 8, 2026, 1:00{PM}",
        f"Tuesday, October 13, 2026, 1:00{PM}",
    ]
    for who in PEOPLE:
        assert poll_of(chat, who).choice_token == poll.choice_token
    meeting = the_meeting(app)
    assert meeting.group_id is not None and meeting.pair_id is None
    assert meeting.status == MeetingStatus.PROPOSED
    assert meeting.confirmations["slots"] == [s.isoformat() for s in SLOTS]

    # votes: slots 1 and 2 tie on three each; the earlier (Tuesday 13th) wins
    await vote(chat, "maarten", "0", "1", "2")
    assert chat.last("maarten").startswith("Thanks! 1 of 4 members has answered")
    await vote(chat, "anna", "1", "3")
    await vote(chat, "anna", "1", "3")  # answering again replaces the answer
    await vote(chat, "bram", "1", "2")
    assert invites(chat, "bram") == []
    await vote(chat, "eva", "0", "2")
    meeting = the_meeting(app)
    assert meeting.status == MeetingStatus.CONFIRMED
    assert meeting.starts_at == SLOTS[1]
    assert meeting.confirmations["votes"] == {
        str(ids["maarten"]): [0, 1, 2],
        str(ids["anna"]): [1, 3],
        str(ids["bram"]): [1, 2],
        str(ids["eva"]): [0, 2],
    }
    assert meeting.confirmations["chosen"] == 1

    # the group hears it; each member gets the time and an invite in their own zone
    assert chat.messages(f"#{GROUP_SPACE}")[-1].text.startswith(
        "Group meeting 1 is planned, at the time that suits most of you (3 of 4)."
    )
    assert chat.last("anna").startswith(
        f"Group meeting 1 of Maarten is planned for Tuesday, October 13, 2026, 7:00{PM} "
        "(your time); 3 of 4 members can make it."
    )
    assert chat.last("bram").startswith(
        f"Group meeting 1 of Maarten is planned for Tuesday, October 13, 2026, 1:00{PM}"
    )
    assert "though not you" in chat.last("eva")
    assert dtstart(chat, "anna") == "DTSTART;TZID=Europe/Amsterdam:20261013T190000"
    assert dtstart(chat, "maarten") == "DTSTART;TZID=Europe/Amsterdam:20261013T190000"
    assert dtstart(chat, "bram") == "DTSTART;TZID=America/New_York:20261013T130000"
    assert dtstart(chat, "eva") == "DTSTART;TZID=Europe/Amsterdam:20261013T190000"
    (bram_invite,) = invites(chat, "bram")
    assert bram_invite["METHOD"] == "REQUEST"
    assert str(bram_invite.walk("VEVENT")[0]["UID"]) == meeting.ics_uid
    assert chat.last_message("bram").files[0].filename == "maatje-group-meeting-1.ics"

    # the deadline passes: nothing more; a late click is told the poll is closed
    sent = len(chat.console.sent)
    clock.advance(timedelta(hours=49))
    await app.core.dispatcher.run_due()
    assert len(chat.console.sent) == sent
    await vote(chat, "eva", "1")
    assert chat.last("eva").startswith("This poll is closed: the meeting is planned for Tuesday")
    await chat.command("maarten", "groupmeeting")
    assert chat.last("maarten").startswith("The next meeting of Maarten is already planned")

    # reminders a day and an hour before, to every member
    chat.new("bram")
    clock.set(meeting.starts_at - timedelta(hours=24) + timedelta(minutes=1))
    await app.core.dispatcher.run_due()
    clock.set(meeting.starts_at - timedelta(minutes=59))
    await app.core.dispatcher.run_due()
    reminders = [t for t in chat.new("bram") if t.startswith("A reminder: group meeting 1")]
    assert [r.split(" starts in ")[1].split(",")[0] for r in reminders] == ["24 hours", "1 hour"]
    assert "on Tuesday, October 13, 2026, 1:00" in reminders[0]  # in Bram's own zone


async def test_the_deadline_chooses_with_the_answers_there_are(app, chat, clock) -> None:
    await chat.send("cora", "hello")
    ids = make_group(app)
    await chat.command("cora", "groupmeeting", "maarten")  # a coordinator names the group
    assert chat.last("cora").startswith("I've asked the 4 members of Maarten")
    assert (
        "or on Wednesday, October 7, 2026, 11:00\u202fAM." in poll_of(chat, "anna").text
    )  # her zone
    assert "or on Wednesday, October 7, 2026, 5:00\u202fAM." in poll_of(chat, "bram").text
    await vote(chat, "maarten", "2")
    await vote(chat, "bram", "2", "3")
    await vote(chat, "eva", "none")
    await chat.command("maarten", "groupmeeting")
    assert chat.last("maarten") == "A poll for a meeting of Maarten is still open."

    deadline = datetime.fromisoformat(the_meeting(app).confirmations["deadline"])
    assert deadline == clock.now() + timedelta(hours=48)
    clock.set(deadline - timedelta(minutes=1))
    await app.core.dispatcher.run_due()
    assert the_meeting(app).status == MeetingStatus.PROPOSED
    assert invites(chat, "anna") == []

    clock.set(deadline + timedelta(minutes=1))
    await app.core.dispatcher.run_due()
    meeting = the_meeting(app)
    assert meeting.status == MeetingStatus.CONFIRMED
    assert meeting.starts_at == SLOTS[2]
    assert meeting.confirmations["votes"] == {
        str(ids["maarten"]): [2],
        str(ids["bram"]): [2, 3],
        str(ids["eva"]): [],
    }
    assert "2 of 4 members can make it" in chat.last("maarten")
    assert "though not you" in chat.last("anna")  # she did not answer; she still is invited
    assert dtstart(chat, "anna") == "DTSTART;TZID=Europe/Amsterdam:20261015T190000"
    assert dtstart(chat, "bram") == "DTSTART;TZID=America/New_York:20261015T130000"


async def test_only_members_vote_and_only_mentors_or_coordinators_start(app, chat) -> None:
    make_group(app, with_outsider=True)
    await chat.command("anna", "groupmeeting")
    assert chat.last("anna").startswith("I found no group you can plan a meeting for.")
    await chat.command("maarten", "groupmeeting")
    token = poll_of(chat, "anna").choice_token

    await chat.click("zoe", "0", token=token)
    assert chat.last("zoe") == "Only members of Maarten can answer this poll."
    assert the_meeting(app).confirmations["votes"] == {}
    await chat.click("anna", token=token)  # nothing chosen
    assert chat.last("anna") == "Please choose at least one time, or 'None of these'."
    await chat.click("anna", "9", token=token)  # not one of the slots
    assert the_meeting(app).confirmations["votes"] == {}


async def test_nobody_can_make_it_and_the_poll_is_cancelled(app, chat) -> None:
    make_group(app)
    await chat.command("maarten", "groupmeeting")
    for who in PEOPLE:
        await vote(chat, who, "none")
    assert the_meeting(app).status == MeetingStatus.CANCELLED
    assert chat.last("eva").startswith(
        "@Eva: None of the proposed times for group meeting 1 of Maarten suits anyone who answered"
    )
    assert invites(chat, "eva") == []
    await chat.command("maarten", "groupmeeting")  # a new poll may start
    assert chat.last("maarten").startswith("I've asked the 4 members")


async def test_no_slot_in_a_quiet_period(make_app) -> None:
    quiet = (QuietPeriod(date(2026, 10, 8), date(2026, 10, 14), "herfstvakantie"),)
    app, chat = make_app(quiet_periods=quiet)
    make_group(app)
    await chat.command("maarten", "groupmeeting")
    slots = [datetime.fromisoformat(s) for s in the_meeting(app).confirmations["slots"]]
    assert slots[0] == SLOTS[2]
    assert all(s.date() > date(2026, 10, 14) for s in slots)


def test_best_slot_most_available_then_earliest() -> None:
    assert best_slot(SLOTS, {"1": [0, 2], "2": [2, 3], "3": [3]}) == (2, 2)
    assert best_slot(SLOTS, {"1": [3, 1], "2": [1, 3]}) == (1, 2)
    assert best_slot(SLOTS, {"1": [], "2": []}) is None


# -- a chosen group meeting: "did you meet?", moving it, cancelling it ------------------------

TUESDAY = f"Tuesday, October 13, 2026, 7:00{PM}"  # SLOTS[1] in Amsterdam
THURSDAY = f"Thursday, October 15, 2026, 7:00{PM}"  # SLOTS[2]
ASKED = f"Did group meeting 1 of Maarten on {TUESDAY} (your time) take place?"


async def chosen_meeting(app, chat) -> Meeting:
    """The group's poll, everyone choosing Tuesday the 13th: meeting 1 is confirmed."""
    make_group(app)
    await chat.command("maarten", "groupmeeting")
    for who in PEOPLE:
        await vote(chat, who, "1")
    meeting = the_meeting(app)
    assert (meeting.status, meeting.starts_at) == (MeetingStatus.CONFIRMED, SLOTS[1])
    for who in PEOPLE:
        chat.new(who)
    return meeting


def meeting_by_id(app, meeting_id: int) -> Meeting:
    with app.store.session() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        return meeting


async def until(app, clock, moment: datetime) -> None:
    clock.set(moment)
    await app.core.dispatcher.run_due()


def asked(chat: Conversation, who: str = "maarten") -> list[str]:
    """The "did you meet?" questions `who` received since the last look."""
    return [t for t in chat.new(who) if t.startswith("Did group meeting")]


def reminded(chat: Conversation, who: str) -> list[str]:
    return [t for t in chat.new(who) if t.startswith("A reminder: group meeting")]


def question(chat: Conversation) -> str:
    """The token of the last "did you meet?" to Maarten."""
    return next(
        m.choice_token
        for m in reversed(chat.messages("maarten"))
        if m.choice_token and m.choice_token.startswith("c:groupmet:")
    )


async def test_did_you_meet_asks_the_mentor_once_and_the_first_answer_counts(
    app, chat, clock
) -> None:
    await chat.send("cora", "hello")
    meeting = await chosen_meeting(app, chat)
    with app.store.session() as session:  # confirmed again (a retry, a restart): no second row
        programme = session.exec(select(Programme)).one()
        group_meetings.schedule(session, session.get(Meeting, meeting.id), programme, clock.now())
    end = meeting.starts_at + timedelta(minutes=meeting.duration_minutes)
    due = end + meeting_nudges.FOLLOWUP_AFTER  # the pairs' delay

    await chat.command("cora", "groupmet", str(meeting.id), "yes")  # typed, too early
    assert chat.last("cora") == (
        "Group meeting 1 of Maarten has not taken place yet; I'll ask after it."
    )
    await until(app, clock, due - timedelta(minutes=1))
    assert asked(chat) == []
    await until(app, clock, due + timedelta(minutes=1))
    assert asked(chat) == [ASKED]
    assert [o.value for o in chat.last_message("maarten").choices] == ["yes", "no"]
    assert [asked(chat, who) for who in ("anna", "bram", "eva")] == [[], [], []]

    await chat.click("anna", "yes", token=question(chat))  # a mentee may not answer
    assert chat.last("anna") == "Only the mentor of Maarten or a coordinator can answer this."
    assert meeting_by_id(app, meeting.id).status == MeetingStatus.CONFIRMED

    await chat.click("maarten", "yes", token=question(chat))
    assert chat.last("maarten") == (
        "Good to hear group meeting 1 of Maarten took place! I've noted it."
    )
    assert meeting_by_id(app, meeting.id).status == MeetingStatus.HELD
    noted = "I had already noted that group meeting 1 of Maarten took place."
    await chat.click("maarten", "no", token=question(chat))  # a second answer changes nothing
    assert chat.last("maarten") == noted
    await chat.click("cora", "no", token=question(chat))
    assert chat.last("cora") == noted
    assert meeting_by_id(app, meeting.id).status == MeetingStatus.HELD

    await until(app, clock, due + timedelta(days=2))  # asked once, for all its rows
    assert asked(chat) == []
    chat.new("cora")
    await chat.command("cora", "status")  # counted as pair meetings are
    assert any("Meetings in the last four weeks: 1 held, 0 missed;" in t for t in chat.new("cora"))


async def test_a_coordinator_answers_no_and_the_same_meeting_is_planned_again(
    app, chat, clock
) -> None:
    await chat.send("cora", "hello")
    meeting = await chosen_meeting(app, chat)
    await until(app, clock, meeting.starts_at + timedelta(hours=2, minutes=1))
    await chat.click("cora", "no", token=question(chat))
    assert chat.last("cora").startswith(
        "Thanks for letting me know — that happens. Group meeting 1 of Maarten is not "
        "cancelled: type 'groupmeeting'"
    )
    assert meeting_by_id(app, meeting.id).status == MeetingStatus.MISSED
    await chat.click("maarten", "yes", token=question(chat))
    assert chat.last("maarten") == (
        "I had already noted that group meeting 1 of Maarten did not take place."
    )
    chat.new("cora")
    await chat.command("cora", "status")
    assert any("0 held, 1 missed" in t for t in chat.new("cora"))

    await chat.command("maarten", "groupmeeting")  # missed, not cancelled: meeting 1 again
    assert poll_of(chat, "anna").text.startswith("@Anna: Time to plan group meeting 1 of Maarten.")


async def test_did_you_meet_waits_out_a_quiet_period(app, chat, clock) -> None:
    meeting = await chosen_meeting(app, chat)
    end = meeting.starts_at + timedelta(minutes=meeting.duration_minutes)
    await until(app, clock, end)
    with app.store.session() as session:  # the programme adds an autumn break meanwhile
        programme = session.exec(select(Programme)).one()
        quiet = [{"from": "2026-10-13", "to": "2026-10-14", "reason": "herfstvakantie"}]
        programme.settings = {**programme.settings, "quiet_periods": quiet}
        session.add(programme)

    await until(app, clock, end + timedelta(hours=2))
    assert asked(chat) == []
    after = datetime(2026, 10, 15, 6, 0, tzinfo=UTC)  # 08:00 in Amsterdam, the day after
    await until(app, clock, after - timedelta(minutes=1))
    assert asked(chat) == []
    await until(app, clock, after)
    assert asked(chat) == [ASKED]


async def test_a_paused_mentor_is_not_asked(app, chat, clock) -> None:
    meeting = await chosen_meeting(app, chat)
    await chat.command("maarten", "pause", "until", "20-10-2026")
    await until(app, clock, meeting.starts_at + timedelta(hours=3))
    assert asked(chat) == []
    assert meeting_by_id(app, meeting.id).status == MeetingStatus.CONFIRMED


async def test_the_mentor_moves_a_chosen_meeting(app, chat, clock) -> None:
    meeting = await chosen_meeting(app, chat)
    await chat.command("anna", "groupmeeting", "move")
    assert chat.last("anna").startswith("I found no group whose meeting you can move.")
    await chat.command("maarten", "groupmeeting", "move")
    assert chat.last("maarten").startswith("I've asked the 4 members of Maarten which of 3 times")
    poll = poll_of(chat, "anna")
    assert poll.text.startswith(
        f"@Anna: Group meeting 1 of Maarten, now on {TUESDAY}, needs a new time."
    )
    assert TUESDAY not in [o.label for o in poll.choices]
    await chat.command("maarten", "groupmeeting", "move")
    assert chat.last("maarten") == "A poll for a meeting of Maarten is still open."
    with app.store.session() as session:
        new = session.exec(select(Meeting).where(Meeting.status == MeetingStatus.PROPOSED)).one()
    assert (new.number, new.ics_uid, new.ics_sequence) == (1, meeting.ics_uid, 1)
    assert meeting_by_id(app, meeting.id).status == MeetingStatus.CONFIRMED  # until chosen

    thursday = str(new.confirmations["slots"].index(SLOTS[2].isoformat()))
    for who in PEOPLE:
        await vote(chat, who, thursday)
    assert meeting_by_id(app, meeting.id).status == MeetingStatus.RESCHEDULED
    moved = meeting_by_id(app, new.id)
    assert (moved.status, moved.starts_at) == (MeetingStatus.CONFIRMED, SLOTS[2])
    assert chat.messages(f"#{GROUP_SPACE}")[-1].text.startswith("Group meeting 1 has a new time")
    assert chat.last("anna").startswith(
        f"Group meeting 1 of Maarten has moved to {THURSDAY} (your time); 4 of 4 members"
    )
    before, after = (c.walk("VEVENT")[0] for c in invites(chat, "bram"))
    assert str(before["UID"]) == str(after["UID"]) == meeting.ics_uid
    assert (before["SEQUENCE"], after["SEQUENCE"]) == (0, 1)
    assert dtstart_of(after) == "DTSTART;TZID=America/New_York:20261015T130000"

    # the old time's reminders and follow-up do nothing; the new time's come
    for who in PEOPLE:
        chat.new(who)
    await until(app, clock, SLOTS[1] + timedelta(hours=3))
    assert reminded(chat, "anna") == [] and asked(chat) == []
    await chat.command("maarten", "groupmet", str(meeting.id), "yes")  # an old button
    assert chat.last("maarten") == (
        "Group meeting 1 of Maarten has moved to another time since; I'll ask again after that."
    )
    assert meeting_by_id(app, meeting.id).status == MeetingStatus.RESCHEDULED
    await until(app, clock, SLOTS[2] - timedelta(hours=23, minutes=59))
    assert reminded(chat, "anna") == [
        f"A reminder: group meeting 1 of Maarten starts in 24 hours, on {THURSDAY}."
    ]
    await until(app, clock, SLOTS[2] + timedelta(hours=2, minutes=1))
    assert asked(chat) == [f"Did group meeting 1 of Maarten on {THURSDAY} (your time) take place?"]


async def test_a_move_nobody_can_make_keeps_the_meeting(app, chat, clock) -> None:
    meeting = await chosen_meeting(app, chat)
    await chat.command("maarten", "groupmeeting", "move")
    for who in PEOPLE:
        await vote(chat, who, "none")
    assert meeting_by_id(app, meeting.id).status == MeetingStatus.CONFIRMED
    assert chat.last("bram") == (
        "@Bram: None of the new times for group meeting 1 of Maarten suits anyone who answered, "
        "so it "
        f"stays on Tuesday, October 13, 2026, 1:00{PM} (your time)."
    )
    await until(app, clock, SLOTS[1] - timedelta(minutes=59))
    assert len(reminded(chat, "bram")) == 2


async def test_a_coordinator_cancels_a_chosen_meeting(app, chat, clock) -> None:
    await chat.send("cora", "hello")
    meeting = await chosen_meeting(app, chat)
    await chat.command("bram", "groupmeeting", "cancel")
    assert chat.last("bram").startswith("I found no group whose meeting you can cancel.")
    await chat.command("maarten", "groupmeeting", "move")  # a poll for a new time is open too
    token = poll_of(chat, "eva").choice_token

    await chat.command("cora", "groupmeeting", "cancel", "maarten")
    assert (
        chat.last("cora") == "Group meeting 1 of Maarten is cancelled; I've let its 4 members know."
    )
    with app.store.session() as session:
        assert {m.status for m in session.exec(select(Meeting))} == {MeetingStatus.CANCELLED}
    assert chat.last("anna") == (
        f"Group meeting 1 of Maarten on {TUESDAY} (your time) is cancelled. The attached file "
        "removes it from your calendar."
    )
    for who in PEOPLE:
        cancellation = invites(chat, who)[-1]
        event = cancellation.walk("VEVENT")[0]
        assert (cancellation["METHOD"], event["STATUS"]) == ("CANCEL", "CANCELLED")
        assert (str(event["UID"]), event["SEQUENCE"]) == (meeting.ics_uid, 1)
    await chat.click("eva", "0", token=token)
    assert chat.last("eva") == "This poll is closed."

    for who in PEOPLE:
        chat.new(who)
    await until(app, clock, SLOTS[1] + timedelta(days=3))  # reminders, follow-up, poll deadline
    assert [reminded(chat, who) for who in PEOPLE] == [[], [], [], []]
    assert asked(chat) == []
    await chat.command("maarten", "groupmeeting", "cancel")
    assert chat.last("maarten") == (
        "No meeting of Maarten is planned ahead, so there is nothing to move or cancel."
    )
    await chat.command("maarten", "groupmeeting")
    assert poll_of(chat, "anna").text.startswith("@Anna: Time to plan group meeting 1 of Maarten.")


async def test_a_meeting_missed_while_it_is_being_moved_gets_the_new_time(app, chat, clock) -> None:
    meeting = await chosen_meeting(app, chat)
    clock.set(SLOTS[1] - timedelta(hours=6))  # moved on the day itself: the poll outlasts it
    await chat.command("maarten", "groupmeeting", "move")
    await until(app, clock, SLOTS[1] + timedelta(hours=2, minutes=1))
    await chat.click("maarten", "no", token=question(chat))
    assert chat.last("maarten").endswith("is not cancelled: the poll for a new time is still open.")
    assert meeting_by_id(app, meeting.id).status == MeetingStatus.MISSED

    for who in PEOPLE:
        await vote(chat, who, "0")
    assert meeting_by_id(app, meeting.id).status == MeetingStatus.MISSED  # its record stays
    with app.store.session() as session:
        (moved,) = session.exec(select(Meeting).where(Meeting.status == MeetingStatus.CONFIRMED))
    assert (moved.number, moved.ics_uid, moved.ics_sequence) == (1, meeting.ics_uid, 1)
    assert chat.last("anna").startswith("Group meeting 1 of Maarten has moved to")
