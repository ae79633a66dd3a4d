"""People's Slack profiles (`users.info`): name, time zone and locale.

`users.info` is in Slack's Tier 4 (100+ calls a minute, `adapters/slack/limits.py`). Lookups
are paced a little below that, but never by waiting: the outbox carries them out between the
messages it sends, and a lookup that sat out its turn would hold up every reply behind it (a
programme's launch brings hundreds of first messages at once). So a lookup beyond the burst
reserves the next free turn and is refused with `retry_after` until then; the core's
`profile.refresh` action comes back at that moment and finds its turn kept (a generic cell
rate algorithm: one lookup per `1/rate` seconds, `burst` at once). Mostly the turn is kept
sooner: the core asks for it when it plans the lookup (`Adapter.lookup_turn`, on the store's
thread), and the lookup is due only then, so a newcomer's lookup is not tried, refused and
put off first (three transactions each, at the very moment a crowd is being answered).

The name is the one a person filled in as their full name (`real_name`), else their display
name, else their handle: certificates and coordinators' overviews want the full name. Needs
the `users:read` scope (`include_locale` too); not `users:read.email`, Maatje never asks for
e-mail addresses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.delivery import classify
from adapters.slack.limits import TURN_SHARE, tier_of
from bot.adapter import DeliveryError, Profile

LOOKUP_RATE = TURN_SHARE * tier_of("users.info").per_minute / 60  # a second
LOOKUP_BURST = tier_of("users.info").burst
EARLY = 0.05
"""Seconds a lookup may come back before its kept turn (clocks differ a little)."""
KEPT_LIMIT = 10_000
FORGET_AFTER = 3600.0


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


class Turns:
    """Turns for lookups at `rate` a second, `burst` at once; a caller beyond that gets the
    time of a turn kept for it (`user`) instead of waiting. Safe to use from several threads
    (`keep` runs on the store's, `take` on the event loop's)."""

    def __init__(
        self, rate: float, burst: int, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = 1 / rate
        self.tolerance = (burst - 1) * self.interval
        self.monotonic = monotonic
        self._next = monotonic()  # when the next turn is free, were turns taken one by one
        self._kept: dict[str, float] = {}
        self._lock = threading.Lock()

    def take(self, user: str) -> float:
        """0 when `user` may be looked up now (their kept turn has come, or a turn is free);
        else the seconds until their kept turn."""
        with self._lock:
            now = self.monotonic()
            kept = self._kept.pop(user, None)
            if kept is None:
                kept = self._reserve(now)
                if kept <= now:
                    return 0.0
            elif kept <= now + EARLY:
                return 0.0
            self._kept[user] = kept
            return kept - now

    def keep(self, user: str) -> float:
        """The seconds until `user`'s turn (0: now), kept for their lookup (`take`)."""
        with self._lock:
            now = self.monotonic()
            kept = self._kept.get(user)
            if kept is None:
                kept = self._kept[user] = max(self._reserve(now), now)
            return max(0.0, kept - now)

    def _reserve(self, now: float) -> float:
        """The next free turn, taken (under the lock)."""
        if len(self._kept) > KEPT_LIMIT:  # turns whose lookup went to another process
            self._kept = {u: t for u, t in self._kept.items() if t > now - FORGET_AFTER}
        turn = max(self._next, now) - self.tolerance
        self._next = max(self._next, now) + self.interval
        return turn


class Profiles:
    def __init__(self, client: AsyncWebClient, turns: Turns | None = None) -> None:
        self.client = client
        self.turns = turns or Turns(LOOKUP_RATE, LOOKUP_BURST)

    async def lookup(self, user_id: str) -> Profile:
        wait = self.turns.take(user_id)
        if wait > 0:
            raise DeliveryError("slack: users.info paced", retry_after=wait)
        try:
            response = await self.client.users_info(user=user_id, include_locale=True)
        except Exception as exc:
            raise classify(exc) from exc
        return profile_of(response.get("user") or {})
