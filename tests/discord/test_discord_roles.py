"""`[discord] coordinator_role` counts only in the configured servers, is looked up in the server
asked about, and is checked at every command: a role of the same name in another server gives
nothing, and rights that came from the role end when the role is gone."""

from __future__ import annotations

import logging
from typing import Any

from tests.discord.discord_fake import APP_ID, GENERAL_ID, GUILD_ID
from tests.discord.support import ANNA, BRAM, Harness, slash

ORIGINAL = rf"/webhooks/{APP_ID}/[^/]+/messages/@original"
COORDINATORS = "800000000000000077"  # "Coordinators" in the configured server (the fake's)
ELSEWHERE = "800000000000000002"  # a server the bot is also in, not in guild_ids
ELSEWHERE_COORDINATORS = "800000000000000088"  # "Coordinators" there too
ELSEWHERE_CHANNEL = "800000000000000020"
MALLORY = "100000000000000166"
REFUSED = "only the programme's coordinators"


async def status(h: Harness, user_id: str, **where: Any) -> str:
    """What `user_id` sees after `/maatje status` (in a DM unless `where` says otherwise)."""
    since = len(h.fake.calls)
    await h.send("INTERACTION_CREATE", slash(user_id, "status", **where))
    answer = await h.fake.wait_for("PATCH", ORIGINAL, since=since)
    return answer.body["content"]


def in_server(roles: list[str]) -> dict[str, Any]:
    return {"guild": True, "channel_id": GENERAL_ID, "roles": roles}


def elsewhere(roles: list[str]) -> dict[str, Any]:
    return {"guild": True, "guild_id": ELSEWHERE, "channel_id": ELSEWHERE_CHANNEL, "roles": roles}


async def test_a_role_of_the_same_name_in_another_server_gives_nothing(fake, start):
    fake.add_guild(ELSEWHERE, "Elsewhere", [{"id": ELSEWHERE_COORDINATORS, "name": "Coordinators"}])
    h = await start(coordinator_role="Coordinators")
    # Mallory made a server of her own, with a "Coordinators" role, and asks first.
    assert REFUSED in await status(h, MALLORY, **elsewhere([ELSEWHERE_COORDINATORS]))
    assert REFUSED in await status(h, MALLORY, **in_server([]))
    # The programme's server still knows its own role.
    assert "Mentoraat Test" in await status(h, ANNA, **in_server([COORDINATORS]))
    # Anna's role in the programme's server does not follow her to another server's command:
    # there, Discord is asked about her membership of the programme's server.
    fake.member_roles[(GUILD_ID, ANNA)] = [COORDINATORS]
    assert "Mentoraat Test" in await status(h, ANNA, **elsewhere([]))
    assert not h.fake.find("GET", rf"/guilds/{ELSEWHERE}/members/\d+")


async def test_losing_the_role_ends_the_rights_at_the_next_command(start, caplog):
    h = await start(coordinator_role="Coordinators")
    assert "Mentoraat Test" in await status(h, ANNA, **in_server([COORDINATORS]))
    caplog.set_level(logging.WARNING)
    assert REFUSED in await status(h, ANNA, **in_server([]))  # an admin took the role away
    ended = [r.getMessage() for r in caplog.records if "coordinator rights" in r.getMessage()]
    assert len(ended) == 1 and "no longer holds the coordinator role on discord" in ended[0]
    assert "Mentoraat Test" in await status(h, ANNA, **in_server([COORDINATORS]))  # given back


async def test_a_renamed_role_no_longer_counts(fake, start):
    h = await start(coordinator_role="Coordinators")
    assert "Mentoraat Test" in await status(h, ANNA, **in_server([COORDINATORS]))
    renamed = {"id": COORDINATORS, "name": "Former coordinators", "permissions": "0"}
    await fake.dispatch("GUILD_ROLE_UPDATE", {"guild_id": GUILD_ID, "role": renamed})
    assert REFUSED in await status(h, ANNA, **in_server([COORDINATORS]))


async def test_in_a_direct_message_discord_is_asked_about_the_role(fake, start):
    h = await start(coordinator_role="Coordinators")
    fake.member_roles[(GUILD_ID, ANNA)] = [COORDINATORS]
    assert "Mentoraat Test" in await status(h, ANNA)
    assert fake.find("GET", rf"/guilds/{GUILD_ID}/members/{ANNA}")
    fake.member_roles[(GUILD_ID, ANNA)] = []
    assert REFUSED in await status(h, ANNA)
    assert REFUSED in await status(h, BRAM)  # not a member of the server at all
    before = len(fake.find("GET", r"/guilds/\d+/members/\d+"))
    since = len(fake.calls)
    await h.send("INTERACTION_CREATE", slash(BRAM, "help"))  # everyone's command: no question
    await fake.wait_for("PATCH", ORIGINAL, since=since)
    assert len(fake.find("GET", r"/guilds/\d+/members/\d+")) == before
