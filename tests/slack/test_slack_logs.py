"""DEBUG logs carry no message bodies: slack-sdk logs every Web API request and answer at DEBUG,
and Maatje's logging set-up (`maatje run`) withholds those records."""

from __future__ import annotations

import logging

from adapters.slack import SlackAdapter
from bot import logs
from bot.events import PersonRef
from bot.replies import Outgoing
from tests.slack.slack_fake import FakeSlack
from tests.slack.support import RecordingCore, slack_config

SECRET = "pangolin-answer-3307: my exam went badly"


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.levelname} {record.getMessage()}")


async def test_debug_logs_carry_no_message_bodies(fake_slack: FakeSlack) -> None:
    """slack-sdk logs every request body at DEBUG; with Maatje's logging they are withheld."""
    root = logging.getLogger()
    filtered, unfiltered = Kept(), Kept()
    level, handlers = root.level, list(root.handlers)
    root.addHandler(filtered)
    try:
        logs.configure("DEBUG")  # what `maatje run` does with [logging] level = "DEBUG"
        root.setLevel(logging.DEBUG)
        root.addHandler(unfiltered)  # a handler Maatje did not set up sees everything
        adapter = SlackAdapter(slack_config(fake_slack))
        await adapter.start(RecordingCore())
        try:
            message = Outgoing(text=SECRET, language="en", timezone="UTC")
            await adapter.send(PersonRef("slack", "T0TEAM", "U0ANNA"), None, message, "k:1")
        finally:
            await adapter.stop()
        logging.getLogger("adapters.slack").debug("sent a message")  # Maatje's own DEBUG
    finally:
        root.setLevel(level)
        for handler in root.handlers:
            handler.removeFilter(logs.WITHHOLD_BODIES)
        for handler in (filtered, unfiltered):
            root.removeHandler(handler)
        assert root.handlers == handlers
    assert any(SECRET in line for line in unfiltered.lines)  # slack-sdk did log the body
    assert not [line for line in filtered.lines if SECRET in line]
    assert "adapters.slack DEBUG sent a message" in filtered.lines
    assert any(line.startswith("slack_sdk") for line in unfiltered.lines)
