"""Socket Mode against a loopback websocket, and wiring from the whole configuration."""

import pytest

from adapters.slack import SlackAdapter, create_adapter
from bot.config import Config
from bot.events import Command, Message
from bot.testing import programme_config
from tests.slack.slack_fake import APP_TOKEN
from tests.slack.support import RecordingCore, slack_config


async def test_socket_mode_receives_events_and_acknowledges(fake_slack, payload) -> None:
    adapter = SlackAdapter(slack_config(fake_slack, mode="socket", signing_secret=None))
    core = RecordingCore()
    await adapter.start(core)
    try:
        assert adapter.port is None  # no HTTP server in Socket Mode
        await fake_slack.wait_for_socket()
        [opened] = [c for c in fake_slack.calls if c.method == "apps.connections.open"]
        assert opened.token == APP_TOKEN
        await fake_slack.push(
            {
                "envelope_id": "env-1",
                "type": "events_api",
                "accepts_response_payload": False,
                "retry_attempt": 0,
                "retry_reason": "",
                "payload": payload("event_message_im.json"),
            }
        )
        await fake_slack.wait_for_ack("env-1")
        await fake_slack.push(
            {
                "envelope_id": "env-2",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": payload("command_pair.json"),
            }
        )
        await fake_slack.wait_for_ack("env-2")
        await adapter.idle()
        assert [type(e) for e in core.events] == [Message, Command]
        assert core.events[0].event_id == "Ev0MESSAGE1"
    finally:
        await adapter.stop()


async def test_create_adapter_reads_coordinators_from_the_programmes(fake_slack) -> None:
    programmes = (
        programme_config("a", coordinators={"slack": ("U0CORA",)}),
        programme_config("b", coordinators={"slack": ("U0CORA", "U0COBI"), "discord": ("1",)}),
    )
    config = Config(
        slack=slack_config(fake_slack, coordinators_join_spaces=True), programmes=programmes
    )
    adapter = create_adapter(config)
    assert adapter.spaces.coordinators == ("U0CORA", "U0COBI")
    assert adapter.platform == "slack" and adapter.capabilities.modals


async def test_start_fails_loudly_with_a_bad_token(fake_slack) -> None:
    adapter = SlackAdapter(slack_config(fake_slack, bot_token="xoxb-wrong"))
    with pytest.raises(Exception, match="invalid_auth"):
        await adapter.start(RecordingCore())
    await adapter.stop()
