"""Over the fake Slack: a coordinator's `poll send` reaches the participants, and closing the
programme ends with a mentor's certificate uploaded as a PDF file. The people joined and were
matched through Slack and held their first meeting (tests/slack/test_slack_meetings)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.slack.slack_fake import FakeSlack
from tests.slack.test_slack_meetings import held_first_meeting
from tests.slack.workspace import Workspace


async def test_poll_send_reaches_people_and_a_certificate_is_uploaded(
    fake_slack: FakeSlack, core_factory: Any, clock: Any
) -> None:
    bot = await held_first_meeting(fake_slack, core_factory, clock)
    cora = Workspace(bot).member("UCOORD")
    try:
        await cora.command("poll send relationship to all")
        posted = bot.fake.calls_to("chat.postMessage")
        invites = [m for m in posted if "Evaluation: the contact in your pair" in m.get("text", "")]
        assert len(invites) == 2  # Maarten and Anna, each in their own direct message

        invites_sent = dict(bot.fake.uploads)  # the meeting's calendar invites
        completed = len(bot.fake.calls_to("files.completeUploadExternal"))
        await cora.command("close 1 yes")
        assert bot.fake.uploads == invites_sent
        clock.advance(timedelta(days=15))
        await bot.settle()
        new = {k: v for k, v in bot.fake.uploads.items() if k not in invites_sent}
        assert len(new) == 1
        (content,) = new.values()
        assert content.startswith(b"%PDF-")
        (complete,) = bot.fake.calls_to("files.completeUploadExternal")[completed:]
        assert "certificate-test-maarten.pdf" in str(complete)
    finally:
        await bot.adapter.stop()
