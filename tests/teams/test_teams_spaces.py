"""Pair and group spaces through Graph: a group chat with exactly its members and Maatje
installed, found again by key (no second chat after a retry, a late member added), or a
private channel in the programme's team; and a welcome posted there through the connector."""

from __future__ import annotations

from bot.events import PersonRef, SpaceKind
from bot.replies import Outgoing
from tests.teams.support import ANNA, BRAM, CORA, MAARTEN, text_of
from tests.teams.teams_fake import CATALOG_ID, TENANT

TEAM = "team-group-id-1"


def people(*aads: str) -> list[PersonRef]:
    return [PersonRef("teams", TENANT, aad) for aad in aads]


def known(fake) -> None:
    for aad, name in ((CORA, "Cora"), (MAARTEN, "Maarten"), (ANNA, "Anna"), (BRAM, "Bram")):
        fake.add_user(aad, name)


async def test_a_group_chat_is_created_once_and_completed_later(start, fake):
    h = await start()
    known(fake)
    await h.say(CORA, "hello")  # the tenant's service URL
    group = await h.adapter.open_space(
        SpaceKind.GROUP, "test group Maarten", people(MAARTEN, ANNA), "group:1"
    )
    again = await h.adapter.open_space(
        SpaceKind.GROUP, "test group Maarten", people(MAARTEN, ANNA, BRAM), "group:1"
    )
    assert again == group
    [chat_id] = fake.chats
    assert fake.chats[chat_id]["members"] == [MAARTEN, ANNA, BRAM]
    assert fake.chats[chat_id]["apps"] == [CATALOG_ID]
    assert len(fake.find("POST", "/graph/v1.0/chats")) == 1
    await h.adapter.send(None, group, Outgoing("Welcome to the group", "en", "UTC"), "w:1")
    assert text_of(fake.activities(chat_id)[-1]) == "Welcome to the group"


async def test_private_channels_in_the_programmes_team(start, fake):
    h = await start(pair_space="channel", team_id=TEAM)
    known(fake)
    await h.say(CORA, "hello")
    pair = await h.adapter.open_space(
        SpaceKind.PAIR, "test Maarten & Anna: pair", people(MAARTEN, ANNA), "pair:7"
    )
    [(channel_id, channel)] = fake.channels.items()
    assert channel["team"] == TEAM and channel["membershipType"] == "private"
    assert channel["members"] == [MAARTEN, ANNA]
    assert ":" not in channel["displayName"] and "&" not in channel["displayName"]
    assert fake.find("POST", f"/graph/v1.0/teams/{TEAM}/installedApps")
    assert pair.channel_id == channel_id and pair.kind is SpaceKind.PAIR
    await h.adapter.send(None, pair, Outgoing("Hello pair", "en", "UTC"), "w:2")
    assert text_of(fake.activities(channel_id)[-1]) == "Hello pair"
