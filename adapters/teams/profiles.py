"""A person's profile from what the Bot Connector and Graph say about them (pure).

Graph's mailbox settings name the time zone the Windows way ("W. Europe Standard Time") or,
for some mailboxes, the IANA way; Babel's copy of CLDR's Windows zone table turns the first
into an IANA name. An unknown zone or language is left out rather than guessed.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.core import get_global

from bot.adapter import Profile


def iana_zone(name: str | None) -> str | None:
    if not name:
        return None
    candidate = get_global("windows_zone_mapping").get(name, name)
    try:
        ZoneInfo(candidate)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return candidate


def _language(locale: Any) -> str | None:
    return str(locale).split("-")[0].lower() if locale else None


def profile_from(member: Any, user: dict | None, mailbox: dict | None) -> Profile:
    """`member`: the connector's account (or None); `user`, `mailbox`: Graph's answers."""
    user, mailbox = user or {}, mailbox or {}
    name = getattr(member, "name", None) or user.get("displayName")
    locale = (mailbox.get("language") or {}).get("locale") or user.get("preferredLanguage")
    return Profile(
        display_name=name or None,
        locale=_language(locale),
        timezone=iana_zone(mailbox.get("timeZone")),
    )
