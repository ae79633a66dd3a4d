"""Time zones: checking what a platform reports, recognising what a person types, naming a zone
for a reader.

Every zone Maatje stores is an IANA name (`Europe/Amsterdam`), whichever way it arrived: a
platform's profile, an event (Teams' clientInfo), or a person typing "New York".
"""

from __future__ import annotations

import unicodedata
import zoneinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location

_ALIASES = {"utc": "UTC", "gmt": "UTC", "z": "UTC"}


@lru_cache(maxsize=1)
def _known() -> dict[str, str]:
    """Folded IANA names and city names → the IANA name ("new york" → America/New_York).
    A city that is the last part of several names (none in practice) keeps the first."""
    found: dict[str, str] = {}
    for name in sorted(zoneinfo.available_timezones()):
        if name.startswith(("Etc/", "SystemV/")) or "/" not in name:
            continue
        found.setdefault(_fold(name), name)
        found.setdefault(_fold(name.rsplit("/", 1)[1]), name)
    return found


def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(plain.replace("_", " ").replace("-", " ").split()).casefold()


def valid(name: str | None) -> str | None:
    """`name` when it is a time zone this machine knows, else None (a platform's odd value)."""
    if not name or len(name) > 64:
        return None
    try:
        ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
    return name


def find(typed: str) -> str | None:
    """The zone a person means: an IANA name in any case ("america/new_york"), a city in its
    zone's name ("New York", "amsterdam"), or UTC; None when nothing fits."""
    folded = _fold(typed)
    if folded in _ALIASES:
        return _ALIASES[folded]
    return _known().get(folded)


def city(zone: str, language: str) -> str:
    """How a reader knows the zone: its city in their language ("New York", "Amsterdam")."""
    try:
        return get_timezone_location(ZoneInfo(zone), locale=language, return_city=True)
    except (LookupError, ValueError):
        return zone
