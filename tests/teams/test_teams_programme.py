"""A programme from intake to certificates over Teams' protocol only: people exist because
they wrote to Maatje in Teams; the coordinator matches and approves by typed commands; the pair
gets a Graph group chat with exactly its two members and Maatje installed; the guide is filled
in there by @mentioning Maatje; a meeting is confirmed and its invite offered as a file consent
card; a poll reaches everyone; certificates arrive as PDFs."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar
from sqlmodel import select

from bot.domain import Meeting, MeetingStatus, Pair
from tests.teams.support import (
    ANNA,
    CORA,
    MAARTEN,
    actions,
    button,
    enrol,
    file_consent,
    form_submit,
    text_of,
    to_bot,
)
from tests.teams.teams_fake import CATALOG_ID


async def matched(h) -> str:
    """Maarten and Anna enrolled, matched and approved by Cora; the pair chat's id."""
    h.fake.add_user(CORA, "Cora Coördinator")
    await enrol(h, MAARTEN, "Maarten Mentor", "mentor", {"field": "Law", "current": "Lawyer"})
    new_york = {"zone": "America/New_York", "windows_zone": "Eastern Standard Time"}
    await enrol(h, ANNA, "Anna de Vries", "mentee", {"programme": "Law", "year": 1}, **new_york)
    await h.say(CORA, "match")
    assert "Anna de Vries — fit" in h.texts(CORA)[-1]
    await h.say(CORA, "match approve")
    await h.core.dispatcher.run_due()
    with h.core.store.session() as session:
        pair = session.exec(select(Pair)).one()
    assert pair.space_platform == "teams"
    chat_id = pair.space_channel
    chat = h.fake.chats[chat_id]
    assert sorted(chat["members"]) == sorted([MAARTEN, ANNA])  # exactly the pair
    assert "Maarten Mentor" in chat["topic"] and "Anna de Vries" in chat["topic"]
    assert chat["apps"] == [CATALOG_ID]  # Maatje installed, so it may post there
    return chat_id


async def fill_guide(h, aad: str, chat_id: str, cadence: str, days: str) -> None:
    say = lambda text: h.send(to_bot(h.fake, aad, text, chat_id))  # noqa: E731
    mine = [a for a in h.fake.activities(chat_id) if actions(a)]
    assert mine, "expected the first kennismaking question"
    await say("1,2")
    await h.click(
        aad, form_submit(h.fake.activities(chat_id)[-1], phone="", email=f"{aad}@example.org")
    )
    await say("1")
    await say(cadence)
    await say(days)
    await say("3")
    last = lambda: h.fake.activities(chat_id)[-1]  # noqa: E731
    await h.click(aad, form_submit(last(), second="01-12-2026", third=""))
    await h.click(aad, form_submit(last(), thoughts="freedom", topics="planning", questions=""))
    await h.click(aad, form_submit(last(), expectations="honesty"))
    await h.click(
        aad,
        form_submit(last(), reply="within two days", cancel="a day ahead", private="everything"),
    )


async def test_from_intake_to_certificates(start, fake, clock):
    h = await start()
    chat_id = await matched(h)
    pair_posts = [text_of(a) for a in fake.activities(chat_id)]
    assert any("Maarten Mentor" in t and "Anna de Vries" in t for t in pair_posts)
    welcomes = [a for a in fake.activities(chat_id) if not actions(a)]
    assert welcomes and all("<at" not in (a.get("text") or "") for a in welcomes)
    # each member's first guide question names them with a live Teams mention of them alone
    for who, name in ((MAARTEN, "Maarten Mentor"), (ANNA, "Anna de Vries")):
        [question] = [a for a in fake.activities(chat_id) if f"<at>{name}</at>" in text_of(a)]
        [entity] = question["attachments"][0]["content"]["msteams"]["entities"]
        assert entity["mentioned"] == {"id": who, "name": name}

    await fill_guide(h, MAARTEN, chat_id, "1", "2,4")
    await fill_guide(h, ANNA, chat_id, "2", "2")
    assert any("introduction guide is complete" in text_of(a) for a in fake.activities(chat_id))

    # the first meeting: proposals in the pair chat, each member confirms
    clock.advance(timedelta(hours=1))
    await h.core.dispatcher.run_due()
    proposals = [a for a in fake.activities(chat_id) if "Yes, that works" in str(actions(a))]
    assert len(proposals) >= 2
    for who in (ANNA, MAARTEN):
        mine = next(p for p in reversed(proposals) if who_is(p, who))
        await h.click(who, button(mine, "Yes, that works"))
    with h.core.store.session() as session:
        meeting = session.exec(select(Meeting)).first()
    assert meeting.status == MeetingStatus.CONFIRMED

    # the invite: a file consent card in each personal chat, uploaded when accepted
    for who in (ANNA, MAARTEN):
        consent = next(a for a in h.chat(who) if "file.consent" in str(a.get("attachments", "")))
        assert consent["attachments"][0]["name"].endswith(".ics")
        answer = await h.post(file_consent(fake, who, consent))
        assert answer.status == 200
        name = consent["attachments"][0]["name"]
        invite = Calendar.from_ical(fake.uploads[name].decode())
        event = invite.walk("VEVENT")[0]
        assert event["SUMMARY"]
        # each in their own zone: Anna's Teams client says New York, Maarten's Amsterdam
        zone = "America/New_York" if who == ANNA else "Europe/Amsterdam"
        assert event["DTSTART"].dt.tzinfo.key == zone
        assert event["DTSTART"].dt == meeting.starts_at
        info = h.chat(who)[-1]["attachments"][0]
        assert info["contentType"] == "application/vnd.microsoft.teams.card.file.info"

    # the meeting happens: both say so in their personal chat
    clock.set(meeting.starts_at + timedelta(days=1))
    await h.core.dispatcher.run_due()
    for who in (ANNA, MAARTEN):
        asked = next(a for a in reversed(h.chat(who)) if "Yes, we met" in str(actions(a)))
        await h.click(who, button(asked, "Yes, we met"))

    # a poll and the certificates
    await h.say(CORA, "poll send relationship to all")
    await h.core.dispatcher.run_due()
    for who in (ANNA, MAARTEN):
        assert any("Evaluation: the contact in your pair" in t for t in h.texts(who))
    await h.say(CORA, "close 1 yes")
    await h.core.dispatcher.run_due()
    clock.advance(timedelta(days=15))
    await h.core.dispatcher.run_due()
    certificate = [
        a
        for a in h.chat(MAARTEN)
        if ".pdf" in str(a.get("attachments", "")) and "consent" in str(a)
    ]
    assert certificate
    answer = await h.post(file_consent(fake, MAARTEN, certificate[-1]))
    assert answer.status == 200
    assert fake.uploads[certificate[-1]["attachments"][0]["name"]].startswith(b"%PDF-")


def who_is(activity: dict, aad: str) -> bool:
    names = {ANNA: "Anna", MAARTEN: "Maarten"}
    other = names[MAARTEN if aad == ANNA else ANNA]
    return f"with {other}" in text_of(activity)
