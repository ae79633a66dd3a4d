"""Group and pair spaces in the guild: categories, private channels with overwrites, private
threads, found again by key after a restart, and the 500-channel limit."""

from __future__ import annotations

import pytest

from adapters.discord.parse import PLATFORM
from adapters.discord.spaces import BOT_ALLOW, COORDINATOR_ALLOW, EVERYONE_DENY, MEMBER_ALLOW
from bot.adapter import DeliveryError
from bot.events import PersonRef, SpaceKind
from tests.discord.discord_fake import APP_ID, BOT_ID, GUILD_ID
from tests.discord.support import ANNA, BRAM

COORDINATORS_ROLE = "800000000000000077"
MARIA = "100000000000000103"
CHANNELS = rf"/guilds/{GUILD_ID}/channels"


def ref(user_id: str) -> PersonRef:
    return PersonRef(PLATFORM, APP_ID, user_id)


def overwrite(channel: dict, target: str) -> tuple[int, str, str]:
    [row] = [o for o in channel["permission_overwrites"] if o["id"] == target]
    return row["type"], row["allow"], row["deny"]


async def open_group(adapter, *members: str):
    return await adapter.open_space(
        SpaceKind.GROUP, "rechten-2026 group Maria", [ref(m) for m in members], "maatje-group:1"
    )


async def test_a_group_gets_a_private_channel_in_the_programme_category(fake, running):
    adapter = await running(coordinator_role="Coordinators")
    space = await open_group(adapter, MARIA, ANNA)
    assert space.kind is SpaceKind.GROUP and space.workspace == APP_ID
    channel = fake.channels[space.channel_id]
    category = fake.channels[channel["parent_id"]]
    assert (category["type"], category["name"]) == (4, "rechten-2026")
    assert channel["type"] == 0 and channel["name"].startswith("rechten-2026-group-maria-")
    assert channel["topic"] == "Maatje · maatje-group:1"
    assert overwrite(channel, GUILD_ID) == (0, "0", str(EVERYONE_DENY.value))
    assert overwrite(channel, BOT_ID) == (1, str(BOT_ALLOW.value), "0")
    assert overwrite(channel, MARIA) == (1, str(MEMBER_ALLOW.value), "0")
    assert overwrite(channel, ANNA) == (1, str(MEMBER_ALLOW.value), "0")
    assert overwrite(channel, COORDINATORS_ROLE) == (0, str(COORDINATOR_ALLOW.value), "0")
    assert COORDINATOR_ALLOW.manage_threads and not MEMBER_ALLOW.manage_threads


async def test_a_pair_is_a_private_thread_in_the_group_channel(fake, running):
    adapter = await running()
    group = await open_group(adapter, MARIA, ANNA)
    pair = await adapter.open_space(
        SpaceKind.PAIR, "rechten-2026 Maria Anna", [ref(MARIA), ref(ANNA)], "maatje-pair:7", group
    )
    [created] = fake.find("POST", rf"/channels/{group.channel_id}/threads")
    assert created.body["type"] == 12 and created.body["invitable"] is False
    assert created.body["name"].startswith("rechten-2026 Maria Anna · ")
    assert fake.thread_members[pair.channel_id] == {BOT_ID, MARIA, ANNA}
    assert pair.kind is SpaceKind.PAIR
    assert adapter._spaces.kind_of(pair.channel_id) is SpaceKind.PAIR


async def test_a_pair_can_be_a_private_channel(fake, running):
    adapter = await running(pair_space="channel", coordinator_role=COORDINATORS_ROLE)
    group = await open_group(adapter, MARIA, ANNA, BRAM)
    pair = await adapter.open_space(
        SpaceKind.PAIR, "rechten-2026 Maria Bram", [ref(MARIA), ref(BRAM)], "maatje-pair:8", group
    )
    channel = fake.channels[pair.channel_id]
    assert (
        channel["type"] == 0
        and channel["parent_id"] == fake.channels[group.channel_id]["parent_id"]
    )
    assert {o["id"] for o in channel["permission_overwrites"]} == {
        GUILD_ID,
        BOT_ID,
        MARIA,
        BRAM,
        COORDINATORS_ROLE,
    }
    assert ANNA not in {o["id"] for o in channel["permission_overwrites"]}
    assert not fake.find("POST", r"/channels/\d+/threads")


async def test_a_channel_is_found_again_by_key_after_a_restart(fake, running):
    first = await running()
    space = await open_group(first, MARIA, ANNA)
    second = await running()  # nothing in memory
    again = await open_group(second, MARIA, ANNA, BRAM)  # a mentee joined the group
    assert again.channel_id == space.channel_id
    assert len(fake.find("POST", CHANNELS)) == 2  # the category and the channel, once
    [added] = fake.find("PUT", rf"/channels/{space.channel_id}/permissions/\d+")
    assert added.path.endswith(BRAM) and added.body["allow"] == str(MEMBER_ALLOW.value)


async def test_an_archived_thread_is_found_again_and_reopened(fake, running):
    first = await running()
    group = await open_group(first, MARIA, ANNA)
    members = [ref(MARIA), ref(ANNA)]
    pair = await first.open_space(SpaceKind.PAIR, "x Maria Anna", members, "maatje-pair:7", group)
    fake.channels[pair.channel_id]["thread_metadata"]["archived"] = True  # a quiet week
    second = await running()
    again = await second.open_space(SpaceKind.PAIR, "x Maria Anna", members, "maatje-pair:7", group)
    assert again.channel_id == pair.channel_id
    assert len(fake.find("POST", r"/channels/\d+/threads")) == 1
    assert fake.find("PATCH", rf"/channels/{pair.channel_id}")[0].body == {"archived": False}


async def test_a_full_server_refuses_a_channel_before_creating_anything(fake, running):
    for number in range(499):
        fake.add_channel(str(900_000_000_000_000_000 + number), f"c{number}", 0)
    adapter = await running(pair_space="channel")
    with pytest.raises(DeliveryError) as refused:
        await open_group(adapter, MARIA)
    assert refused.value.permanent
    assert "500" in str(refused.value) and 'pair_space = "thread"' in str(refused.value)
    assert not fake.find("POST", CHANNELS)


async def test_a_full_category_continues_in_a_second_one(fake, running):
    category = fake.add_channel("910000000000000000", "rechten-2026", 4)
    for number in range(50):
        fake.add_channel(
            str(910_000_000_000_000_001 + number), f"c{number}", 0, parent_id=category["id"]
        )
    adapter = await running()
    space = await open_group(adapter, MARIA)
    parent = fake.channels[fake.channels[space.channel_id]["parent_id"]]
    assert parent["name"] == "rechten-2026 2"
