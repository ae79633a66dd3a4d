"""Connecting discord.py: where it talks to (REST and gateway), and the client itself.

discord.py has no per-client setting for either address, so they are set where discord.py
reads them, for the whole process (one Discord configuration per process):
- REST: `discord.http.Route.BASE` — every REST call, interaction callbacks and followups
  included, builds its URL from it;
- gateway: `DiscordWebSocket.DEFAULT_GATEWAY` — the first connection and any fresh one after an
  invalidated session use it (discord.py no longer asks `GET /gateway/bot`); resuming uses the
  `resume_gateway_url` Discord sent in READY, as Discord requires.

Intents: guilds (channels, threads, roles), guild messages and DMs. No privileged intent:
Discord delivers the content of DMs and of messages that mention the bot without Message
Content, and Maatje never lists members.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket

from adapters.discord.delivery import MAX_INLINE_WAIT, NO_MENTIONS


def point_at(api_base_url: str, gateway_url: str) -> None:
    """Send discord.py's REST calls to `api_base_url` (with the API version, like
    `https://discord.com/api/v10`) and its gateway connections to `gateway_url`."""
    discord.http.Route.BASE = api_base_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url.rstrip("/") + "/")


def intents() -> discord.Intents:
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    return wanted


class Client(discord.Client):
    """discord.py's client, forwarding messages and interactions to the adapter."""

    def __init__(
        self,
        on_message: Callable[[discord.Message], Awaitable[None]],
        on_interaction: Callable[[discord.Interaction], Awaitable[None]],
        **options: Any,
    ) -> None:
        options.setdefault("max_ratelimit_timeout", MAX_INLINE_WAIT)
        super().__init__(intents=intents(), allowed_mentions=NO_MENTIONS, **options)
        self._forward_message = on_message
        self._forward_interaction = on_interaction

    async def on_message(self, message: discord.Message) -> None:
        await self._forward_message(message)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self._forward_interaction(interaction)
