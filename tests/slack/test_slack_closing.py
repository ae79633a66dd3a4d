"""Over the fake Slack: a coordinator's `poll send` reaches the participants, and closing the
programme ends with a mentor's certificate uploaded as a PDF file."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.domain import Role
from tests.participants import pair_in_group
from tests.slack.slack_fake import FakeSlack
from tests.slack.test_slack_matching import command, enrol
from tests.slack.test_slack_with_core import start_bot


async def test_poll_send_reaches_people_and_a_certificate_is_uploaded(
    fake_slack: FakeSlack, core_factory: Any, clock: Any
) -> None:
    bot = await start_bot(fake_slack, core_factory)
    try:
        enrol(bot.core, "U0MAARTEN", "Maarten", Role.MENTOR, {})
        enrol(bot.core, "U0ANNA", "Anna", Role.MENTEE, {})
        pair_in_group(bot.core.store, clock.now(), "Maarten", "Anna", held=1)

        await bot.post.command(command("poll send relationship to all"))
        await bot.settle()
        posted = bot.fake.calls_to("chat.postMessage")
        invites = [m for m in posted if "Evaluation: the contact in your pair" in m.get("text", "")]
        assert len(invites) == 2  # Maarten and Anna, each in their own direct message

        await bot.post.command(command("close 1 yes"))
        await bot.settle()
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
