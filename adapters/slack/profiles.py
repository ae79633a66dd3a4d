"""People's Slack profiles (`users.info`): name, time zone and locale.

`users.info` is in Slack's Tier 4 (100+ calls a minute); lookups are paced below that, so a
busy morning of first messages trickles out instead of being refused. The name is the one a
person filled in as their full name (`real_name`), else their display name, else their
handle: certificates and coordinators' overviews want the full name. Needs the `users:read`
scope (`include_locale` too); `users:read.email` is not needed, Maatje never asks for e-mail
addresses.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.delivery import classify
from bot.adapter import Profile
from bot.pacing import Pacer

LOOKUP_RATE = 90 / 60  # users.info: Tier 4, 100+ a minute
LOOKUP_BURST = 10


def profile_of(user: dict[str, Any]) -> Profile:
    """A `users.info` user object as a `Profile` (raw text: whoever shows it escapes it)."""
    details = user.get("profile") or {}
    name = (
        details.get("real_name")
        or user.get("real_name")
        or details.get("display_name")
        or user.get("name")
    )
    return Profile(
        display_name=(name or "").strip() or None,
        locale=user.get("locale") or None,
        timezone=user.get("tz") or None,
    )


class Profiles:
    def __init__(self, client: AsyncWebClient, pacer: Pacer | None = None) -> None:
        self.client = client
        self.pacer = pacer or Pacer(LOOKUP_RATE, LOOKUP_BURST)

    async def lookup(self, user_id: str) -> Profile:
        try:
            await self.pacer.wait()
            response = await self.client.users_info(user=user_id, include_locale=True)
        except Exception as exc:
            raise classify(exc) from exc
        return profile_of(response.get("user") or {})
