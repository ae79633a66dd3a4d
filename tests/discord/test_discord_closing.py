"""Over the fake Discord: a coordinator's `poll send` reaches the participants, and closing the
programme ends with a mentor's certificate posted as a multipart attachment. The people joined
were matched through Discord and held their first meeting (tests/discord/test_discord_meetings)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.discord.discord_fake import GENERAL_ID
from tests.discord.support import CORA, slash
from tests.discord.test_discord_meetings import held_first_meeting


async def test_poll_send_reaches_people_and_a_certificate_is_attached(
    start, fake, clock: Any
) -> None:
    h = await start()
    await held_first_meeting(h, fake, clock)
    where = {"guild": True, "channel_id": GENERAL_ID}
    await h.send("INTERACTION_CREATE", slash(CORA, "poll", "send relationship to all", **where))
    await h.core.dispatcher.run_due()
    invites = [
        m for m in h.fake.posted() if "Evaluation: the contact in your pair" in m.get("content", "")
    ]
    assert len(invites) == 2  # Maarten and Anna, each in their direct messages

    since = len(h.fake.calls)
    await h.send("INTERACTION_CREATE", slash(CORA, "close", "1 yes", **where))
    await h.core.dispatcher.run_due()
    clock.advance(timedelta(days=15))
    await h.core.dispatcher.run_due()
    uploads = [c for c in h.fake.find("POST", r"/channels/\d+/messages", since=since) if c.files]
    assert len(uploads) == 1
    ((name, content),) = uploads[0].files.items()
    assert name == "certificate-test-maarten.pdf" and content.startswith(b"%PDF-")
