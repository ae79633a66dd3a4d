"""A coordinator approves a match with /maatje in Discord: a private group channel and a private
pair thread appear, with the right people, and the kennismakingsgids starts there. The people
joined by talking to Maatje; nothing about them is written into the database by the test."""

from __future__ import annotations

from tests.discord.discord_fake import BOT_ID, GENERAL_ID, GUILD_ID, FakeDiscord
from tests.discord.support import (
    ANNA,
    BRAM,
    CORA,
    MENTEE_FORM,
    MENTOR_FORM,
    MENTOR_TYPED,
    intake,
    mentee_typed,
    slash,
)

MAARTEN = "100000000000000109"


async def join(h, fake: FakeDiscord, mentees: tuple[str, ...] = (ANNA, BRAM)) -> None:
    """Maarten (mentor) and the mentees, members of the server, do their intake in a DM."""
    for user_id, name in ((MAARTEN, "Maarten"), (ANNA, "Anna"), (BRAM, "Bram")):
        fake.add_member(user_id, name.lower(), name)
    await intake(h, MAARTEN, "As a mentor", MENTOR_FORM, MENTOR_TYPED)
    for mentee in mentees:
        await intake(h, mentee, "As a mentee", MENTEE_FORM, mentee_typed())


async def test_approval_opens_a_private_group_channel_and_pair_threads(start, fake):
    h = await start()
    await join(h, fake)

    await h.send("INTERACTION_CREATE", slash(CORA, "match", guild=True, channel_id=GENERAL_ID))
    assert not h.fake.find("POST", rf"/guilds/{GUILD_ID}/channels")  # nothing before approval
    await h.send(
        "INTERACTION_CREATE", slash(CORA, "match", "approve", guild=True, channel_id=GENERAL_ID)
    )
    await h.core.dispatcher.run_due()

    groups = [
        c
        for c in h.fake.channels.values()
        if c.get("type") == 0 and c["name"].startswith("test-group-maarten")
    ]
    assert len(groups) == 1
    group = groups[0]
    allowed = {o["id"] for o in group["permission_overwrites"] if o["allow"] != "0"}
    assert {BOT_ID, MAARTEN, ANNA, BRAM} <= allowed
    denied = [o for o in group["permission_overwrites"] if o["id"] == GUILD_ID]
    assert denied and denied[0]["deny"] != "0"  # @everyone cannot see it

    threads = h.fake.find("POST", rf"/channels/{group['id']}/threads")
    assert len(threads) == 2 and all(t.body["type"] == 12 for t in threads)  # private threads
    members = [h.fake.thread_members[t] for t in h.fake.thread_members]
    assert {BOT_ID, MAARTEN, ANNA} in members and {BOT_ID, MAARTEN, BRAM} in members

    pair_posts = [h.fake.posted(t) for t in h.fake.thread_members]
    assert any(
        "private space of Maarten (mentor) and Anna (mentee)" in p[0]["content"]
        for p in pair_posts
        if p
    )
    assert all(p[0]["allowed_mentions"] == {"parse": []} for p in pair_posts if p)
