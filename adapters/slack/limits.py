"""Slack's rate limits in one place, and the pacers that keep Maatje inside them.

Slack limits each Web API method per workspace by *tier* (Tier 1: 1+ calls a minute, Tier 2:
20+, Tier 3: 50+, Tier 4: 100+, bursts tolerated). Posting messages is special: about one
message per second per channel with short bursts, under a workspace-wide ceiling that Slack
does not publish and enforces with 429 and Retry-After.

So: `chat.postMessage` waits for its channel's bucket and then for the workspace's adaptive
pacer (which learns the ceiling from refusals, `bot.pacing.AdaptivePacer`); every other method
waits for its own bucket, sized by its tier in `METHODS`. All queues serve urgent calls first.
A method Maatje starts calling belongs in `METHODS` (its tier is on its page in Slack's method
reference); one missing is paced as `DEFAULT_TIER`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.pacing import AdaptivePacer, Pacer, Pacers

log = logging.getLogger(__name__)

MESSAGES = "chat.postMessage"
CHANNEL_RATE = 1.0  # messages per second in one channel ...
CHANNEL_BURST = 3  # ... with a short burst, as a reply of a few messages needs
WORKSPACE_CEILING = 1000.0
"""Messages per second across the workspace to start with: more than one process sends, so
until Slack refuses something only the channels' limits hold (a guess below what a kick-off
needs would make everyone wait for the guess; a learned ceiling replaces it at the first 429)."""
WORKSPACE_FLOOR = 1.0  # never slower than this after refusals
MAX_INLINE_WAIT = 10.0
"""A call waits at most this long for a Retry-After in place; a longer one raises (the outbox
retries the message later without holding its claim)."""


@dataclass(frozen=True)
class Tier:
    per_minute: float
    burst: int


TIERS: Mapping[int, Tier] = {
    1: Tier(1, 1),
    2: Tier(20, 3),
    3: Tier(50, 5),
    4: Tier(100, 10),
}
DEFAULT_TIER = 3
UNPACED = None  # not paced (only Slack's own pauses hold it)
_UNPACED_LIMIT = Tier(60_000, 1000)
METHODS: Mapping[str, int | None] = {
    "auth.test": UNPACED,  # once at start-up
    "apps.connections.open": UNPACED,  # Socket Mode (re)connects
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "conversations.create": 2,
    "conversations.invite": 3,
    "conversations.list": 2,
    "conversations.members": 4,
    "conversations.open": 3,
    "conversations.unarchive": 2,
    "files.completeUploadExternal": 4,
    "files.getUploadURLExternal": 4,
    # Profile lookups take turns instead of waiting for them (`adapters/slack/profiles.py`,
    # at `TURN_SHARE` of this tier): a lookup that sat out its turn would hold up replies.
    "users.info": 4,
    # Opening a form answers a click whose trigger expires after 3 seconds: waiting in a queue
    # would only let it expire. A 429 is still honoured like any other.
    "views.open": UNPACED,
    "views.publish": 4,
    "views.update": 4,
}


TURN_SHARE = 0.9
"""Callers that keep turns of their own stay this far under their tier, so that the bucket
every call passes through here never makes them wait."""


def tier_of(method: str) -> Tier:
    """The limit `method` is paced at (its tier's, or the default tier's)."""
    tier = METHODS.get(method, DEFAULT_TIER)
    return TIERS[tier] if tier is not None else _UNPACED_LIMIT


def retry_after(headers: Mapping[str, Any] | None) -> float | None:
    """Slack's Retry-After header, in seconds."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list | tuple) else value
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


class SlackLimits:
    """The pacers of one workspace. `before` waits for a call's turn and returns when it
    left; `accepted` and `refused` (a 429) report how it went."""

    def __init__(
        self,
        *,
        tiers: Mapping[int, Tier] = TIERS,
        channel_rate: float = CHANNEL_RATE,
        channel_burst: int = CHANNEL_BURST,
        workspace_ceiling: float = WORKSPACE_CEILING,
        workspace_burst: int = 1,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
    ) -> None:
        self.tiers = tiers
        self._monotonic, self._sleep = monotonic, sleep
        self.channels = Pacers(channel_rate, channel_burst, monotonic, sleep)
        self.workspace = AdaptivePacer(
            workspace_ceiling, WORKSPACE_FLOOR, workspace_burst, monotonic, sleep
        )
        self.methods: dict[str, Pacer] = {}
        self.refusals = Counter[str]()
        self._refused_channels: deque[tuple[float, str | None]] = deque()

    def _method(self, method: str) -> Pacer:
        pacer = self.methods.get(method)
        if pacer is None:
            tier = METHODS.get(method, DEFAULT_TIER)
            limit = self.tiers[tier] if tier is not None else _UNPACED_LIMIT
            pacer = Pacer(limit.per_minute / 60, limit.burst, self._monotonic, self._sleep)
            self.methods[method] = pacer
        return pacer

    async def before(self, method: str, channel: str | None) -> float:
        """Wait until `method` (in `channel`) may be called; raises `bot.pacing.Paused` when
        Slack asked for a longer pause than `MAX_INLINE_WAIT`."""
        if method == MESSAGES:
            if channel:
                await self.channels[channel].wait(patience=MAX_INLINE_WAIT)
            await self.workspace.wait(patience=MAX_INLINE_WAIT)
        else:
            await self._method(method).wait(patience=MAX_INLINE_WAIT)
        return self._monotonic()

    def accepted(self, method: str) -> None:
        if method == MESSAGES:
            self.workspace.accepted()

    def refused(self, method: str, channel: str | None, sent_at: float, wait: float) -> None:
        """Slack answered 429 with Retry-After `wait` to a call that left at `sent_at`. A
        message refused in a channel that had used up its burst may have met that channel's
        own limit: the channel pauses alone, unless another channel was refused within the
        second too. Otherwise it met the workspace's ceiling: every message pauses, and the
        workspace's rate is cut."""
        self.refusals[method] += 1
        if method != MESSAGES:
            self._method(method).pause(wait)
            return
        pacer = self.channels.get(channel) if channel else None
        at_its_limit = pacer is not None and pacer.tokens < 1
        if pacer is not None:
            pacer.pause(wait)
        now = self._monotonic()
        while self._refused_channels and self._refused_channels[0][0] < now - 1.0:
            self._refused_channels.popleft()
        elsewhere = any(c != channel for _, c in self._refused_channels)
        if (not at_its_limit or elsewhere) and self.workspace.refused(sent_at, wait):
            log.info(
                "slack: the workspace's messages were refused for %.0f s; now %.1f a second "
                "(its ceiling measured at %.1f)",
                wait,
                self.workspace.rate,
                self.workspace.measured,
            )
        self._refused_channels.append((now, channel))
