"""A meeting over Slack: the proposal's buttons in the pair channel, the confirmed meeting's
calendar invite uploaded through Slack's file upload API to each member's DM, and a group
meeting's "did you meet?" answered with a button in the mentor's DM."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from icalendar import Calendar
from sqlmodel import select

from bot.delivery import enqueue_outbound
from bot.domain import Meeting, MeetingStatus, MentorGroup, Pair, Programme
from flows.contact import group_meetings, meetings
from tests.slack.slack_fake import FakeSlack
from tests.slack.test_slack_with_core import Bot, click, start_bot
from tests.slack.workspace import MENTEE_FORM, MENTOR_FORM, MENTOR_TYPED, Workspace, mentee_typed

AGREEMENT = {"cadence": "weekly", "weekdays": ["tue"], "dayparts": ["evening"]}


async def matched_on_slack(fake: FakeSlack, core_factory) -> Bot:
    """Maarten (mentor) and Anna (mentee) join by messaging Maatje and are matched by the
    coordinator: a group and a pair channel on Slack."""
    fake.add_user("U0MAAR", "Maarten")
    fake.add_user("U0ANNA", "Anna")
    bot = await start_bot(fake, core_factory)
    slack = Workspace(bot)
    await slack.member("U0MAAR").intake("mentor", MENTOR_FORM, MENTOR_TYPED)
    await slack.member("U0ANNA").intake("mentee", MENTEE_FORM, mentee_typed())
    for command in ("match", "match approve"):
        await slack.member("UCOORD").command(command)
    return bot


def _as(body: dict[str, Any], user: str) -> dict[str, Any]:
    body["user"] = {**body["user"], "id": user, "username": user.lower(), "name": user.lower()}
    return body


async def proposed_first_meeting(bot: Bot, clock: Any) -> tuple[str, dict[str, dict]]:
    """The matched pair's guide completed (set in the store: the guide over Slack is
    tests/slack/test_slack_people) and meeting 1 proposed: the pair channel and the proposal
    each member sees, by name."""
    with bot.core.store.session() as session:
        pair = session.exec(select(Pair)).one()
        pair.guide, pair.agreement = {"mentor": {}, "mentee": {}}, dict(AGREEMENT)
        channel = pair.space_channel
        messages = meetings.start_plan(session, pair, clock.now())
        enqueue_outbound(session, messages, "plan", clock.now())
    await bot.settle()
    proposals = [m for m in bot.messages(channel) if "My proposal" in m["text"]]
    assert len(proposals) == 2
    return channel, {("Anna" if "<@U0ANNA>" in p["text"] else "Maarten"): p for p in proposals}


async def held_first_meeting(fake: FakeSlack, core_factory, clock) -> Bot:
    """Maarten and Anna matched over Slack, their first meeting confirmed with the buttons and,
    once its time has passed, both answer "Yes, we met"."""
    bot = await matched_on_slack(fake, core_factory)
    _, by_reader = await proposed_first_meeting(bot, clock)
    for name, user in (("Anna", "U0ANNA"), ("Maarten", "U0MAAR")):
        await bot.post.interaction(_as(click(by_reader[name], "yes"), user))
        await bot.settle()
    clock.advance(timedelta(days=9))
    await bot.settle()
    for user in ("U0ANNA", "U0MAAR"):
        [asked] = [m for m in bot.messages(f"D{user}") if "take place" in m["text"]]
        await bot.post.interaction(_as(click(asked, "yes"), user))
        await bot.settle()
    return bot


async def test_a_confirmed_meeting_arrives_with_an_ics_upload(
    fake_slack: FakeSlack, core_factory, clock
) -> None:
    bot = await matched_on_slack(fake_slack, core_factory)
    try:
        _, by_reader = await proposed_first_meeting(bot, clock)

        await bot.post.interaction(_as(click(by_reader["Anna"], "yes"), "U0ANNA"))
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
    bot = await matched_on_slack(fake_slack, core_factory)
    try:
        with bot.core.store.session() as session:
            programme = session.exec(select(Programme)).one()
            group = session.exec(select(MentorGroup)).one()
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
