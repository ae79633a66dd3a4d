"""People's Discord names: the nick they use in the programme's server, else their global
display name, else their username.

Discord reports no time zone, and a locale only with an interaction (`parse.origin` passes it
with every event); so a profile here is a name. The member is read from the first configured
server that has them (`GET /guilds/{guild}/members/{user}`, no privileged intent needed), else
the user (`GET /users/{user}`). discord.py keeps these calls within Discord's rate limits.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import discord

from adapters.discord.delivery import classify
from bot.adapter import Profile


def profile_of(member: dict[str, Any] | None, user: dict[str, Any]) -> Profile:
    """The name a member object (or, outside a server, a user object) gives."""
    name = (member or {}).get("nick") or user.get("global_name") or user.get("username")
    return Profile(display_name=(name or "").strip() or None)


async def lookup(http: discord.http.HTTPClient, guild_ids: Iterable[int], user_id: str) -> Profile:
    try:
        for guild_id in guild_ids:
            try:
                member = await http.get_member(guild_id, int(user_id))
            except discord.NotFound:
                continue  # not in this server
            return profile_of(member, member.get("user") or {})
        return profile_of(None, await http.get_user(int(user_id)))
    except Exception as exc:
        raise classify(exc) from exc
