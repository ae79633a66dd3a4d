"""Making text a person typed inert on Discord: no pings, no markup, no masked links."""

from __future__ import annotations

import discord


def escape(text: str) -> str:
    """Markdown is escaped (so `**x**` shows as typed, `[a](b)` is no masked link) and
    mentions are broken (`@everyone`, `<@123>`, `<@&role>` never ping, even if a send forgot
    `allowed_mentions`)."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))
