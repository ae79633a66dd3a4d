"""Slack's rate limits as the adapter keeps them: per channel, per workspace, per method tier."""

from __future__ import annotations

import pytest

from adapters.slack.limits import CHANNEL_BURST, METHODS, TIERS, SlackLimits
from tests.slack.slack_fake import FakeSlack
from tests.test_pacing import FakeTime


def limits(time: FakeTime) -> SlackLimits:
    return SlackLimits(monotonic=time.monotonic, sleep=time.sleep)


async def test_messages_go_one_a_second_per_channel_after_a_short_burst() -> None:
    time = FakeTime()
    slack = limits(time)
    for _ in range(CHANNEL_BURST + 2):
        await slack.before("chat.postMessage", "D1")
    assert time.now == pytest.approx(2.0, abs=0.05)  # the burst at once, then one a second
    await slack.before("chat.postMessage", "D2")  # another channel does not wait
    assert time.now == pytest.approx(2.0, abs=0.05)


async def test_a_kick_off_is_not_held_to_a_guess_of_the_workspace_ceiling() -> None:
    """Slack publishes no workspace ceiling: until it refuses something, three hundred people's
    first replies leave at once, not at a rate guessed in advance."""
    time = FakeTime()
    slack = limits(time)
    for n in range(300):
        await slack.before("chat.postMessage", f"D{n}")
    assert time.now < 0.5


async def test_a_refused_channel_at_its_own_limit_pauses_alone() -> None:
    time = FakeTime()
    slack = limits(time)
    for _ in range(CHANNEL_BURST):  # D1 used its burst: Slack may have refused it for that
        sent = await slack.before("chat.postMessage", "D1")
    slack.refused("chat.postMessage", "D1", sent, 3.0)
    assert slack.workspace.cuts == 0
    refused_at = time.now
    await slack.before("chat.postMessage", "D2")
    assert time.now - refused_at < 0.1  # another channel does not wait for D1's pause
    await slack.before("chat.postMessage", "D1")
    assert time.now - refused_at == pytest.approx(3.0)


async def test_a_refused_channel_within_its_allowance_means_the_workspace_ceiling() -> None:
    time = FakeTime()
    slack = limits(time)
    await slack.before("chat.postMessage", "D0")
    slack.accepted("chat.postMessage")
    sent = await slack.before("chat.postMessage", "D1")
    slack.refused("chat.postMessage", "D1", sent, 1.0)
    assert slack.workspace.cuts == 1
    await slack.before("chat.postMessage", "D2")
    assert time.now == pytest.approx(1.0, abs=0.05)  # Retry-After, then its turn


async def test_refusals_in_two_channels_mean_the_workspace_ceiling() -> None:
    time = FakeTime()
    slack = limits(time)
    for n in range(30):  # 30 messages in a second went through
        await slack.before("chat.postMessage", f"D{n}")
        slack.accepted("chat.postMessage")
        time.now += 1 / 30
    for channel in ("DA", "DB"):  # both at their own limit: each alone would be ambiguous
        for _ in range(CHANNEL_BURST - 1):
            await slack.before("chat.postMessage", channel)
    first = await slack.before("chat.postMessage", "DA")
    second = await slack.before("chat.postMessage", "DB")
    slack.refused("chat.postMessage", "DA", first, 1.0)
    assert slack.workspace.cuts == 0
    slack.refused("chat.postMessage", "DB", second, 1.0)
    assert slack.workspace.cuts == 1
    assert slack.workspace.rate < 30
    assert slack.workspace.paused_for() == pytest.approx(1.0)
    before = time.now
    await slack.before("chat.postMessage", "DC")  # a third channel waits out the pause too
    assert time.now - before == pytest.approx(1.0)


async def test_other_methods_are_paced_by_their_tier_and_paused_alone() -> None:
    time = FakeTime()
    slack = limits(time)
    tier = TIERS[METHODS["conversations.create"]]
    for _ in range(tier.burst + 1):
        await slack.before("conversations.create", None)
    assert time.now == pytest.approx(60 / tier.per_minute)
    sent = await slack.before("users.info", None)
    slack.refused("users.info", None, sent, 5.0)
    started = time.now
    await slack.before("conversations.invite", None)  # another method goes on
    assert time.now == started
    await slack.before("users.info", None)
    assert time.now - started == pytest.approx(5.0)


def test_every_web_api_method_the_fake_answers_has_a_tier() -> None:
    """The fake answers the methods the adapter calls: each belongs in the tier table."""
    families = ("apps", "auth", "chat", "conversations", "files", "users", "views")
    answered = {
        name[1:].replace("_", ".")
        for name in vars(FakeSlack)
        if name.startswith("_") and name[1:].split("_")[0] in families
    }
    assert answered, "the fake answers no methods?"
    assert answered - set(METHODS) == {"chat.postMessage"}  # paced per channel and workspace
