"""Making text a person typed inert on Discord: no pings, no markup, no masked links."""

from __future__ import annotations

import re

import discord

# Discord's angle-bracket markup: channels <#id>, commands </name:id>, timestamps <t:…>,
# custom emoji <:name:id> and <a:name:id>, mentions <@id> <@!id> <@&id>, guide links <id:…>.
_MARKUP = re.compile(r"<(?=[#/@:]|a:|t:|id:)")
ZERO_WIDTH_SPACE = "\u200b"


def escape(text: str) -> str:
    """Markdown is escaped (so `**x**` shows as typed, `[a](b)` is no masked link), mentions
    are broken (`@everyone`, `<@123>`, `<@&role>` never ping, even if a send forgot
    `allowed_mentions`), and every `<…>` markup shows as typed: a zero-width space after `<`
    keeps Discord from turning `<#id>` into a channel link, `</cmd:id>` into a command,
    `<t:…>` into a date or `<:name:id>` into someone's custom emoji."""
    text = discord.utils.escape_mentions(discord.utils.escape_markdown(text))
    return _MARKUP.sub("<" + ZERO_WIDTH_SPACE, text)
