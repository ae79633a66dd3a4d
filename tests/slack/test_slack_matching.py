"""A coordinator approves a match in Slack; Maatje opens private group and pair channels,
invites the right people, greets them there and starts the kennismakingsgids. The people
joined by messaging Maatje (tests/slack/workspace.py); nothing about them is written into
the database by the test."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.domain import Pair
from tests.slack.slack_fake import FakeSlack
from tests.slack.test_slack_with_core import start_bot
from tests.slack.workspace import (
    MENTEE_FORM,
    MENTOR_FORM,
    MENTOR_TYPED,
    Workspace,
    mentee_typed,
)


async def test_approval_opens_private_group_and_pair_channels(
    fake_slack: FakeSlack, core_factory: Any
) -> None:
    for user, name in (("U0MAARTEN", "Maarten"), ("U0ANNA", "Anna"), ("U0BRAM", "Bram")):
        fake_slack.add_user(user, name)
    bot = await start_bot(fake_slack, core_factory)
    slack = Workspace(bot)
    try:
        await slack.member("U0MAARTEN").intake("mentor", MENTOR_FORM, MENTOR_TYPED)
        for mentee in ("U0ANNA", "U0BRAM"):
            await slack.member(mentee).intake("mentee", MENTEE_FORM, mentee_typed())
        cora = slack.member("UCOORD")

        await cora.command("match")
        [proposal] = bot.fake.calls_to("chat.postEphemeral")
        assert proposal["user"] == "UCOORD" and "Group of Maarten" in proposal["text"]
        assert bot.fake.calls_to("conversations.create") == []  # nothing before approval

        await cora.command("match approve")
        created = bot.fake.calls_to("conversations.create")
        assert len(created) == 3 and all(c["is_private"] for c in created)
        names = [c["name"] for c in created]
        assert names[0].startswith("test-group-maarten")
        assert any(n.startswith("test-maarten-anna") for n in names)
        assert all(len(n) <= 80 and n == n.lower() and " " not in n for n in names)

        channels = {c["name"]: c for c in bot.fake.channels.values()}
        group = channels[names[0]]
        assert {"U0MAARTEN", "U0ANNA", "U0BRAM"} <= set(group["members"])
        pair_anna = next(c for n, c in channels.items() if n.startswith("test-maarten-anna"))
        assert {"U0MAARTEN", "U0ANNA"} <= set(pair_anna["members"])
        assert "U0BRAM" not in pair_anna["members"]

        in_pair = bot.messages(pair_anna["id"])
        assert "private space of Maarten (mentor) and Anna (mentee)" in in_pair[0]["text"]
        # English readers meet the Dutch name once, then read "introduction guide"
        assert "First step: the introduction guide (kennismakingsgids)" in in_pair[0]["text"]
        guide = [m["text"] for m in in_pair[1:] if "introduction guide" in m["text"]]
        assert guide and all("kennismakingsgids" not in text for text in guide)

        with bot.core.store.session() as session:
            pairs = session.exec(select(Pair)).all()
        assert {p.space_channel for p in pairs} == {
            c["id"] for n, c in channels.items() if n.startswith("test-maarten-")
        }

        # approving again (a retry, a second click) creates nothing new
        await cora.command("match approve")
        assert len(bot.fake.calls_to("conversations.create")) == 3
    finally:
        await bot.adapter.stop()
