"""Names people give themselves on Discord reach others without invisible or direction-changing
characters: a right-to-left override or a zero-width space in a nickname is dropped where the
core stores the name, so every message that names the person shows it plainly."""

from __future__ import annotations

from tests.discord.discord_fake import GENERAL_ID
from tests.discord.support import (
    ANNA,
    CORA,
    MENTEE_FORM,
    MENTOR_FORM,
    MENTOR_TYPED,
    intake,
    mentee_typed,
    slash,
)
from tests.discord.test_discord_matching import MAARTEN

DISGUISED = "\u202eannA\u200b\u2066"  # shows as "Anna" reversed, with invisible extras


async def test_a_disguised_nickname_is_shown_plainly_to_others(start, fake):
    h = await start()
    fake.add_member(MAARTEN, "maarten", "Maarten")
    fake.add_member(ANNA, "anna", DISGUISED)  # Anna renamed herself on Discord
    await intake(h, MAARTEN, "As a mentor", MENTOR_FORM, MENTOR_TYPED)
    await intake(h, ANNA, "As a mentee", MENTEE_FORM, mentee_typed())

    await h.send("INTERACTION_CREATE", slash(CORA, "match", guild=True, channel_id=GENERAL_ID))
    await h.send(
        "INTERACTION_CREATE", slash(CORA, "match", "approve", guild=True, channel_id=GENERAL_ID)
    )
    await h.core.dispatcher.run_due()

    posted = [m["content"] for m in h.fake.posted()]
    posted += [c.body.get("content") or "" for c in h.fake.find("PATCH", r"/webhooks/.*")]
    assert any("and annA (mentee)" in text for text in posted), posted
    hidden = [t for t in posted if any(c in t for c in "\u202e\u200b\u2066")]
    assert hidden == []
