"""Sending through the Web API client, and what a failure becomes."""

import time

import pytest

from adapters.slack import SlackAdapter
from adapters.slack.client import RATE_LIMITED_TRIES
from adapters.slack.delivery import classify
from bot.adapter import DeliveryError
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.replies import Attachment, Outgoing, OutgoingOption
from tests.slack.slack_fake import BOT_USER
from tests.slack.support import RecordingCore, slack_config

ANNA = PersonRef("slack", "T0TEAM", "U0ANNA")
PAIR = SpaceRef("slack", "T0TEAM", "G0PAIR", SpaceKind.PAIR)


def message(text: str = "Hello", **kwargs) -> Outgoing:
    return Outgoing(text, "en", "Europe/Amsterdam", **kwargs)


async def test_a_message_to_a_person_goes_to_their_dm(running) -> None:
    await running.adapter.send(ANNA, None, message("Hoi"), "key-1")
    [opened] = running.fake.calls_to("conversations.open")
    assert opened["users"] == "U0ANNA"
    [posted] = running.fake.calls_to("chat.postMessage")
    assert posted["channel"] == "DU0ANNA" and posted["text"] == "Hoi"
    assert posted["metadata"]["event_payload"] == {"key": "key-1"}
    await running.adapter.send(ANNA, None, message("Again"), "key-2")
    assert len(running.fake.calls_to("conversations.open")) == 1  # the DM channel is remembered


async def test_a_message_to_a_space_with_buttons(running) -> None:
    options = tuple(OutgoingOption(v, v.title()) for v in ("yes", "no"))
    await running.adapter.send(None, PAIR, message(choices=options, choice_token="f:3:ok"), "k")
    [posted] = running.fake.calls_to("chat.postMessage")
    assert posted["channel"] == "G0PAIR"
    assert [e["value"] for e in posted["blocks"][-1]["elements"]] == ["yes", "no"]


async def test_ephemeral_goes_to_one_person_in_the_space(running) -> None:
    await running.adapter.send(ANNA, PAIR, message("Only you", ephemeral=True), "k")
    [posted] = running.fake.calls_to("chat.postEphemeral")
    assert (posted["channel"], posted["user"]) == ("G0PAIR", "U0ANNA")
    assert running.fake.calls_to("chat.postMessage") == []


async def test_a_channel_the_bot_cannot_use_falls_back_to_the_dm(running) -> None:
    running.fake.fail("chat.postEphemeral", error="channel_not_found")
    await running.adapter.send(ANNA, PAIR, message("Status", ephemeral=True), "k")
    [posted] = running.fake.calls_to("chat.postMessage")
    assert posted["channel"] == "DU0ANNA"


async def test_long_text_is_sent_in_several_messages(running) -> None:
    text = "\n\n".join(["word " * 500] * 30)  # ~75,000 characters
    await running.adapter.send(ANNA, None, message(text), "k")
    posts = running.fake.calls_to("chat.postMessage")
    assert len(posts) >= 2
    assert all(len(p["text"]) <= 40000 for p in posts)


async def test_files_are_uploaded(running) -> None:
    files = (Attachment("export.csv", b"a,b\n1,2\n", "text/csv"),)
    await running.adapter.send(ANNA, None, message("Your export", files=files), "k")
    [complete] = running.fake.calls_to("files.completeUploadExternal")
    assert complete["channel_id"] == "DU0ANNA"
    assert list(running.fake.uploads.values()) == [b"a,b\n1,2\n"]


async def test_429_with_retry_after_delays_but_loses_nothing(running) -> None:
    running.fake.fail(
        "chat.postMessage", status=429, error="ratelimited", headers={"Retry-After": "1"}
    )
    started = time.monotonic()
    await running.adapter.send(None, PAIR, message("Patience"), "k")
    assert time.monotonic() - started >= 1.0
    posts = running.fake.calls_to("chat.postMessage")
    assert len(posts) == 2  # refused once, then accepted: one message in the channel
    assert posts[0] == posts[1]


async def test_persistent_429_is_retryable_with_slacks_hint(running) -> None:
    running.fake.fail(
        "chat.postMessage",
        status=429,
        error="ratelimited",
        headers={"Retry-After": "1"},
        times=RATE_LIMITED_TRIES,
    )
    with pytest.raises(DeliveryError) as caught:
        await running.adapter.send(None, PAIR, message(), "k")
    assert caught.value.retry_after == 1.0 and not caught.value.permanent
    assert len(running.fake.calls_to("chat.postMessage")) == RATE_LIMITED_TRIES


async def test_a_long_retry_after_goes_back_to_the_outbox_at_once(running) -> None:
    running.fake.fail(
        "chat.postMessage", status=429, error="ratelimited", headers={"Retry-After": "30"}
    )
    with pytest.raises(DeliveryError) as caught:
        await running.adapter.send(None, PAIR, message(), "k")
    assert caught.value.retry_after == 30.0 and not caught.value.permanent
    assert len(running.fake.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize(
    ("failure", "permanent"),
    [
        ({"error": "invalid_auth"}, True),
        ({"error": "channel_not_found"}, True),
        ({"error": "is_archived"}, True),
        ({"error": "internal_error"}, False),
        ({"status": 503}, False),
        ({"status": 500}, False),
    ],
)
async def test_failures_are_classified(running, failure, permanent) -> None:
    running.fake.fail("chat.postMessage", **failure)
    with pytest.raises(DeliveryError) as caught:
        await running.adapter.send(None, PAIR, message(), "k")
    assert caught.value.permanent is permanent
    assert caught.value.retry_after is None


async def test_an_unreachable_slack_is_retryable(fake_slack) -> None:
    adapter = SlackAdapter(slack_config(fake_slack))
    await adapter.start(RecordingCore())
    await fake_slack.stop()  # Slack goes away: connections are refused
    try:
        with pytest.raises(DeliveryError) as caught:
            await adapter.send(None, PAIR, message(), "k")
        assert not caught.value.permanent
    finally:
        await adapter.stop()


def test_classify_unexpected_errors_as_retryable() -> None:
    error = classify(TimeoutError())
    assert isinstance(error, DeliveryError) and not error.permanent


def test_bot_user_is_known(running) -> None:
    assert running.adapter.bot_user_id == BOT_USER and running.adapter.team_id == "T0TEAM"
