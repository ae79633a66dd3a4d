"""A meeting over Discord: the proposal's buttons in the private pair thread, clicked through
the gateway by both members; the confirmed meeting's calendar invite arrives in each member's
DM as an `.ics` attachment; after the meeting, "did you meet?" yes marks it held."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar
from sqlmodel import select

from bot.delivery import enqueue_outbound
from bot.domain import Meeting, MeetingStatus, Pair
from flows.contact import meetings
from tests.discord.discord_fake import GENERAL_ID
from tests.discord.support import ANNA, CORA, button, component, dm_channel, slash
from tests.discord.test_discord_matching import MAARTEN, join
from tests.meeting_support import AGREEMENT, GUIDE, open_meeting


async def _matched_pair(h, fake) -> tuple[int, str]:
    """Maarten and Anna, after their intake, matched by Cora; their pair thread; the guide
    completed (set in the store: the guide over Discord is tests/discord/test_discord_people)."""
    await join(h, fake, mentees=(ANNA,))
    await h.send("INTERACTION_CREATE", slash(CORA, "match", guild=True, channel_id=GENERAL_ID))
    await h.send(
        "INTERACTION_CREATE", slash(CORA, "match", "approve", guild=True, channel_id=GENERAL_ID)
    )
    await h.core.dispatcher.run_due()
    now = h.core.clock.now()
    with h.core.store.session() as session:
        pair = session.exec(select(Pair)).one()
        assert pair.space_platform == "discord" and pair.space_channel in h.fake.thread_members
        pair.guide, pair.agreement = dict(GUIDE), dict(AGREEMENT)
        session.add(pair)
        enqueue_outbound(session, meetings.start_plan(session, pair, now), f"plan:{pair.id}", now)
        pair_id, thread = pair.id, pair.space_channel
    await h.core.dispatcher.run_due()
    await h.adapter.idle()
    return pair_id, thread


async def held_first_meeting(h, fake, clock) -> int:
    """Maarten and Anna matched over Discord, their first meeting confirmed with the buttons in
    the pair thread and, once its time has passed, both answer "Yes, we met"; the pair's id."""
    pair_id, thread = await _matched_pair(h, fake)
    for proposal in (m for m in h.fake.posted(thread) if "My proposal" in m["content"]):
        who = ANNA if proposal["content"].startswith(f"<@{ANNA}>: ") else MAARTEN
        yes = button(proposal, "Yes, that works")
        await h.send("INTERACTION_CREATE", component(who, yes, guild=True, channel_id=thread))
    clock.advance(timedelta(days=9))
    await h.core.dispatcher.run_due()
    await h.adapter.idle()
    for who in (ANNA, MAARTEN):
        asked = _with_button(h, dm_channel(who), "Yes, we met")
        await h.send("INTERACTION_CREATE", component(who, button(asked, "Yes, we met")))
    return pair_id


def _with_button(h, channel: str, label: str) -> dict:
    return next(
        m
        for m in reversed(h.fake.posted(channel))
        if any(c.get("label") == label for row in m["components"] for c in row["components"])
    )


def _invites(h, user_id: str) -> list[Calendar]:
    return [
        Calendar.from_ical(content.decode())
        for m in h.fake.posted(dm_channel(user_id))
        for name, content in m["files"].items()
        if name.endswith(".ics")
    ]


async def test_a_meeting_is_confirmed_in_the_pair_thread_and_held(start, fake, clock):
    h = await start()
    pair_id, thread = await _matched_pair(h, fake)
    proposals = [m for m in h.fake.posted(thread) if "My proposal" in m["content"]]
    assert len(proposals) == 2
    to_anna = next(p for p in proposals if p["content"].startswith(f"<@{ANNA}>: "))
    to_maarten = next(p for p in proposals if p is not to_anna)

    async def click_yes(who: str, proposal: dict) -> None:
        yes = button(proposal, "Yes, that works")
        await h.send("INTERACTION_CREATE", component(who, yes, guild=True, channel_id=thread))

    await click_yes(ANNA, to_anna)
    assert open_meeting(h.core, pair_id).status == MeetingStatus.PROPOSED
    assert not _invites(h, ANNA)
    await click_yes(MAARTEN, to_maarten)
    meeting = open_meeting(h.core, pair_id)
    assert meeting.status == MeetingStatus.CONFIRMED

    for who in (ANNA, MAARTEN):
        files = _invites(h, who)
        assert len(files) == 1 and files[0]["METHOD"] == "REQUEST"
        event = files[0].walk("VEVENT")[0]
        assert event["SEQUENCE"] == 0
        assert "DTSTART;TZID=Europe/Amsterdam:20261013T190000" in files[0].to_ical().decode()
    uploads = [c for c in h.fake.calls if c.method == "POST" and c.files]
    assert {c.path for c in uploads} == {
        f"/channels/{dm_channel(who)}/messages" for who in (ANNA, MAARTEN)
    }
    uids = {str(_invites(h, who)[0].walk("VEVENT")[0]["UID"]) for who in (ANNA, MAARTEN)}
    assert len(uids) == 1

    clock.advance(timedelta(days=9))  # past the meeting: "did you meet?" with buttons
    await h.core.dispatcher.run_due()
    await h.adapter.idle()
    for who in (ANNA, MAARTEN):
        asked = _with_button(h, dm_channel(who), "Yes, we met")
        await h.send("INTERACTION_CREATE", component(who, button(asked, "Yes, we met")))
    with h.core.store.session() as session:
        assert session.get(Meeting, meeting.id).status == MeetingStatus.HELD
