"""Privacy at the Slack boundary: erasure through Slack leaves no account id or answer in the
database or its files, and the pair's welcome tells who can read along."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from adapters.slack import SlackAdapter
from tests.slack.slack_fake import FakeSlack
from tests.slack.support import load_payload, slack_config
from tests.slack.test_slack_with_core import Bot, click, dm, form_button
from tests.slack.workspace import MENTEE_FORM, MENTOR_FORM, MENTOR_TYPED, Workspace, mentee_typed
from tests.test_privacy_erasure import assert_gone, table_texts

HOPES = "pangolin-hope-3307: finish my thesis"
STUDIES = "Xylophonology"
_triggers = itertools.count(1)


def anna_command(text: str) -> dict[str, str]:
    """`/maatje <text>` typed by Anna in her direct chat with Maatje."""
    return load_payload("command_pair.json") | {
        "text": text,
        "user_id": "U0ANNA",
        "user_name": "anna",
        "channel_id": "DU0ANNA",
        "channel_name": "directmessage",
        "trigger_id": f"1700000900.{next(_triggers)}.trigger-anna",
    }


async def fill_studies_form(bot: Bot, message: dict[str, Any], programme: str) -> None:
    found = form_button(message)
    assert found, message["blocks"]
    opener = load_payload("block_actions_button.json")
    opener["actions"] = [{**found["element"], "block_id": found["block"]["block_id"]}]
    opener["trigger_id"] = f"{next(_triggers)}.form.trigger"
    await bot.post.interaction(opener)
    [opened] = await bot.fake.wait_for("views.open")
    submission = load_payload("view_submission.json")
    submission["trigger_id"] = f"{next(_triggers)}.submit.trigger"
    submission["view"].update(
        blocks=opened["view"]["blocks"],
        private_metadata=opened["view"]["private_metadata"],
        state={
            "values": {
                "programme": {"value": {"type": "plain_text_input", "value": programme}},
                "year": {"value": {"type": "number_input", "value": "2"}},
            }
        },
    )
    assert (await bot.post.interaction(submission)).status == 200


async def test_erasure_through_slack_leaves_no_trace(fake_slack: FakeSlack, core_factory) -> None:
    adapter = SlackAdapter(slack_config(fake_slack))
    bot = Bot(adapter, core_factory({"slack": adapter}), fake_slack)
    await adapter.start(bot.core)
    try:
        await bot.post.event(dm("hello"))
        await bot.settle()
        await bot.post.interaction(click(bot.messages()[-1], "yes"))
        await bot.settle()
        await bot.post.interaction(click(bot.messages()[-1], "mentee"))
        await bot.settle()
        await fill_studies_form(bot, bot.messages()[-1], STUDIES)
        await bot.settle()
        await bot.post.event(dm(HOPES))
        await bot.settle()
        assert "Which topics" in bot.messages()[-1]["text"]
        stored = table_texts(bot.core)
        assert all(t in stored for t in ("U0ANNA", "DU0ANNA", HOPES, STUDIES))

        await bot.post.command(anna_command("privacy erase"))
        await bot.settle()
        await bot.post.interaction(click(bot.messages()[-1], "confirm"))
        await bot.settle()
        assert "erased everything" in bot.messages()[-1]["text"]
        assert_gone(bot.core, ("U0ANNA", "DU0ANNA", HOPES, STUDIES))
    finally:
        await adapter.stop()


@pytest.mark.parametrize("join", [True, False])
async def test_the_pair_welcome_says_who_can_read_along(
    fake_slack: FakeSlack, core_factory, join: bool
) -> None:
    for user, name in (("U0MAARTEN", "Maarten"), ("U0ANNA", "Anna")):
        fake_slack.add_user(user, name)
    adapter = SlackAdapter(
        slack_config(fake_slack, coordinators_join_spaces=join), coordinators=["UCOORD"]
    )
    bot = Bot(adapter, core_factory({"slack": adapter}), fake_slack)
    await adapter.start(bot.core)
    try:
        slack = Workspace(bot)
        await slack.member("U0MAARTEN").intake("mentor", MENTOR_FORM, MENTOR_TYPED)
        await slack.member("U0ANNA").intake("mentee", MENTEE_FORM, mentee_typed())
        cora = slack.member("UCOORD")
        await cora.command("match")
        await cora.command("match approve")
        pair = next(c for c in fake_slack.channels.values() if c["name"].startswith("test-maa"))
        assert ("UCOORD" in pair["members"]) is join
        welcome = bot.messages(pair["id"])[0]["text"]
        assert "private space of Maarten (mentor) and Anna (mentee)" in welcome
        assert ("the programme's coordinators can read along here" in welcome) is join
        assert ("Only the two of you and Maatje are here" in welcome) is not join
    finally:
        await adapter.stop()
