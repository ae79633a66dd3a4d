"""Over the fake Discord: a coordinator's `poll send` reaches the participants, and closing the
programme ends with a mentor's certificate posted as a multipart attachment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.domain import Role
from tests.discord.discord_fake import GENERAL_ID
from tests.discord.support import ANNA, CORA, slash
from tests.discord.test_discord_matching import MAARTEN, enrol
from tests.participants import pair_in_group


async def test_poll_send_reaches_people_and_a_certificate_is_attached(start, clock: Any) -> None:
    h = await start()
    enrol(h, MAARTEN, "Maarten", Role.MENTOR, {})
    enrol(h, ANNA, "Anna", Role.MENTEE, {})
    pair_in_group(h.core.store, clock.now(), "Maarten", "Anna", held=1)

    where = {"guild": True, "channel_id": GENERAL_ID}
    await h.send("INTERACTION_CREATE", slash(CORA, "poll", "send relationship to all", **where))
    await h.core.dispatcher.run_due()
    invites = [
        m for m in h.fake.posted() if "Evaluation: the contact in your pair" in m.get("content", "")
    ]
    assert len(invites) == 2  # Maarten and Anna, each in their direct messages

    await h.send("INTERACTION_CREATE", slash(CORA, "close", "1 yes", **where))
    await h.core.dispatcher.run_due()
    clock.advance(timedelta(days=15))
    await h.core.dispatcher.run_due()
    uploads = [c for c in h.fake.find("POST", r"/channels/\d+/messages") if c.files]
    assert len(uploads) == 1
    ((name, content),) = uploads[0].files.items()
    assert name == "certificate-test-maarten.pdf" and content.startswith(b"%PDF-")
