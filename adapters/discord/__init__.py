"""Maatje on Discord: discord.py on the outside, neutral events inside."""

from adapters.discord.adapter import DiscordAdapter, create_adapter
from adapters.discord.escape import escape
from adapters.discord.invite import application_id_from_token, invite_url

__all__ = [
    "DiscordAdapter",
    "application_id_from_token",
    "create_adapter",
    "escape",
    "invite_url",
]
