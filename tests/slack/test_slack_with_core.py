"""The adapter with the real core: intake through Slack, clicks, a retried event, a restart.

Slack's side is played by signed HTTP requests into the adapter and the fake Web API; the
core runs on SQLite and PostgreSQL (tests/conftest.py) and its outbox is flushed with
`core.dispatcher.run_due()`.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.slack import SlackAdapter, ids
from tests.slack.slack_fake import FakeSlack
from tests.slack.support import SlackPoster, load_payload, slack_config

ANNA_DM = "DU0ANNA"  # the fake's conversations.open answer for U0ANNA
_counter = itertools.count(1)


@dataclass
class Bot:
    adapter: SlackAdapter
    core: Any
    fake: FakeSlack

    @property
    def post(self) -> SlackPoster:
        return SlackPoster(f"http://127.0.0.1:{self.adapter.port}/slack/events")

    async def settle(self) -> None:
        """Let the adapter hand everything to the core, then send what the core queued."""
        await self.adapter.idle()
        await self.core.dispatcher.run_due()

    def messages(self, channel: str = ANNA_DM) -> list[dict[str, Any]]:
        return [m for m in self.fake.calls_to("chat.postMessage") if m["channel"] == channel]

    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages()]


async def start_bot(fake: FakeSlack, core_factory: Any) -> Bot:
    adapter = SlackAdapter(slack_config(fake))
    core = core_factory({"slack": adapter})
    await adapter.start(core)
    return Bot(adapter, core, fake)


@pytest.fixture
async def bot(fake_slack: FakeSlack, core_factory: Any) -> AsyncIterator[Bot]:
    running = await start_bot(fake_slack, core_factory)
    yield running
    await running.adapter.stop()


def dm(text: str, event_id: str | None = None) -> dict[str, Any]:
    body = load_payload("event_message_im.json")
    n = next(_counter)
    body["event_id"] = event_id or f"Ev{n:08d}"
    body["event"].update(text=text, ts=f"1700001000.{n:06d}", channel="DU0ANNA")
    return body


def click(message: dict[str, Any], value: str) -> dict[str, Any]:
    """The block_actions payload Slack sends when Anna picks `value` in a posted message."""
    body = load_payload("block_actions_button.json")
    n = next(_counter)
    body["trigger_id"] = f"{n}.1.trigger"
    body["channel"]["id"] = body["container"]["channel_id"] = message["channel"]
    body["message"] = {"ts": f"1700002000.{n:06d}", "text": message["text"], **message}
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element["type"] == "button" and element.get("value") == value:
                action = {**element, "block_id": block["block_id"], "action_ts": f"{n}.0"}
                body["actions"] = [action]
                return body
            if element["type"] == "static_select":
                option = next((o for o in element["options"] if o["value"] == value), None)
                if option:
                    action = {**element, "block_id": block["block_id"], "selected_option": option}
                    body["actions"] = [action]
                    return body
    raise AssertionError(f"no option {value!r} in {message['blocks']}")


def form_button(message: dict[str, Any]) -> dict[str, Any] | None:
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == ids.OPEN_FORM:
                return {"block": block, "element": element}
    return None


async def test_intake_through_slack_with_clicks_and_a_form(bot: Bot) -> None:
    assert (await bot.post.event(dm("hello"))).status == 200
    await bot.settle()
    consent = bot.messages()[-1]
    assert "May I store your answers" in consent["text"]

    await bot.post.interaction(click(consent, "yes"))
    await bot.settle()
    role = bot.messages()[-1]
    assert "mentee" in role["text"]
    assert len(bot.fake.calls_to("chat.update")) == 1  # the consent buttons made way

    await bot.post.interaction(click(role, "mentee"))
    await bot.settle()
    studies = bot.messages()[-1]
    found = form_button(studies)
    assert found, studies["blocks"]

    opener = load_payload("block_actions_button.json")
    opener["actions"] = [{**found["element"], "block_id": found["block"]["block_id"]}]
    await bot.post.interaction(opener)
    [opened] = await bot.fake.wait_for("views.open")
    modal = opened["view"]
    fields = [b["block_id"] for b in modal["blocks"]]
    assert fields == ["programme", "year"]

    submission = load_payload("view_submission.json")
    submission["view"].update(
        blocks=modal["blocks"],
        private_metadata=modal["private_metadata"],
        state={
            "values": {
                "programme": {"value": {"type": "plain_text_input", "value": "Law"}},
                "year": {"value": {"type": "number_input", "value": "42"}},
            }
        },
    )
    answer = await bot.post.interaction(submission)
    assert answer.json()["response_action"] == "errors"
    assert list(answer.json()["errors"]) == ["year"]

    submission["trigger_id"] = "retyped.1.trigger"
    submission["view"]["state"]["values"]["year"]["value"]["value"] = "2"
    answer = await bot.post.interaction(submission)
    assert answer.status == 200 and answer.text == ""
    await bot.settle()
    assert "hope" in bot.messages()[-1]["text"]


async def test_a_retried_event_is_answered_once(bot: Bot) -> None:
    body = dm("hello", event_id="Ev0RETRIED")
    await bot.post.event(body)
    await bot.settle()
    answered = len(bot.messages())
    assert answered >= 1
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await bot.post.event(body, headers=retry)).status == 200
    await bot.settle()
    assert len(bot.messages()) == answered


async def test_the_conversation_survives_a_restart(fake_slack: FakeSlack, core_factory) -> None:
    first = await start_bot(fake_slack, core_factory)
    await first.post.event(dm("hello"))
    await first.settle()
    await first.post.interaction(click(first.messages()[-1], "yes"))
    await first.settle()
    role = first.messages()[-1]
    await first.adapter.stop()

    second = await start_bot(fake_slack, core_factory)  # a new process on the same database
    try:
        await second.post.interaction(click(role, "mentor"))  # a button sent before restart
        await second.settle()
        assert "background" in second.messages()[-1]["text"]
    finally:
        await second.adapter.stop()


async def test_home_tab_with_the_real_core(bot: Bot) -> None:
    await bot.post.event(load_payload("event_app_home_opened.json"))
    [published] = await bot.fake.wait_for("views.publish")
    assert published["view"]["type"] == "home"
    assert published["view"]["blocks"][0]["type"] == "header"


async def test_health_with_the_real_core(bot: Bot) -> None:
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{bot.adapter.port}/healthz") as response,
    ):
        assert (response.status, await response.text()) == (200, "ok")


async def test_a_slash_command_in_a_channel_is_answered_to_that_person_only(bot: Bot) -> None:
    fields = load_payload("command_pair.json") | {"text": "help"}
    answer = await bot.post.command(fields)
    assert answer.status == 200 and answer.text == ""
    await bot.settle()
    [reply] = bot.fake.calls_to("chat.postEphemeral")
    assert (reply["channel"], reply["user"]) == ("C0GENERAL", "U0CORA")
    assert "help" in reply["text"] or "can do" in reply["text"]
