"""Typed commands in Teams (no slash commands there): as a first message they are commands, not
the start of an intake; coordinators get answers, others a refusal that names no programme;
replies to commands typed in a shared chat arrive in the person's personal chat. And nothing a
person typed or is called becomes a live mention or link."""

from __future__ import annotations

import html
import re

from bot.events import PersonRef
from bot.replies import Outgoing
from tests.teams.support import (
    ANNA,
    CORA,
    MAARTEN,
    enrol,
    text_of,
    to_bot,
)
from tests.teams.teams_fake import TENANT

LIVE_LINK = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\(|<a\s|https?://|www\.", re.IGNORECASE)


async def test_status_as_a_coordinators_first_message(start):
    h = await start()
    h.fake.add_user(CORA, "Cora")
    await h.say(CORA, "status")
    [reply] = h.texts(CORA)
    assert "Mentoraat Test" in reply and "May I store" not in reply


async def test_a_participants_first_command_is_refused_without_naming_a_programme(start):
    h = await start()
    for text in ("status", "maatje match", "/pairs"):
        await h.say(ANNA, text)
    replies = h.texts(ANNA)
    assert len(replies) == 3
    assert all("only the programme's coordinators" in r for r in replies)
    assert not any("Mentoraat" in r or "May I store" in r for r in replies)
    await h.say(ANNA, "help")
    assert "May I store" not in h.texts(ANNA)[-1]
    await h.say(ANNA, "hello")  # only now the intake starts
    assert "May I store" in h.texts(ANNA)[-1]


async def test_a_long_sentence_starting_with_a_command_word_is_an_answer(start):
    h = await start()
    await h.say(ANNA, "hello")
    await h.say(ANNA, "help me with my planning please")
    assert "only" not in h.texts(ANNA)[-1] and "help" not in h.texts(ANNA)[-1].lower()[:20]


async def test_a_command_in_a_group_chat_is_answered_privately(start, fake):
    h = await start()
    h.fake.add_user(CORA, "Cora")
    await h.say(CORA, "hello")
    await h.send(to_bot(fake, CORA, "status", "19:team-chat@thread.v2"))
    assert fake.activities("19:team-chat@thread.v2") == []
    assert "Mentoraat Test" in h.texts(CORA)[-1]


async def test_names_and_text_never_become_mentions_or_links(start, fake):
    h = await start()
    evil = "<at>Cora</at> [click](https://evil.example) www.evil.example"
    await enrol(h, MAARTEN, "Maarten", "mentor", {"field": "Law", "current": "Lawyer"})
    await enrol(h, ANNA, evil, "mentee", {"programme": "Law", "year": 1})
    await h.say(ANNA, "maatje " + html.escape(evil))  # as Teams sends typed markup; echoed
    fake.add_user(CORA, "Cora")
    await h.say(CORA, "match")
    assert any("evil" in t for t in h.texts(CORA))
    assert any("<at>cora</at>" in t.lower() for t in h.texts(ANNA))
    for conversation, posted in fake.posted.items():
        for activity in posted:
            shown = [activity.get("text") or "", activity.get("summary") or ""]
            shown += [activity.get("speak") or ""]
            for attachment in activity.get("attachments") or []:
                content = attachment.get("content") or {}
                shown += [e.get("text", "") for e in content.get("body") or []]
                shown += [content.get("speak") or "", content.get("fallbackText") or ""]
            for text in shown:
                assert "<at" not in text, (conversation, text)
                assert not LIVE_LINK.search(text), (conversation, text)
            assert not [e for e in activity.get("entities") or [] if e["type"] == "mention"]
            assert "msteams" not in str(activity.get("attachments"))


async def test_a_personal_message_reaches_someone_who_never_wrote(start, fake):
    """Maatje installs itself for the person through Graph and posts in that chat."""
    h = await start()
    fake.add_user(CORA, "Cora")
    fake.add_user(ANNA, "Anna")
    await h.say(CORA, "hello")  # the tenant's service URL is now known
    anna = PersonRef("teams", TENANT, ANNA)  # as the core addresses a reminder
    await h.adapter.send(anna, None, Outgoing("Hi", "en", "UTC"), "k:1")
    assert fake.find("POST", rf"/graph/v1.0/users/{ANNA}/teamwork/installedApps")
    assert text_of(h.chat(ANNA)[-1]) == "Hi"
