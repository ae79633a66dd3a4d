"""Signed requests into the adapter's HTTP server, exactly as Slack sends them."""

import asyncio
import json
import logging
import time
from urllib.parse import urlencode

import aiohttp
import pytest

from adapters.slack import SlackAdapter
from adapters.slack.render import render_messages
from bot.adapter import DeliveryError
from bot.events import Choice, Command, FormSubmitted, Message, SpaceKind
from bot.replies import FieldKind, Outgoing, OutgoingField, OutgoingForm
from tests.slack.slack_fake import BOT_TOKEN
from tests.slack.support import (
    SECRET,
    RecordingCore,
    post_to_slack_endpoint,
    slack_config,
)


async def test_url_verification_answers_the_challenge(running, slack_post, payload) -> None:
    answer = await slack_post.event(payload("url_verification.json"))
    assert answer.status == 200
    assert answer.json() == {"challenge": payload("url_verification.json")["challenge"]}


async def test_forged_signature_is_refused_and_changes_nothing(running, slack_post, payload):
    answer = await slack_post.event(payload("event_message_im.json"), signature="v0=" + "0" * 64)
    assert answer.status == 401
    answer = await slack_post.event(payload("event_message_im.json"), secret="not-the-secret")
    assert answer.status == 401
    await running.adapter.idle()
    assert running.core.events == []
    assert [c.method for c in running.fake.calls] == ["auth.test"]


async def test_stale_request_is_refused(running, slack_post, payload) -> None:
    stale = int(time.time()) - 10 * 60  # correctly signed, but ten minutes old: a replay
    answer = await slack_post.event(payload("event_message_im.json"), timestamp=stale)
    assert answer.status == 401
    await running.adapter.idle()
    assert running.core.events == []


async def test_unsigned_request_is_refused(running, payload) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(running.url + "/slack/events", json=payload("event_message_im.json")) as r,
    ):
        assert r.status == 401
    assert running.core.events == []


async def test_direct_message_reaches_the_core(running, slack_post, payload) -> None:
    answer = await slack_post.event(payload("event_message_im.json"))
    assert answer.status == 200
    await running.adapter.idle()
    [event] = running.core.events
    assert isinstance(event, Message)
    assert event.event_id == "Ev0MESSAGE1" and event.space.channel_id == "D0ANNA"


async def test_slack_retry_carries_the_same_event_id(running, slack_post, payload) -> None:
    body = payload("event_message_im.json")
    await slack_post.event(body)
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    answer = await slack_post.event(body, headers=retry)
    assert answer.status == 200
    await running.adapter.idle()
    assert [e.event_id for e in running.core.events] == ["Ev0MESSAGE1", "Ev0MESSAGE1"]


async def test_mention_in_a_channel_is_a_message_there(running, slack_post, payload) -> None:
    await slack_post.event(payload("event_app_mention.json"))
    await running.adapter.idle()
    [event] = running.core.events
    assert isinstance(event, Message)
    assert event.text == "when is our next meeting?" and event.space.channel_id == "G0PAIR"


async def test_bot_and_edited_messages_are_acknowledged_and_ignored(running, slack_post, payload):
    for name in ("event_bot_message.json", "event_message_changed.json", "event_own_message.json"):
        assert (await slack_post.event(payload(name))).status == 200
    await running.adapter.idle()
    assert running.core.events == []


async def test_unknown_events_are_acknowledged(running, slack_post, payload) -> None:
    body = payload("event_app_mention.json")
    body["event"] = {"type": "reaction_added", "user": "U0ANNA", "reaction": "tada"}
    assert (await slack_post.event(body)).status == 200


async def test_slash_command_becomes_a_command(running, slack_post, payload) -> None:
    answer = await slack_post.command(payload("command_pair.json"))
    assert answer.status == 200 and answer.text == ""
    await running.adapter.idle()
    [event] = running.core.events
    assert isinstance(event, Command)
    assert (event.name, event.args) == ("pair", ("@U0ANNA", "now"))


async def test_command_name_comes_from_config(fake_slack, payload) -> None:
    adapter = SlackAdapter(slack_config(fake_slack, command="/mentor", path="/hooks/slack"))
    core = RecordingCore()
    await adapter.start(core)
    try:
        url = f"http://127.0.0.1:{adapter.port}/hooks/slack"
        body = payload("command_pair.json") | {"command": "/mentor", "text": "help"}
        answer = await post_to_slack_endpoint(
            url, urlencode(body), "application/x-www-form-urlencoded"
        )
        assert answer.status == 200
        await adapter.idle()
        assert [e.name for e in core.events] == ["help"]  # type: ignore[attr-defined]
    finally:
        await adapter.stop()


async def test_button_click_is_a_choice_and_the_buttons_make_way(running, slack_post, payload):
    answer = await slack_post.interaction(payload("block_actions_button.json"))
    assert answer.status == 200
    await running.adapter.idle()
    [event] = running.core.events
    assert isinstance(event, Choice)
    assert (event.token, event.values) == ("f:12:role", ("mentee",))
    [update] = running.fake.calls_to("chat.update")
    assert update["channel"] == "D0ANNA" and update["ts"] == "1700000700.000700"
    assert [b["type"] for b in update["blocks"]] == ["section", "context"]
    assert update["blocks"][-1]["elements"][0]["text"] == "✓ Mentee"


