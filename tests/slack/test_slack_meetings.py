"""A meeting over Slack: the proposal's buttons in the pair channel, the confirmed meeting's
calendar invite uploaded through Slack's file upload API to each member's DM, and a group
meeting's "did you meet?" answered with a button in the mentor's DM."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from icalendar import Calendar
from sqlmodel import select

from bot.delivery import enqueue_outbound
from bot.domain import (
    GroupMember,
    Identity,
    Meeting,
    MeetingStatus,
    Membership,
    MentorGroup,
    Pair,
    Person,
    Programme,
    Role,
)
from flows import group_meetings, meetings
from tests.slack.slack_fake import BOT_USER, FakeSlack
from tests.slack.test_slack_with_core import click, start_bot


def _people_on_slack(session, now) -> tuple[Programme, dict[str, int], MentorGroup]:
    """Maarten (mentor) and Anna (mentee) on Slack, and Maarten's group."""
    programme = session.exec(select(Programme)).one()
    ids = {}
    for user, name, role in (("U0MAAR", "Maarten", Role.MENTOR), ("U0ANNA", "Anna", Role.MENTEE)):
        person = Person(display_name=name, language="en", created_at=now)
        session.add(person)
        session.flush()
        session.add(
            Identity(person_id=person.id, platform="slack", workspace="T0TEAM", user_id=user)
        )
        session.add(
            Membership(programme_id=programme.id, person_id=person.id, role=role, joined_at=now)
        )
        ids[user] = person.id
    group = MentorGroup(programme_id=programme.id, mentor_id=ids["U0MAAR"], name="Maarten")
    session.add(group)
    session.flush()
    return programme, ids, group


def _pair_on_slack(session, channel: str, now) -> Pair:
    programme, ids, group = _people_on_slack(session, now)
    pair = Pair(
        programme_id=programme.id,
        group_id=group.id,
        mentor_id=ids["U0MAAR"],
        mentee_id=ids["U0ANNA"],
        matched_at=now,
        guide={"mentor": {}, "mentee": {}},
        agreement={"cadence": "weekly", "weekdays": ["tue"], "dayparts": ["evening"]},
        space_platform="slack",
        space_workspace="T0TEAM",
        space_channel=channel,
    )
    session.add(pair)
    session.flush()
    return pair


def _as(body: dict[str, Any], user: str) -> dict[str, Any]:
    body["user"] = {**body["user"], "id": user, "username": user.lower(), "name": user.lower()}
    return body


async def test_a_confirmed_meeting_arrives_with_an_ics_upload(
    fake_slack: FakeSlack, core_factory, clock
) -> None:
    channel = fake_slack.add_channel("pair-maarten-anna", [BOT_USER, "U0MAAR", "U0ANNA"])
    bot = await start_bot(fake_slack, core_factory)
    try:
        with bot.core.store.session() as session:
            pair = _pair_on_slack(session, channel, clock.now())
            messages = meetings.start_plan(session, pair, clock.now())
            enqueue_outbound(session, messages, "plan", clock.now())
        await bot.settle()
        proposals = [m for m in fake_slack.calls_to("chat.postMessage") if m["channel"] == channel]
        assert len(proposals) == 2 and all("My proposal" in p["text"] for p in proposals)
        by_reader = {("Anna" if "with Maarten" in p["text"] else "Maarten"): p for p in proposals}

        await bot.post.interaction(click(by_reader["Anna"], "yes"))
        await bot.settle()
        assert fake_slack.calls_to("files.completeUploadExternal") == []
        await bot.post.interaction(_as(click(by_reader["Maarten"], "yes"), "U0MAAR"))
        await bot.settle()

        uploads = fake_slack.calls_to("files.completeUploadExternal")
        assert {u["channel_id"] for u in uploads} == {"DU0ANNA", "DU0MAAR"}
        files = [Calendar.from_ical(content) for content in fake_slack.uploads.values()]
        assert len(files) == 2
        events = [f.walk("VEVENT")[0] for f in files]
        assert len({str(e["UID"]) for e in events}) == 1
        assert {e["SEQUENCE"] for e in events} == {0}
        assert all(f["METHOD"] == "REQUEST" for f in files)
        assert "DTSTART;TZID=Europe/Amsterdam:20261013T190000" in files[0].to_ical().decode()
        confirmed = [
            m["text"]
            for m in fake_slack.calls_to("chat.postMessage")
            if m["channel"] in ("DU0ANNA", "DU0MAAR")
        ]
        assert sum("is confirmed for Tuesday" in t for t in confirmed) == 2

        clock.advance(timedelta(days=9))  # past the meeting: "did you meet?" with buttons
        await bot.settle()
        asked = [m for m in fake_slack.calls_to("chat.postMessage") if "take place" in m["text"]]
        assert {m["channel"] for m in asked} == {"DU0ANNA", "DU0MAAR"}
    finally:
        await bot.adapter.stop()


async def test_a_group_meeting_asks_its_mentor_did_you_meet_and_records_the_click(
    fake_slack: FakeSlack, core_factory, clock
) -> None:
    bot = await start_bot(fake_slack, core_factory)
    try:
        with bot.core.store.session() as session:
            programme, ids, group = _people_on_slack(session, clock.now())
            session.add(GroupMember(group_id=group.id, person_id=ids["U0ANNA"]))
            meeting = Meeting(
                programme_id=programme.id,
                group_id=group.id,
                number=1,
                starts_at=clock.now() + timedelta(days=2),
                status=MeetingStatus.CONFIRMED,
                ics_uid="test-group1-meeting1@maatje",
                created_at=clock.now(),
            )
            session.add(meeting)
            session.flush()
            group_meetings.schedule(session, meeting, programme, clock.now())
            meeting_id = meeting.id

        clock.advance(timedelta(days=2, hours=2, minutes=1))  # an hour after its end
        await bot.settle()
        asked = [m for m in fake_slack.calls_to("chat.postMessage") if "take place" in m["text"]]
        assert [m["channel"] for m in asked] == ["DU0MAAR"]  # the mentor only
        assert asked[0]["text"].startswith("Did group meeting 1 of Maarten on Wednesday")

        await bot.post.interaction(_as(click(asked[0], "yes"), "U0MAAR"))
        await bot.settle()
        with bot.core.store.session() as session:
            assert session.get(Meeting, meeting_id).status == MeetingStatus.HELD
        answered = [
            m["text"] for m in fake_slack.calls_to("chat.postMessage") if m["channel"] == "DU0MAAR"
        ]
        assert answered[-1] == "Good to hear group meeting 1 of Maarten took place! I've noted it."
    finally:
        await bot.adapter.stop()
