"""Over the fake Slack: a coordinator's `poll send` reaches the participants, and closing the
programme ends with a mentor's certificate uploaded as a PDF file. The people joined and were
matched through Slack (tests/slack/test_slack_meetings.matched_on_slack)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.slack.slack_fake import FakeSlack
from tests.slack.test_slack_meetings import matched_on_slack
from tests.slack.workspace import Workspace


async def test_poll_send_reaches_people_and_a_certificate_is_uploaded(
    fake_slack: FakeSlack, core_factory: Any, clock: Any
) -> None:
    bot = await matched_on_slack(fake_slack, core_factory)
    cora = Workspace(bot).member("UCOORD")
    try:
        await cora.command("poll send relationship to all")
        posted = bot.fake.calls_to("chat.postMessage")
        invites = [m for m in posted if "Evaluation: you and your mentor" in m.get("text", "")]
        assert len(invites) == 2  # Maarten and Anna, each in their own direct message

        await cora.command("close 1 yes")
        assert not bot.fake.uploads
        clock.advance(timedelta(days=15))
        await bot.settle()
        assert len(bot.fake.uploads) == 1
        (content,) = bot.fake.uploads.values()
        assert content.startswith(b"%PDF-")
        (complete,) = bot.fake.calls_to("files.completeUploadExternal")
        assert "certificate-test-maarten.pdf" in str(complete)
    finally:
        await bot.adapter.stop()