async def test_ticking_a_checkbox_waits_for_submit(running, slack_post, payload) -> None:
    answer = await slack_post.interaction(payload("block_actions_checkbox_toggle.json"))
    assert answer.status == 200
    await running.adapter.idle()
    assert running.core.events == []
    answer = await slack_post.interaction(payload("block_actions_multi_submit.json"))
    await running.adapter.idle()
    [event] = running.core.events
    assert isinstance(event, Choice) and event.values == ("planning", "career")


def _form_click(running, payload) -> dict:
    form = OutgoingForm(
        "goals:7",
        "Goals",
        "Send",
        "Fill in",
        (
            OutgoingField("goal", "Your goal", FieldKind.LONG_TEXT, True, 500),
            OutgoingField("hours", "Hours", FieldKind.NUMBER, False, 3),
        ),
    )
    block = render_messages(Outgoing("Your goals?", "en", "UTC", form=form))[0]["blocks"][-1]
    body = payload("block_actions_button.json")
    body["actions"] = [{**block["elements"][0], "block_id": block["block_id"], "action_ts": "9.1"}]
    return body


async def test_form_button_opens_the_modal(running, slack_post, payload) -> None:
    answer = await slack_post.interaction(_form_click(running, payload))
    assert answer.status == 200
    [opened] = await running.fake.wait_for("views.open")
    assert opened["trigger_id"] == "1700000701.1.trigger-button"
    view = opened["view"]
    assert view["type"] == "modal" and [b["block_id"] for b in view["blocks"]] == ["goal", "hours"]
    assert json.loads(view["private_metadata"]) == {"f": "goals:7", "c": "D0ANNA", "k": "direct"}
    await running.adapter.idle()
    assert running.core.events == []


async def test_form_errors_are_answered_inline(running, slack_post, payload) -> None:
    running.core.form_errors = {"goal": "Please write at least a sentence.", "ignored": "x"}
    answer = await slack_post.interaction(payload("view_submission.json"))
    assert answer.status == 200
    assert answer.json() == {
        "response_action": "errors",
        "errors": {"goal": "Please write at least a sentence."},
    }
    [event] = running.core.events
    assert isinstance(event, FormSubmitted)
    assert event.form_id == "goals:7" and event.values["hours"] == "4"
    assert event.space.kind is SpaceKind.DIRECT


async def test_valid_form_closes_the_modal(running, slack_post, payload) -> None:
    answer = await slack_post.interaction(payload("view_submission.json"))
    assert answer.status == 200 and answer.text == ""
    assert len(running.core.events) == 1


async def test_home_tab_shows_the_persons_overview(running, slack_post, payload) -> None:
    await slack_post.event(payload("event_app_home_opened.json"))
    [published] = await running.fake.wait_for("views.publish")
    assert published["user_id"] == "U0ANNA"
    view = published["view"]
    assert view["type"] == "home"
    texts = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert texts == ["Mentoraat &lt;Rechten&gt;", "Tue 14:00", "• Intake"]


async def test_messages_tab_opening_publishes_nothing(running, slack_post, payload) -> None:
    body = payload("event_app_home_opened.json")
    body["event"]["tab"] = "messages"
    await slack_post.event(body)
    await running.adapter.idle()
    assert running.fake.calls_to("views.publish") == []


async def test_health(running) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(running.url + "/healthz") as r:
            assert (r.status, await r.text()) == (200, "ok")
        running.core.is_healthy = False
        async with session.get(running.url + "/healthz") as r:
            assert r.status == 503


async def test_a_failing_core_still_gets_slack_a_200(running, slack_post, payload, caplog):
    running.core.fail_with = RuntimeError("database is gone")
    answer = await slack_post.event(payload("event_message_im.json"))
    assert answer.status == 200
    answer = await slack_post.interaction(payload("view_submission.json"))
    assert answer.status == 200 and answer.text == ""
    await running.adapter.idle()
    assert "database is gone" in caplog.text


async def test_slack_is_answered_before_the_core_finishes(running, slack_post, payload) -> None:
    gate = asyncio.Event()
    handled = running.core.handle

    async def slow_handle(event):
        await gate.wait()
        return await handled(event)

    running.core.handle = slow_handle  # type: ignore[method-assign]
    answer = await asyncio.wait_for(slack_post.event(payload("event_message_im.json")), 3)
    assert answer.status == 200 and running.core.events == []
    gate.set()
    await running.adapter.idle()
    assert len(running.core.events) == 1


async def test_tokens_never_reach_the_logs(running, slack_post, payload, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    await slack_post.event(payload("event_message_im.json"))
    await slack_post.interaction(payload("block_actions_button.json"))
    await slack_post.event(payload("event_message_im.json"), secret="wrong")
    await running.adapter.idle()
    space = running.core.events[0].space
    await running.adapter.send(None, space, Outgoing("x", "en", "UTC"), "k")
    running.fake.fail("chat.postMessage", error="invalid_auth")
    with pytest.raises(DeliveryError):
        await running.adapter.send(None, space, Outgoing("x", "en", "UTC"), "k")
    assert BOT_TOKEN not in caplog.text and SECRET not in caplog.text
    assert "xoxb-" not in caplog.text
