"""The fake Slack with Slack's message limits: it refuses `chat.postMessage` with 429 and
Retry-After (whole seconds, as Slack sends it) when a channel posts faster than its allowance
— `channel_rate` a second with bursts of `channel_burst` — or, with a `ceiling`, when the
workspace already accepted that many messages in the last second.

It time-stamps what it accepts (`perf_counter`), counts Maatje's idempotency keys (the
message metadata the adapter sends) to find messages posted twice, and lets a caller wait for
the next message in a channel (`expect`) without polling.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, deque

from aiohttp import web

from tests.slack.slack_fake import FakeSlack

POST = "chat.postMessage"


class LimitedSlack(FakeSlack):
    def __init__(
        self,
        channel_rate: float = 1.0,
        channel_burst: int = 3,
        ceiling: float | None = None,
    ) -> None:
        super().__init__()
        self.channel_rate, self.channel_burst, self.ceiling = channel_rate, channel_burst, ceiling
        self.accepted: list[tuple[float, str, str | None]] = []  # (time, channel, key)
        self.refused: list[tuple[float, str, str]] = []  # (time, channel, "channel"|"workspace")
        self.keys = Counter[str]()
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)
        self._window: deque[float] = deque()
        self._expected: dict[str, tuple[str | None, asyncio.Future[float]]] = {}
        self._counted: dict[str, int] = {}  # key prefix -> messages accepted with it
        self._counts_changed = asyncio.Event()

    def reset(self) -> None:
        """Forget what was posted and the limits' state (between benchmark runs)."""
        self.calls.clear()
        self.accepted.clear()
        self.refused.clear()
        self.keys.clear()
        self._buckets.clear()
        self._window.clear()
        self._expected.clear()
        self._counted = dict.fromkeys(self._counted, 0)

    async def wait_for_keys(self, prefix: str, count: int) -> None:
        """Wait until `count` accepted messages have idempotency keys starting with `prefix`."""
        self._counted.setdefault(prefix, 0)
        while self._counted[prefix] < count:
            self._counts_changed.clear()
            await self._counts_changed.wait()

    def duplicates(self) -> int:
        return sum(count - 1 for count in self.keys.values())

    def expect(self, channel: str, key_prefix: str | None) -> asyncio.Future[float]:
        """A future set to the arrival time of the next message in `channel` whose idempotency
        key starts with `key_prefix` (None: any message)."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._expected[channel] = (key_prefix, future)
        return future

    # -- the limits

    def _refusal(self, channel: str, now: float) -> tuple[str, float] | None:
        """Why a message to `channel` is refused now and for how long, or None."""
        tokens, at = self._buckets.get(channel, (float(self.channel_burst), now))
        tokens = min(self.channel_burst, tokens + (now - at) * self.channel_rate)
        if tokens < 1:
            self._buckets[channel] = (tokens, now)
            return "channel", (1 - tokens) / self.channel_rate
        if self.ceiling is not None:
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if len(self._window) >= self.ceiling:
                self._buckets[channel] = (tokens, now)
                return "workspace", self._window[0] + 1.0 - now
            self._window.append(now)
        self._buckets[channel] = (tokens - 1, now)
        return None

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] != POST:
            return await super()._api(request)
        params = await self._params(request)
        channel = str(params.get("channel", ""))
        now = time.perf_counter()
        refusal = self._refusal(channel, now)
        if refusal is not None:
            reason, wait = refusal
            self.refused.append((now, channel, reason))
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        return await super()._api(request)

    def _chat_postMessage(self, p: dict) -> dict:
        now = time.perf_counter()
        metadata = p.get("metadata") if isinstance(p.get("metadata"), dict) else {}
        key = (metadata.get("event_payload") or {}).get("key")
        channel = str(p["channel"])
        self.accepted.append((now, channel, key))
        if key:
            self.keys[key] += 1
            for prefix in self._counted:
                if key.startswith(prefix):
                    self._counted[prefix] += 1
                    self._counts_changed.set()
        expected = self._expected.get(channel)
        if expected is not None:
            prefix, future = expected
            if (prefix is None or (key or "").startswith(prefix)) and not future.done():
                del self._expected[channel]
                future.set_result(now)
        return super()._chat_postMessage(p)
