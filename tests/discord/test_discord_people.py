"""People as Discord knows them, with nobody written into the database by the test: Maarten
(mentor) and Anna (mentee) join a Dutch programme through DMs and buttons; Discord tells
Maatje their names (Anna's server nick wins over her global name) and, with every
interaction, their language. Discord reports no time zone, so the intake asks: Anna types
"New York".

What they should see: their names in the channel and thread names, the welcome, the guide's
prompts (each mentioning its member, and allowed to notify only them), the export and the
certificate; their pair thread in English although the programme is Dutch; Anna's meeting
proposal, invite and reminder in New York time; no time with seconds anywhere.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from pypdf import PdfReader
from sqlmodel import select

from bot.delivery import enqueue_outbound
from bot.domain import Meeting, Pair
from bot.i18n import moment
from bot.testing import build_core, programme_config
from flows.contact import meetings
from tests.discord.discord_fake import GENERAL_ID, FakeDiscord
from tests.discord.support import (
    ANNA,
    CORA,
    MENTEE_FORM,
    MENTOR_FORM,
    MENTOR_TYPED,
    Harness,
    button,
    component,
    custom_ids,
    dm_channel,
    intake,
    make_adapter,
    mentee_typed,
    slash,
)
from tests.meeting_support import AGREEMENT, GUIDE

MAARTEN = "100000000000000109"
SECONDS = re.compile(r"\d:\d\d:\d\d")


@pytest.fixture
async def discord(fake: FakeDiscord, database_url: str, clock) -> AsyncIterator[Harness]:
    fake.add_member(MAARTEN, "maarten", "Maarten de Vries")
    fake.add_member(ANNA, "anna_j", "anna", nick="Anna Jansen")
    fake.add_member(CORA, "cora", "Cora Coördinator")
    adapter = make_adapter(fake)
    programme = programme_config(language="nl")
    core = build_core(database_url, clock, {"discord": adapter}, programmes=(programme,))
    harness = Harness(fake, adapter, core)
    harness.watch()
    await adapter.start(core)
    yield harness
    await adapter.stop()
    core.store.dispose()


def texts(h: Harness, channel: str) -> list[str]:
    return [m["content"] for m in h.fake.posted(channel)]


async def test_names_languages_and_the_zone_a_person_typed_over_discord(discord, clock) -> None:
    h = discord
    consent = "Ja"  # a DM carries no locale: Dutch, until the click tells Maatje (en-US)
    await intake(h, MAARTEN, "As a mentor", MENTOR_FORM, MENTOR_TYPED, yes=consent)
    await intake(h, ANNA, "As a mentee", MENTEE_FORM, mentee_typed("2", "New York"), consent)
    assert "Mag ik je antwoorden" in texts(h, dm_channel(ANNA))[0]
    asked_zone = [t for t in texts(h, dm_channel(ANNA)) if "Which time zone" in t]
    assert len(asked_zone) == 1 and "Europe/Amsterdam, the programme's" in asked_zone[0]

    general = {"guild": True, "channel_id": GENERAL_ID}
    await h.send("INTERACTION_CREATE", slash(CORA, "match", **general))
    await h.send("INTERACTION_CREATE", slash(CORA, "match", "approve", **general))
    await h.core.dispatcher.run_due()
    [group] = [c for c in h.fake.channels.values() if c["name"].startswith("test-group-")]
    assert group["name"].startswith("test-group-maarten-de-vries-")
    [thread] = [c for c in h.fake.channels.values() if c["type"] == 12]
    assert thread["name"].startswith("test Maarten de Vries Anna Jansen · ")

    welcome, *prompts = h.fake.posted(thread["id"])
    assert welcome["content"].startswith(
        "This is the private space of Maarten de Vries (mentor) and Anna Jansen (mentee)."
    )
    assert "\n\n—\n\n" not in welcome["content"]  # theirs only, not the programme's
    assert welcome["allowed_mentions"] == {"parse": []}
    [to_anna] = [p for p in prompts if p["content"].startswith(f"<@{ANNA}>: ")]
    assert "Maarten de Vries answers the same questions" in to_anna["content"]
    assert to_anna["allowed_mentions"]["parse"] == []
    assert [str(u) for u in to_anna["allowed_mentions"]["users"]] == [ANNA]

    # Maarten picks in Anna's question: told whose it is, privately; her question stays open
    [pick] = custom_ids(to_anna)
    since = len(h.fake.calls)
    where = {"guild": True, "channel_id": thread["id"]}
    await h.send("INTERACTION_CREATE", component(MAARTEN, pick, ["chat"], **where))
    [private] = [
        c.body
        for c in h.fake.find("POST", r"/webhooks/\d+/[^/]+", since=since)
        if "This one is for" in (c.body or {}).get("content", "")
    ]
    assert private["content"] == "This one is for Anna Jansen: only they can answer it."
    assert private["flags"] & 64

    # their guide, as they agreed it, then meeting 1: each proposal in its reader's zone
    with h.core.store.session() as session:
        pair = session.exec(select(Pair)).one()
        pair.guide, pair.agreement = dict(GUIDE), {**AGREEMENT, "dayparts": ["afternoon"]}
        session.add(pair)
        now = clock.now()
        enqueue_outbound(session, meetings.start_plan(session, pair, now), "plan", now)
    await h.core.dispatcher.run_due()
    with h.core.store.session() as session:
        starts = session.exec(select(Meeting)).one().starts_at
    proposals = [m for m in h.fake.posted(thread["id"]) if "My proposal" in m["content"]]
    [for_anna] = [p for p in proposals if p["content"].startswith(f"<@{ANNA}>")]
    [for_maarten] = [p for p in proposals if p["content"].startswith(f"<@{MAARTEN}>")]
    new_york = moment(starts, "en", ["America/New_York"])
    assert f"My proposal: {new_york} (your time)" in for_anna["content"]
    amsterdam = moment(starts, "en", ["Europe/Amsterdam"])
    assert f"My proposal: {amsterdam} (your time)" in for_maarten["content"]
    for who, proposal in ((ANNA, for_anna), (MAARTEN, for_maarten)):
        yes = button(proposal, "Yes, that works")
        await h.send("INTERACTION_CREATE", component(who, yes, **where))
    [confirmed] = [t for t in texts(h, thread["id"]) if t.startswith("Meeting 1 is confirmed")]
    assert "(Amsterdam) / " in confirmed and "(New York)" in confirmed

    [invite] = [
        content.decode()
        for m in h.fake.posted(dm_channel(ANNA))
        for name, content in m["files"].items()
        if name.endswith(".ics")
    ]
    local = starts.astimezone(ZoneInfo("America/New_York"))
    assert f"DTSTART;TZID=America/New_York:{local:%Y%m%dT%H%M%S}" in invite
    assert (
        "Mentoring: meeting 1 with Maarten de Vries"
        in Calendar.from_ical(invite).to_ical().decode()
    )
    clock.set(starts - timedelta(hours=1))
    await h.core.dispatcher.run_due()
    [reminder] = [t for t in texts(h, dm_channel(ANNA)) if t.startswith("A reminder")]
    assert reminder.endswith(f"on {new_york}.")

    # the meeting happens: both say so, which is what a certificate asks for
    clock.set(starts + timedelta(days=1))
    await h.core.dispatcher.run_due()
    await h.adapter.idle()
    for who in (ANNA, MAARTEN):
        asked = next(m for m in reversed(h.fake.posted(dm_channel(who))) if "we met" in str(m))
        await h.send("INTERACTION_CREATE", component(who, button(asked, "Yes, we met")))

    # the coordinator's files carry the names Discord gave
    files: dict[str, bytes] = {}
    for command in ("export", "certificates"):
        since = len(h.fake.calls)
        await h.send("INTERACTION_CREATE", slash(CORA, command, **general))
        for call in h.fake.calls[since:]:
            files.update(call.files)
    pairs_csv = files["test-pairs.csv"].decode("utf-8-sig")
    [row] = csv.DictReader(io.StringIO(pairs_csv))
    assert (row["mentor"], row["mentee"]) == ("Maarten de Vries", "Anna Jansen")
    [pdf] = [content for name, content in files.items() if name.endswith(".pdf")]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Maarten de Vries" in text

    shown = [m["content"] for m in h.fake.posted()]  # and what came through interactions:
    shown += [c.body.get("content") or "" for c in h.fake.calls if isinstance(c.body, dict)]
    assert not [t for t in shown if SECONDS.search(t)]
