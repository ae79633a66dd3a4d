"""`/maatje` and mentions, over the protocol, against the real core."""

from __future__ import annotations

from bot.events import Command, Message, SpaceKind
from tests.discord.discord_fake import APP_ID, BOT_ID, GENERAL_ID, GUILD_ID, user
from tests.discord.support import (
    ANNA,
    BRAM,
    CORA,
    dm_channel,
    message_create,
    slash,
)

DEFERRED_MESSAGE, EPHEMERAL = 5, 64
ORIGINAL = rf"/webhooks/{APP_ID}/[^/]+/messages/@original"


async def test_the_command_is_registered_in_the_guild_and_for_dms(start):
    h = await start()
    [in_guild] = h.fake.find("PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")
    [in_dm] = h.fake.find("PUT", rf"/applications/{APP_ID}/commands")
    command = in_guild.body[0]
    assert command["name"] == "maatje" and "contexts" not in command  # a guild's own command
    assert in_dm.body[0]["contexts"] == [1]
    options = {o["name"]: o for o in command["options"]}
    assert {"help", "language", "privacy", "status"} <= set(options)  # and what the core adds
    assert "join" not in options  # a command without a summary is for buttons only
    language = options["language"]
    assert language["description_localizations"]["nl"]
    assert language["options"] == [
        {
            "type": 3,
            "name": "args",
            "description": language["options"][0]["description"],
            "description_localizations": language["options"][0]["description_localizations"],
            "required": False,
            "max_length": 200,
        }
    ]


async def test_a_coordinator_command_is_refused_privately_to_a_participant(start):
    h = await start()
    since = len(h.fake.calls)
    event, _ = await h.send(
        "INTERACTION_CREATE", slash(ANNA, "status", guild=True, channel_id=GENERAL_ID)
    )
    assert isinstance(event, Command) and event.name == "status"
    assert event.space.kind is SpaceKind.GROUP
    callback = await h.fake.wait_for("POST", r"/interactions/\d+/[^/]+/callback", since=since)
    assert callback.body == {"type": DEFERRED_MESSAGE, "data": {"flags": EPHEMERAL}}
    answer = await h.fake.wait_for("PATCH", ORIGINAL, since=since)
    assert "only the programme's coordinators" in answer.body["content"]
    assert answer.body["allowed_mentions"] == {"parse": []}
    assert h.fake.posted(GENERAL_ID) == []  # nothing public in the channel


async def test_a_coordinator_gets_the_status(start):
    h = await start()
    since = len(h.fake.calls)
    await h.send("INTERACTION_CREATE", slash(CORA, "status", guild=True, channel_id=GENERAL_ID))
    answer = await h.fake.wait_for("PATCH", ORIGINAL, since=since)
    assert "only the programme's coordinators" not in answer.body["content"]
    assert "Mentoraat Test" in answer.body["content"]


async def test_a_command_with_words_in_a_dm(start):
    h = await start()
    since = len(h.fake.calls)
    event, _ = await h.send("INTERACTION_CREATE", slash(ANNA, "language", "nl"))
    assert event.args == ("nl",) and event.space.kind is SpaceKind.DIRECT
    callback = await h.fake.wait_for("POST", r"/interactions/\d+/[^/]+/callback", since=since)
    assert callback.body["type"] == DEFERRED_MESSAGE
    assert "flags" not in callback.body.get("data", {})  # public in a DM
    answer = await h.fake.wait_for("PATCH", ORIGINAL, since=since)
    assert answer.body["content"] == "Vanaf nu praat ik Nederlands met je."


async def test_a_mention_in_a_guild_channel_is_answered_there(start):
    h = await start()
    mention = message_create(
        ANNA,
        f"<@{BOT_ID}> hello there",
        channel_id=GENERAL_ID,
        guild=True,
        mentions=[user(BOT_ID, "maatje", bot=True)],
    )
    event, _ = await h.send("MESSAGE_CREATE", mention)
    assert isinstance(event, Message) and event.text == "hello there"
    assert event.space.kind is SpaceKind.GROUP and event.space.channel_id == GENERAL_ID
    assert h.fake.posted(GENERAL_ID)


async def test_other_traffic_is_ignored(start):
    h = await start()
    own = message_create(BOT_ID, "my own reply")
    own["author"] = user(BOT_ID, "maatje", bot=True)
    other_bot = message_create("300000000000000003", "beep")
    other_bot["author"]["bot"] = True
    chatter = message_create(ANNA, "hi all", channel_id=GENERAL_ID, guild=True)
    for payload in (own, other_bot, chatter):
        await h.fake.dispatch("MESSAGE_CREATE", payload)
    hello = message_create(ANNA, "hello")
    await h.send("MESSAGE_CREATE", hello)  # handled after the three before it
    assert [e.event_id for e, _ in h.handled] == [hello["id"]]
    assert h.fake.posted(dm_channel(ANNA)) and not h.fake.posted(GENERAL_ID)


async def test_a_member_with_the_coordinator_role_counts_as_coordinator(start):
    from tests.discord.test_discord_spaces import COORDINATORS_ROLE

    h = await start(coordinator_role=COORDINATORS_ROLE)
    since = len(h.fake.calls)
    await h.send(
        "INTERACTION_CREATE",
        slash(ANNA, "status", guild=True, channel_id=GENERAL_ID, roles=[COORDINATORS_ROLE]),
    )
    answer = await h.fake.wait_for("PATCH", ORIGINAL, since=since)
    assert "Mentoraat Test" in answer.body["content"]
    since = len(h.fake.calls)
    await h.send("INTERACTION_CREATE", slash(BRAM, "status", guild=True, channel_id=GENERAL_ID))
    answer = await h.fake.wait_for("PATCH", ORIGINAL, since=since)
    assert "only the programme's coordinators" in answer.body["content"]
