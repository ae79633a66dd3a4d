"""A coordinator approves a match in Slack; Maatje opens private group and pair channels,
invites the right people, greets them there and starts the kennismakingsgids."""

from __future__ import annotations

import itertools
from typing import Any

from sqlmodel import select

from bot.domain import (
    Pair,
    Role,
)
from bot.events import PersonRef
from tests import participants
from tests.slack.slack_fake import FakeSlack
from tests.slack.support import load_payload
from tests.slack.test_slack_with_core import start_bot

TEAM = "T0TEAM"
PROFILE = {"weekdays": ["tue"], "dayparts": ["evening"], "language": "either"}


def enrol(core: Any, user_id: str, name: str, role: Role, answers: dict) -> None:
    ref = PersonRef("slack", TEAM, user_id)
    participants.enrol(core.store, core.clock.now(), ref, name, role, {**PROFILE, **answers})


_triggers = itertools.count(1)


def command(text: str) -> dict[str, str]:
    """A slash command from the coordinator; each has its own trigger id, as in Slack."""
    return load_payload("command_pair.json") | {
        "text": text,
        "user_id": "UCOORD",
        "user_name": "cora",
        "trigger_id": f"1700000700.{next(_triggers)}.trigger",
    }


async def test_approval_opens_private_group_and_pair_channels(
    fake_slack: FakeSlack, core_factory: Any
) -> None:
    bot = await start_bot(fake_slack, core_factory)
    try:
        enrol(
            bot.core,
            "U0MAARTEN",
            "Maarten",
            Role.MENTOR,
            {"background": {"field": "Law"}, "capacity": 2},
        )
        enrol(bot.core, "U0ANNA", "Anna", Role.MENTEE, {"studies": {"programme": "Law"}})
        enrol(bot.core, "U0BRAM", "Bram", Role.MENTEE, {"studies": {"programme": "Law"}})

        await bot.post.command(command("match"))
        await bot.settle()
        [proposal] = bot.fake.calls_to("chat.postEphemeral")
        assert proposal["user"] == "UCOORD" and "Group of Maarten" in proposal["text"]
        assert bot.fake.calls_to("conversations.create") == []  # nothing before approval

        await bot.post.command(command("match approve"))
        await bot.settle()
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

        in_pair = [
            m for m in bot.fake.calls_to("chat.postMessage") if m["channel"] == pair_anna["id"]
        ]
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
        await bot.post.command(command("match approve"))
        await bot.settle()
        assert len(bot.fake.calls_to("conversations.create")) == 3
    finally:
        await bot.adapter.stop()
