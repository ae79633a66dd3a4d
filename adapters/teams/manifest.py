"""The Teams app package: manifest.json and two icons, zipped, for sideloading or the admin
centre (`maatje teams manifest`).

The bot's commands are its command menu (Teams has no slash commands; a person picks one or
types it). Teams shows at most `COMMAND_LIMIT` commands per scope: the participants' commands
come first, coordinators' after them; `help` lists them all. `supportsFiles` lets Maatje offer
files in the personal chat. The icons are drawn here (two overlapping rings: a pair).
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from collections.abc import Sequence

SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.19/MicrosoftTeams.schema.json"
MANIFEST_VERSION = "1.19"
COMMAND_LIMIT = 10
TITLE_LIMIT = 32
DESCRIPTION_LIMIT = 128
ACCENT = (0x2B, 0x6C, 0xB0)


def manifest(
    app_id: str,
    commands: Sequence[tuple[str, str]],
    *,
    name: str = "Maatje",
    version: str = "1.0.0",
    website: str = "https://example.org/maatje",
    valid_domain: str | None = None,
) -> dict:
    """`commands`: (name, what it does), participants' first."""
    listed = [
        {"title": title[:TITLE_LIMIT], "description": (text or title)[:DESCRIPTION_LIMIT]}
        for title, text in commands[:COMMAND_LIMIT]
    ]
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": "Maatje",
            "websiteUrl": website,
            "privacyUrl": website,
            "termsOfUseUrl": website,
        },
        "name": {"short": name[:30], "full": f"{name}: group mentoring"[:100]},
        "description": {
            "short": "Group mentoring programmes in Teams"[:80],
            "full": (
                "Maatje runs group mentoring programmes in chat: the intake in a personal chat, "
                "matching approved by coordinators, a private chat per mentor-mentee pair, "
                "meetings with calendar invites, check-ins, polls and certificates."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal", "groupChat", "team"],
                "supportsFiles": True,
                "isNotificationOnly": False,
                "commandLists": [{"scopes": ["personal", "groupChat", "team"], "commands": listed}],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [valid_domain] if valid_domain else [],
    }


def app_package(app_id: str, commands: Sequence[tuple[str, str]], **details: str) -> bytes:
    """The zip Teams accepts: manifest.json, color.png (192×192), outline.png (32×32)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            "manifest.json", json.dumps(manifest(app_id, commands, **details), indent=2)
        )
        package.writestr("color.png", rings(192, (*ACCENT, 255), (255, 255, 255, 255)))
        package.writestr("outline.png", rings(32, (0, 0, 0, 0), (255, 255, 255, 255)))
    return buffer.getvalue()


def rings(size: int, background: tuple, ink: tuple) -> bytes:
    """A square PNG: two overlapping rings in `ink` on `background` (RGBA)."""
    radius, width = size * 0.22, max(1.5, size * 0.06)
    centres = ((size * 0.39, size * 0.5), (size * 0.61, size * 0.5))
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # filter type: none
        for x in range(size):
            on = any(
                abs(((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2) ** 0.5 - radius) <= width / 2
                for cx, cy in centres
            )
            row += bytes(ink if on else background)
        rows.append(bytes(row))
    return _png(size, size, b"".join(rows))


def _png(width: int, height: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
