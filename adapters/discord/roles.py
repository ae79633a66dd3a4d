"""`[discord] coordinator_role`: which role it is in each server, and whether someone holds it.

The role counts only in the servers of `[discord] guild_ids`, and is looked up in the server
the question is about — a role of the same name in another server means nothing. Nothing is
remembered between questions: the role's id comes from discord.py's copy of the server, which
the gateway keeps current (a renamed or deleted role is seen at once), or from Discord's REST API
when that copy is missing; whether a person holds it comes from the interaction itself (Discord
sends the member's current roles with every interaction in a server) or, outside the
configured servers (a DM), from asking Discord for the member. So losing the role counts from
the next command on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import discord

from bot.config.model import DiscordConfig

log = logging.getLogger(__name__)

UNKNOWN_MEMBER = 10007  # Discord's error code: the user is not a member of the server


class CoordinatorRole:
    def __init__(self, client: discord.Client, config: DiscordConfig) -> None:
        self.client = client
        self.config = config
        self._warned: set[str] = set()  # servers already warned about a missing role

    @property
    def configured(self) -> bool:
        return bool(self.config.coordinator_role)

    def counts_in(self, guild_id: str | None) -> bool:
        """Whether the role means anything in this server (one of `guild_ids`)."""
        return bool(guild_id) and int(guild_id or 0) in self.config.guild_ids

    async def id_in(self, guild_id: str) -> str | None:
        """The role's id in this server; None when no role is configured, the server is not
        one of `guild_ids`, or it has no role of that name."""
        wanted = self.config.coordinator_role
        if not wanted or not self.counts_in(guild_id):
            return None
        if wanted.isdigit():
            return wanted  # role ids are unique: a member elsewhere cannot hold this one
        guild = self.client.get_guild(int(guild_id))
        if guild is not None:
            names = [(str(r.id), r.name) for r in guild.roles]
        else:
            names = [(str(r["id"]), r["name"]) for r in await self.client.http.get_roles(guild_id)]
        found = [role_id for role_id, name in names if name.lower() == wanted.lower()]
        if not found:
            if guild_id not in self._warned:
                self._warned.add(guild_id)
                log.warning(
                    "discord: server %s has no role %r (coordinator_role)", guild_id, wanted
                )
            return None
        return found[0]

    async def held(
        self, user_id: str, guild_id: str | None, roles: Sequence[str] | None, ask: bool
    ) -> bool | None:
        """Whether `user_id` holds the role: True, False, or None when it cannot be told.

        In a configured server `roles` (the member's roles as the interaction carries them)
        decide. Elsewhere (a DM, another server) Discord is asked for the member in each
        configured server, but only when `ask` is set (commands: a REST call per button click
        in a DM would be too many); otherwise the answer is None."""
        if not self.configured:
            return None
        if guild_id and self.counts_in(guild_id):
            role = await self.id_in(guild_id)
            return role is not None and role in (roles or ())
        if not ask:
            return None
        try:
            for guild in self.config.guild_ids:
                role = await self.id_in(str(guild))
                if role is not None and role in await self._member_roles(str(guild), user_id):
                    return True
        except discord.HTTPException as exc:
            log.warning("discord: could not check the coordinator role of %s: %s", user_id, exc)
            return None
        return False

    async def _member_roles(self, guild_id: str, user_id: str) -> list[str]:
        try:
            member = await self.client.http.get_member(guild_id, user_id)
        except discord.NotFound as exc:
            if exc.code == UNKNOWN_MEMBER:
                return []
            raise
        return [str(r) for r in member.get("roles") or ()]
