"""People as Slack knows them, from intake to a certificate, with nobody written into the
database by the test: Maarten (mentor, English, Amsterdam), Anna (mentee, English, New York)
and Bram (mentee, Dutch, Amsterdam) join a Dutch programme by messaging Maatje; Slack's
users.info tells Maatje their names, zones and languages.

What they should see: their names in the coordinator's proposal, the channel names, the
welcomes, the guide's prompts, the export, the poll CSV and the certificate; the all-English
pair's space in English, the mixed pair's in both languages; Anna's proposal, invite and
reminders in New York time; and no time with seconds anywhere. At a kick-off, where Slack
paces the lookups, each newcomer is looked up once and still learns the name Maatje shows.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from pypdf import PdfReader
from sqlmodel import select

from adapters.slack import SlackAdapter
from adapters.slack.profiles import Turns
from bot.domain import Meeting, OutboxItem
from bot.i18n import moment
from bot.profiles import REFRESH
from bot.testing import build_core, programme_config
from tests.slack.slack_fake import FakeSlack
from tests.slack.support import slack_config
from tests.slack.test_slack_with_core import Bot
from tests.slack.workspace import (
    MENTEE_FORM,
    MENTOR_FORM,
    MENTOR_TYPED,
    Member,
    Workspace,
    mentee_typed,
)

DIVIDER = "\n\n—\n\n"
LATECOMERS = {"U0CHLOE": "Chloé Claes", "U0DAAN": "Daan Dekker", "U0EVA": "Eva Evers"}
"""Mentees who join after the match: with Anna and Bram five answer a poll (k = 5)."""
SECONDS = re.compile(r"\d:\d\d:\d\d")


@pytest.fixture
async def slack(fake_slack: FakeSlack, database_url: str, clock) -> AsyncIterator[Workspace]:
    fake_slack.add_user("UCOORD", "Cora Coördinator", locale="nl-NL")
    fake_slack.add_user("U0MAARTEN", "Maarten de Vries", display_name="maarten", locale="en-GB")
    fake_slack.add_user("U0ANNA", "Anna Jansen", tz="America/New_York", locale="en-US")
    fake_slack.add_user("U0BRAM", "Bram Bakker", display_name="bram", locale="nl-NL")
    for user, name in LATECOMERS.items():
        fake_slack.add_user(user, name, locale="en-GB")
    adapter = SlackAdapter(slack_config(fake_slack))
    programme = programme_config(language="nl")
    core = build_core(database_url, clock, {"slack": adapter}, programmes=(programme,))
    await adapter.start(core)
    yield Workspace(Bot(adapter, core, fake_slack))
    await adapter.stop()
    core.store.dispose()


async def everyone_matched(slack: Workspace) -> tuple[Member, Member, Member, Member]:
    cora, maarten, anna, bram = (
        slack.member(u) for u in ("UCOORD", "U0MAARTEN", "U0ANNA", "U0BRAM")
    )
    await maarten.intake("mentor", MENTOR_FORM, MENTOR_TYPED)
    # Anna's afternoons in New York are Maarten's evenings in Amsterdam
    await anna.intake("mentee", MENTEE_FORM, mentee_typed("2"))
    await bram.intake("mentee", MENTEE_FORM, mentee_typed("3", "nee", "ja"))
    assert "intake is complete" in anna.texts()[-1]
    assert "je intake is compleet" in bram.texts()[-1]
    assert not any("time zone" in t for t in anna.texts())  # Slack told Maatje her zone
    await cora.command("match")
    await cora.command("match approve")
    return cora, maarten, anna, bram


async def test_names_and_languages_from_slack_reach_every_space_and_file(slack) -> None:
    cora, maarten, anna, bram = await everyone_matched(slack)
    fake = slack.bot.fake

    [proposal, *_] = cora.ephemeral()
    assert all(n in proposal for n in ("Maarten de Vries", "Anna Jansen", "Bram Bakker"))
    names = [c["name"] for c in fake.calls_to("conversations.create")]
    assert names[0].startswith("test-group-maarten-de-vries-")
    assert {n.rsplit("-", 1)[0] for n in names[1:]} == {
        "test-maarten-de-vries-anna-jansen",
        "test-maarten-de-vries-bram-bakker",
    }

    english = slack.channel_named("test-maarten-de-vries-anna-jansen")
    welcome, *prompts = [m["text"] for m in maarten.posts(english)]
    assert welcome.startswith(
        "This is the private space of Maarten de Vries (mentor) and Anna Jansen (mentee)."
    )
    assert DIVIDER not in welcome  # both read English: no Dutch, in a Dutch programme
    assert sorted(p.split(":")[0] for p in prompts) == ["<@U0ANNA>", "<@U0MAARTEN>"]
    assert any("Let's fill in the introduction guide" in p and "Anna Jansen" in p for p in prompts)

    mixed = slack.channel_named("test-maarten-de-vries-bram-bakker")
    welcome, *prompts = [m["text"] for m in maarten.posts(mixed)]
    dutch, english_too = welcome.split(DIVIDER)  # the programme's language first
    assert dutch.startswith("Dit is de eigen ruimte van Maarten de Vries (mentor) en Bram Bakker")
    assert english_too.startswith("This is the private space of Maarten de Vries (mentor)")
    [for_bram] = [p for p in prompts if p.startswith("<@U0BRAM>: ")]
    assert "Laten we de kennismakingsgids invullen" in for_bram  # his question, his language

    group = slack.channel_named("test-group-maarten-de-vries-")
    [group_welcome] = [m["text"] for m in maarten.posts(group)]
    assert "Maarten de Vries" in group_welcome and DIVIDER in group_welcome
    assert any("Your mentor is Maarten de Vries" in t for t in anna.texts())

    # Maarten ticks Anna's first question: he is told whose it is, her buttons stay
    [annas] = [m for m in maarten.posts(english) if m["text"].startswith("<@U0ANNA>")]
    updates = len(fake.calls_to("chat.update"))
    await maarten.pick(annas, ["chat"])
    assert maarten.ephemeral()[-1] == "This one is for Anna Jansen: only they can answer it."
    assert len(fake.calls_to("chat.update")) == updates

    await cora.command("export")
    pairs_csv = slack.uploads_to("DUCOORD")["test-pairs.csv"].decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(pairs_csv)))
    assert {r["mentee"] for r in rows} == {"Anna Jansen", "Bram Bakker"}
    assert {r["mentor"] for r in rows} == {"Maarten de Vries"}

    latecomers = [slack.member(user) for user in LATECOMERS]
    for mentee in latecomers:
        await mentee.intake("mentee", MENTEE_FORM, mentee_typed())
    await cora.command("poll send midterm to mentees")
    for mentee in (anna, bram, *latecomers):
        for _ in range(8):  # every question, answered with its first option
            if "Thanks!" in mentee.texts()[-1] or "Bedankt!" in mentee.texts()[-1]:
                break
            await mentee.say("1")
    await cora.command("poll results midterm")
    responses = next(
        content
        for name, content in slack.uploads_to("DUCOORD").items()
        if name.endswith("-responses.csv")
    )
    assert "Anna Jansen" in responses.decode("utf-8-sig")

    everything = [c.params.get("text") or "" for c in fake.calls]
    assert not [t for t in everything if SECONDS.search(t)]


async def test_the_guide_and_the_first_meeting_in_each_members_own_zone(slack, clock) -> None:
    cora, maarten, anna, _ = await everyone_matched(slack)
    space = slack.channel_named("test-maarten-de-vries-anna-jansen")

    async def guide(person: Member) -> None:
        def mine() -> dict:
            return [m for m in person.posts(space) if m["text"].startswith(f"<@{person.user_id}>")][
                -1
            ]

        await person.pick(mine(), ["chat", "video"])
        await person.fill(mine(), {"phone": "", "email": ""})
        for typed in ("1", "1", "2", "2,3"):  # place, cadence, Tuesdays, afternoon/evening
            await person.mention(space, typed)
        await person.fill(mine(), {"second": "2026-12-01", "third": ""})
        await person.fill(mine(), {"thoughts": "freedom", "topics": "planning", "questions": ""})
        await person.fill(mine(), {"expectations": "honesty"})
        await person.fill(mine(), {"reply": "a day", "cancel": "a day ahead", "private": "all"})

    await guide(anna)
    await guide(maarten)
    posts = [m["text"] for m in maarten.posts(space)]
    assert any(p.startswith("The introduction guide is complete") for p in posts)

    with slack.bot.core.store.session() as session:
        starts = session.exec(select(Meeting)).one().starts_at
    new_york = moment(starts, "en", ["America/New_York"])
    amsterdam = moment(starts, "en", ["Europe/Amsterdam"])
    [to_anna] = [m for m in anna.posts(space) if m["text"].startswith("<@U0ANNA>: Time to plan")]
    [to_maarten] = [
        m for m in maarten.posts(space) if m["text"].startswith("<@U0MAARTEN>: Time to plan")
    ]
    assert f"with Maarten de Vries. My proposal: {new_york} (your time)" in to_anna["text"]
    assert f"with Anna Jansen. My proposal: {amsterdam} (your time)" in to_maarten["text"]

    await anna.click(to_anna, "yes")
    await maarten.click(to_maarten, "yes")
    confirmed = [m["text"] for m in maarten.posts(space) if "is confirmed for" in m["text"]]
    local = starts.astimezone(ZoneInfo("America/New_York"))
    both = moment(starts, "en", ["Europe/Amsterdam", "America/New_York"])
    assert confirmed == [
        f"Meeting 1 is confirmed for {both}. See you both then! I've sent each of you a "
        "calendar invite."
    ]
    assert "(Amsterdam) / " in confirmed[0] and "(New York)" in confirmed[0]
    [invite] = slack.uploads_to(anna.dm).values()
    ics = Calendar.from_ical(invite).to_ical().decode()
    assert f"DTSTART;TZID=America/New_York:{local:%Y%m%dT%H%M%S}" in ics
    assert "Mentoring: meeting 1 with Maarten de Vries" in ics

    clock.set(starts - timedelta(hours=1))
    await slack.bot.core.dispatcher.run_due()
    [reminder] = [t for t in anna.texts() if t.startswith("A reminder: meeting 1")]
    assert reminder.endswith(f"on {new_york}.")

    # the meeting happens, both say so: the certificates carry the names Slack gave
    clock.set(starts + timedelta(days=1))
    await slack.bot.core.dispatcher.run_due()
    for person in (anna, maarten):
        [asked] = [m for m in person.posts(person.dm) if "take place" in m["text"]]
        await person.click(asked, "yes")
    await cora.command("certificates")
    [pdf] = [c for n, c in slack.uploads_to(cora.dm).items() if n.endswith(".pdf")]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "certify that\nMaarten de Vries\ntook part as a mentor" in text

    everything = [c.params.get("text") or "" for c in slack.bot.fake.calls]
    assert not [t for t in everything if SECONDS.search(t)]


async def test_a_kick_off_looks_each_newcomer_up_once(slack: Workspace, clock) -> None:
    """Slack's Tier 4 spreads a crowd's lookups out (here one a second, one at once): each is
    planned for the turn kept for it, never tried and put off before; a newcomer's lookup
    still waiting when they say yes is the only one, and stores the name the yes allows. Only
    the first newcomer, looked up before their yes, is looked up again after it."""
    newcomers = {"U0NOOR": "Noor Nieuwenhuis", "U0NINA": "Nina Nijland", "U0NILS": "Nils Noord"}
    for user, name in newcomers.items():
        slack.bot.fake.add_user(user, name, locale="en-GB")
    seconds = [0.0]
    slack.bot.adapter.profiles.turns = Turns(1.0, burst=1, monotonic=lambda: seconds[0])
    for user in newcomers:
        member = slack.member(user)
        await member.say("hello")
        await member.click(member.last(), "yes")
    for _ in range(len(newcomers) + 1):  # each lookup is due at its turn
        seconds[0] += 1.0
        clock.advance(timedelta(seconds=1))
        await slack.bot.settle()
    asked = Counter(call["user"] for call in slack.bot.fake.calls_to("users.info"))
    assert asked == {"U0NOOR": 2, "U0NINA": 1, "U0NILS": 1}
    with slack.bot.core.store.session() as session:
        lookups = session.exec(select(OutboxItem).where(OutboxItem.kind == REFRESH)).all()
    assert len(lookups) == 4 and all(item.done_at for item in lookups)  # none put off
    for user, name in newcomers.items():
        member = slack.member(user)
        seen = len(member.texts())
        await member.command("name", channel=member.dm)
        said = member.texts()[seen]  # then the pending question again
        assert f"Others in your programme see you as {name}." in said
