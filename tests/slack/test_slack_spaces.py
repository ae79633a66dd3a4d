"""Private channels for pairs and groups: Slack's naming rules, and found again by key."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.slack import SlackAdapter
from adapters.slack.spaces import channel_name
from bot.adapter import DeliveryError
from bot.events import PersonRef, SpaceKind, SpaceRef
from tests.slack.slack_fake import BOT_USER
from tests.slack.support import RecordingCore, slack_config

VALID = re.compile(r"[a-z0-9][a-z0-9_-]{0,79}")
ANNA = PersonRef("slack", "T0TEAM", "U0ANNA")
BRAM = PersonRef("slack", "T0TEAM", "U0BRAM")


def test_channel_names_follow_slacks_rules() -> None:
    name = channel_name("Anna & Bram (Rechten 2026)", "pair:12")
    assert re.fullmatch(r"anna-bram-rechten-2026-[0-9a-f]{6}", name)
    assert channel_name("Ünïcödé Groep.1", "k").startswith("unicode-groep-1-")
    assert len(channel_name("x" * 300, "k")) <= 80
    assert channel_name("🙂🙂", "k").startswith("maatje-")


def test_the_same_key_gives_the_same_name_and_other_keys_another() -> None:
    assert channel_name("Anna & Bram", "pair:1") == channel_name("Anna & Bram", "pair:1")
    assert channel_name("Anna & Bram", "pair:1") != channel_name("Anna & Bram", "pair:2")


@given(st.text(), st.text(min_size=1))
def test_any_name_becomes_a_valid_channel_name(name: str, key: str) -> None:
    assert VALID.fullmatch(channel_name(name, key))


async def test_open_space_creates_a_private_channel_and_invites(running) -> None:
    space = await running.adapter.open_space(SpaceKind.PAIR, "Anna & Bram", [ANNA, BRAM], "p:1")
    [created] = running.fake.calls_to("conversations.create")
    assert created["name"] == channel_name("Anna & Bram", "p:1")
    assert created["is_private"] in (True, "true", "1")
    [invite] = running.fake.calls_to("conversations.invite")
    assert invite["users"] == "U0ANNA,U0BRAM"
    assert space == SpaceRef("slack", "T0TEAM", space.channel_id, SpaceKind.PAIR)
    assert set(running.fake.channels[space.channel_id]["members"]) == {BOT_USER, "U0ANNA", "U0BRAM"}


async def test_open_space_again_after_a_restart_reuses_the_channel(fake_slack) -> None:
    fake_slack.add_channel("some-other-channel", [BOT_USER])
    fake_slack.add_channel("and-another", [BOT_USER])  # the match is on the second page
    first = SlackAdapter(slack_config(fake_slack))
    await first.start(RecordingCore())
    space = await first.open_space(SpaceKind.PAIR, "Anna & Bram", [ANNA], "p:1")
    await first.stop()

    second = SlackAdapter(slack_config(fake_slack))  # nothing kept in memory
    await second.start(RecordingCore())
    try:
        again = await second.open_space(SpaceKind.PAIR, "Anna & Bram", [ANNA, BRAM], "p:1")
    finally:
        await second.stop()
    assert again == space
    assert len(fake_slack.channels) == 3
    assert len(fake_slack.calls_to("conversations.list")) == 2
    invites = fake_slack.calls_to("conversations.invite")
    assert [i["users"] for i in invites] == ["U0ANNA", "U0BRAM"]  # only who was missing


async def test_open_space_again_with_everyone_there_invites_no_one(running) -> None:
    await running.adapter.open_space(SpaceKind.GROUP, "Groep 3", [ANNA, BRAM], "g:3")
    await running.adapter.open_space(SpaceKind.GROUP, "Groep 3", [ANNA, BRAM], "g:3")
    assert len(running.fake.calls_to("conversations.invite")) == 1
    assert len(running.fake.channels) == 1


async def test_an_archived_channel_is_brought_back(running) -> None:
    channel = running.fake.add_channel(channel_name("Groep 3", "g:3"), [BOT_USER], archived=True)
    space = await running.adapter.open_space(SpaceKind.GROUP, "Groep 3", [ANNA], "g:3")
    assert space.channel_id == channel
    assert running.fake.calls_to("conversations.unarchive") == [{"channel": channel}]


async def test_a_name_taken_by_a_channel_the_bot_is_not_in_is_permanent(running) -> None:
    running.fake.add_channel(channel_name("Groep 3", "g:3"), ["U0SOMEONE"])
    with pytest.raises(DeliveryError) as caught:
        await running.adapter.open_space(SpaceKind.GROUP, "Groep 3", [ANNA], "g:3")
    assert caught.value.permanent


async def test_coordinators_join_when_configured(fake_slack) -> None:
    adapter = SlackAdapter(
        slack_config(fake_slack, coordinators_join_spaces=True), coordinators=["U0CORA"]
    )
    await adapter.start(RecordingCore())
    try:
        await adapter.open_space(SpaceKind.PAIR, "Anna & Bram", [ANNA, BRAM], "p:1")
    finally:
        await adapter.stop()
    [invite] = fake_slack.calls_to("conversations.invite")
    assert invite["users"] == "U0ANNA,U0BRAM,U0CORA"


async def test_coordinators_stay_out_by_default(fake_slack) -> None:
    adapter = SlackAdapter(slack_config(fake_slack), coordinators=["U0CORA"])
    await adapter.start(RecordingCore())
    try:
        await adapter.open_space(SpaceKind.PAIR, "Anna & Bram", [ANNA], "p:1")
    finally:
        await adapter.stop()
    [invite] = fake_slack.calls_to("conversations.invite")
    assert invite["users"] == "U0ANNA"
