"""What people are told is true in Discord too: with a coordinator role (which sees every
group channel and, with Manage Threads, every private pair thread) the pair's welcome says the
coordinators can read along."""

from __future__ import annotations

import pytest

from tests.discord.discord_fake import GENERAL_ID
from tests.discord.support import ANNA, CORA, slash
from tests.discord.test_discord_matching import join
from tests.discord.test_discord_spaces import COORDINATORS_ROLE


@pytest.mark.parametrize("role", [COORDINATORS_ROLE, None])
async def test_the_pair_welcome_says_who_can_read_along(start, fake, role):
    h = await start(coordinator_role=role)
    await join(h, fake, mentees=(ANNA,))
    for words in ("match", "match approve"):
        await h.send(
            "INTERACTION_CREATE",
            slash(CORA, *words.split(" ", 1), guild=True, channel_id=GENERAL_ID),
        )
    await h.core.dispatcher.run_due()

    (thread,) = h.fake.thread_members
    welcome = h.fake.posted(thread)[0]["content"]
    assert "private space of Maarten (mentor) and Anna (mentee)" in welcome
    assert ("the programme's coordinators can read along here" in welcome) is bool(role)
    assert ("Only the two of you and Maatje are here" in welcome) is not bool(role)
