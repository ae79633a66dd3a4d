"""The OAuth2 URL that adds Maatje to a Discord server (`maatje discord invite-url`).

Scopes: `bot` (the bot user joins the server) and `applications.commands` (`/maatje`).
Permissions, each for one thing Maatje does (docs/discord.md explains them for coordinators):
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode

import discord

AUTHORIZE = "https://discord.com/oauth2/authorize"
SCOPES = ("bot", "applications.commands")

WHY = {
    "view_channel": "see the group and pair channels it creates, to post in them",
    "send_messages": "answer mentions and post in group and pair channels",
    "send_messages_in_threads": "post in pair threads",
    "read_message_history": "find a pair's archived private thread again after a week quiet",
    "attach_files": "send a person the export of their data (privacy)",
    "manage_channels": "create the programme's category and the private group channels",
    "manage_roles": "set who may see a private channel (permission overwrites), and let a "
    "new group member in later",
    "create_private_threads": "open pair spaces as private threads (pair_space = thread)",
    "manage_threads": "reopen archived pair threads, and let the coordinator role see them",
}


def permissions() -> discord.Permissions:
    return discord.Permissions(**dict.fromkeys(WHY, True))


def invite_url(application_id: int) -> str:
    """The URL a server admin opens to add the bot with exactly the permissions it needs."""
    query = {
        "client_id": str(application_id),
        "scope": " ".join(SCOPES),
        "permissions": str(permissions().value),
        "integration_type": "0",
    }
    return f"{AUTHORIZE}?{urlencode(query)}"


def application_id_from_token(token: str) -> int | None:
    """The id in a bot token's first part (the bot's user id, which is the application id
    for every application made since 2016); None when the token does not look like one."""
    first = token.strip().split(".")[0]
    try:
        decoded = base64.b64decode(first + "=" * (-len(first) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(decoded) if decoded.isdigit() else None
