"""The safety net over Slack: signed events into the adapter, the real core on SQLite and
PostgreSQL, and what Slack's Web API (the fake) was asked to post. Everyone here exists only
because they wrote to Maatje in Slack."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.slack.slack_fake import FakeSlack
from tests.slack.support import load_payload
from tests.slack.test_slack_with_core import Bot, click, start_bot

CRISIS = "113 Zelfmoordpreventie, 0800-0113"
_counter = itertools.count(1)


def dm(user: str, text: str) -> dict[str, Any]:
    """A direct message from `user` in their DM with the bot (the fake opens `D<user>`)."""
    body = load_payload("event_message_im.json")
    n = next(_counter)
    body["event_id"] = f"EvSAFE{n:06d}"
    body["event"].update(user=user, text=text, channel=f"D{user}", ts=f"1700003000.{n:06d}")
    return body


@pytest.fixture
async def bot(fake_slack: FakeSlack, database_url: str, clock: Any) -> AsyncIterator[Bot]:
    from bot.testing import build_core, programme_config

    core = None

    def factory(adapters: dict[str, Any]) -> Any:
        nonlocal core
        programme = programme_config(language="nl", crisis_line=CRISIS)
        core = build_core(database_url, clock, adapters, programmes=(programme,))
        return core

    running = await start_bot(fake_slack, factory)
    yield running
    await running.adapter.stop()
    assert core is not None
    core.store.dispose()


def posted(bot: Bot, channel: str) -> list[dict[str, Any]]:
    return [m for m in bot.fake.calls_to("chat.postMessage") if m["channel"] == channel]


async def test_worrying_words_in_slack_reach_the_coordinator_by_account(bot: Bot) -> None:
    await bot.post.event(dm("UCOORD", "hallo"))  # the coordinator makes herself known
    await bot.post.event(dm("U0ANNA", "hallo"))
    await bot.settle()
    consent = posted(bot, "DU0ANNA")[-1]
    assert "Mag ik je antwoorden" in consent["text"]

    answer = await bot.post.event(dm("U0ANNA", "Ik wil er niet meer zijn"))
    assert answer.status == 200
    await bot.settle()
    told = posted(bot, "DU0ANNA")[-1]
    assert CRISIS in told["text"] and "Mag een coördinator contact met je opnemen?" in told["text"]
    notice = posted(bot, "DUCOORD")[-1]["text"]
    assert "Slack-account U0ANNA" in notice and "niet meer zijn" not in notice

    await bot.post.interaction(click(told, "yes"))
    await bot.settle()
    assert "wil graag dat een coördinator contact opneemt" in posted(bot, "DUCOORD")[-1]["text"]
    share = posted(bot, "DU0ANNA")[-1]
    assert "Mag ik doorgeven wat je schreef" in share["text"]
    await bot.post.interaction(click(share, "no"))
    await bot.settle()
    texts = [m["text"] for m in posted(bot, "DU0ANNA")]
    assert "ik heb het gewist" in texts[-3]
    assert texts[-2] == "Terug naar waar we gebleven waren:"
    assert "Mag ik je antwoorden" in texts[-1]  # the intake goes on where it was
    assert not any("niet meer zijn" in m["text"] for m in posted(bot, "DUCOORD"))

    home = load_payload("event_app_home_opened.json")
    home["event"].update(user="UCOORD", channel="DUCOORD")
    await bot.post.event(home)
    [published] = await bot.fake.wait_for("views.publish")
    shown = str(published["view"]["blocks"])
    assert "Veiligheidsnet: neem contact op met Slack-account U0ANNA" in shown

    anna_home = load_payload("event_app_home_opened.json") | {"event_id": "Ev0HOME2"}
    await bot.post.event(anna_home)
    views = await bot.fake.wait_for("views.publish", count=2)
    assert "Veiligheidsnet" not in str(views[1]["view"]["blocks"])


async def test_help_now_as_a_slash_command_in_a_channel(bot: Bot) -> None:
    await bot.post.event(dm("UCOORD", "hallo"))
    await bot.post.event(dm("U0ANNA", "hallo"))
    await bot.settle()
    fields = load_payload("command_pair.json") | {
        "text": "help now",
        "user_id": "U0ANNA",
        "trigger_id": "1700004000.1.trigger",
    }
    answer = await bot.post.command(fields)
    assert answer.status == 200
    await bot.settle()
    told = posted(bot, "DU0ANNA")[-1]["text"]
    assert told.startswith("Je vroeg om hulp.") and CRISIS in told
    [ephemeral] = bot.fake.calls_to("chat.postEphemeral")
    assert ephemeral["user"] == "U0ANNA" and "privébericht" in ephemeral["text"]
    channel = fields["channel_id"]
    assert not any("hulp" in m["text"] for m in posted(bot, channel))
    assert "vroeg om hulp" in posted(bot, "DUCOORD")[-1]["text"]
