"""A fake Slack that can stay broken for a while: 500s, 429s with Retry-After, requests that
hang past the client's timeout, or a post that is carried out but whose answer is lost.

`FakeSlack.fail` queues failures for the next call(s); here a *mode* holds until `recover()`,
which is what an outage looks like. Every chat.postMessage that Slack accepted is kept in
`posted`, so a test can count what a person really received, by the message's idempotency key
(the `metadata.event_payload.key` the adapter sends along).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.slack.slack_fake import Call, FakeSlack

HANG_LIMIT = 10.0  # a hung request is answered at the latest after this many seconds


@dataclass(frozen=True)
class Mode:
    """How a method misbehaves until `recover()`."""

    status: int = 500  # 500-599: server error; 429: rate limited
    retry_after: int | None = None  # seconds, with 429
    hang: bool = False  # never answer in time (the request is not carried out)
    # Carry the request out, then answer 504: the gateway gave up on it, so the client cannot
    # know it was done. Answered at once, so that no test waits on a timeout to see this.
    lose_answer: bool = False
    times: int | None = None  # lifted by itself after this many calls (None: until recover)


class FaultySlack(FakeSlack):
    def __init__(self) -> None:
        super().__init__()
        self.modes: dict[str, Mode] = {}
        self.posted: list[dict[str, Any]] = []
        self.refused = Counter[str]()
        self._release = asyncio.Event()

    # -- control

    def break_(self, method: str, mode: Mode) -> None:
        """From now on `method` misbehaves as `mode` says, until `recover()`."""
        self._release.clear()
        self.modes[method] = mode

    def recover(self) -> None:
        self.modes.clear()
        self._release.set()  # hung requests get their (too late) answer now

    async def stop(self) -> None:
        self.recover()
        await super().stop()

    # -- what reached people

    def key(self, params: dict[str, Any]) -> str:
        metadata = params.get("metadata") or {}
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        return str((metadata.get("event_payload") or {}).get("key", ""))

    def key_counts(self) -> Counter[str]:
        return Counter(self.key(p) for p in self.posted)

    def posted_to(self, channel: str) -> list[dict[str, Any]]:
        return [p for p in self.posted if p["channel"] == channel]

    def _chat_postMessage(self, p: dict) -> dict:
        self.posted.append(p)
        return super()._chat_postMessage(p)

    def _users_info(self, p: dict) -> dict:
        """Everyone who writes is a member of the workspace (Maatje looks each one up)."""
        if p["user"] not in self.users:
            self.add_user(p["user"], f"Person {p['user']}")
        return super()._users_info(p)

    # -- the Web API, broken on request

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        mode = self.modes.get(method)
        if mode is None:
            return await super()._api(request)
        auth = request.headers.get("Authorization", "")
        params = await self._params(request)
        self.calls.append(Call(method, params, auth.removeprefix("Bearer ") or None))
        self.refused[method] += 1
        if mode.times is not None and self.refused[method] >= mode.times:
            del self.modes[method]
        await self._notify()
        if mode.lose_answer:
            handler = getattr(self, "_" + method.replace(".", "_"))
            handler(params)  # carried out: the message is in the channel
            return web.Response(status=504, text="gateway timeout")
        if mode.hang:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), HANG_LIMIT)
            return web.Response(status=503, text="too late")
        if mode.status == 429:
            headers = {} if mode.retry_after is None else {"Retry-After": str(mode.retry_after)}
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers=headers
            )
        return web.Response(status=mode.status, text="upstream broke")
