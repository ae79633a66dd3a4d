"""People's Discord names: the server nick, else the global name, else the username; a member
of no configured server is read as a user. Mentions notify exactly the people mentioned."""

from __future__ import annotations

import pytest

from adapters.discord.delivery import allowed_mentions
from adapters.discord.parse import PLATFORM
from adapters.discord.profiles import profile_of
from bot.adapter import DeliveryError
from bot.events import PersonRef
from bot.replies import Mentioned, Outgoing
from tests.discord.discord_fake import APP_ID, GUILD_ID
from tests.discord.support import ANNA, BRAM


def test_the_nick_comes_first_then_the_global_name_then_the_username() -> None:
    user = {"id": ANNA, "username": "anna_j", "global_name": "Anna"}
    assert profile_of({"nick": "Anna Jansen"}, user).display_name == "Anna Jansen"
    assert profile_of({"nick": None}, user).display_name == "Anna"
    assert profile_of(None, {**user, "global_name": None}).display_name == "anna_j"
    assert profile_of(None, {}).display_name is None


async def test_a_member_is_named_as_in_the_server_and_others_as_on_discord(fake, running):
    adapter = await running()
    fake.add_member(ANNA, "anna_j", "Anna", nick="Anna Jansen")
    anna = await adapter.profile(PersonRef(PLATFORM, APP_ID, ANNA))
    assert (anna.display_name, anna.timezone) == ("Anna Jansen", None)
    assert fake.find("GET", rf"/guilds/{GUILD_ID}/members/{ANNA}")

    bram = await adapter.profile(PersonRef(PLATFORM, APP_ID, BRAM))  # in no configured server
    assert bram.display_name == "User102"
    assert fake.find("GET", rf"/users/{BRAM}")


async def test_a_failed_lookup_is_a_delivery_error(fake, running):
    adapter = await running()
    fake.fail("GET", rf"/guilds/{GUILD_ID}/members/{ANNA}", 500, times=5)
    with pytest.raises(DeliveryError) as failed:
        await adapter.profile(PersonRef(PLATFORM, APP_ID, ANNA))
    assert not failed.value.permanent


def test_mentions_notify_exactly_the_people_mentioned() -> None:
    quiet = allowed_mentions(Outgoing("Hello", "en", "UTC"))
    assert quiet.to_dict() == {"parse": []}
    message = Outgoing(f"<@{ANNA}>: your turn", "en", "UTC", mentions=(Mentioned(ANNA, "Anna"),))
    assert allowed_mentions(message).to_dict() == {"parse": [], "users": [int(ANNA)]}
