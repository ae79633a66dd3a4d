"""HTTP mode: one aiohttp server for Slack's requests and the health check.

`POST {path}` takes events, slash commands and interactions alike. The signature is checked on
the raw bytes before anything parses the body (`verify`): a forged, unsigned or stale request
gets 401 and changes nothing, a signed body that cannot be read gets 400, and neither leaves a
traceback or a log line per request. An Events API callback then goes straight to the
adapter's listener for events (`events`): bolt's dispatch (parsing the request again, checking
the signature again, its middleware and listener matching) was a tenth or more of the event
loop's work per message at a kick-off, and the listener needs none of it (docs/decisions.md).
Everything else (slash commands, interactions, url_verification) goes to bolt. `GET /healthz`
answers `ok` while the core can reach its store, 503 otherwise.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from adapters.slack.verify import Refusal, RefusalLog, check_signature, is_ssl_check
from bot.health import health_response

log = logging.getLogger(__name__)

EventListener = Callable[[Callable[..., Awaitable[None]], dict[str, Any]], Awaitable[Any]]
"""`listener(ack, body)`, as bolt calls it; a `BoltResponse` it returns is the answer."""


async def _acknowledge(*_args: Any, **_fields: Any) -> None:
    """An event's acknowledgement is the HTTP answer itself: nothing to send with it."""


class HttpServer:
    def __init__(
        self,
        app: AsyncApp,
        *,
        path: str,
        host: str,
        port: int,
        healthy: Callable[[], Any],
        signing_secret: str | None = None,
        events: EventListener | None = None,
    ) -> None:
        """Without `signing_secret` requests go straight to bolt (the benchmark's bare app);
        without `events`, events go to bolt too."""
        self.app = app
        self.events = events
        self.host = host
        self.requested_port = port
        self.healthy = healthy
        self.signing_secret = signing_secret
        self.refusals = RefusalLog()
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self.web_app = web.Application()
        self.web_app.router.add_post(path, self._slack)
        self.web_app.router.add_get("/healthz", self._health)

    async def _slack(self, request: web.Request) -> web.Response:
        try:
            if self.signing_secret is not None:
                raw = await request.read()
                if is_ssl_check(raw):
                    return web.Response(status=200)
                check_signature(self.signing_secret, raw, request.headers)
                if self.events is not None and raw.startswith(b"{"):
                    body = self._json(raw)
                    if body.get("type") == "event_callback":
                        return await self._event(body)
            try:
                bolt_request = await to_bolt_request(request)
            except Exception as exc:  # signed, but not a body bolt can read
                raise Refusal(400, f"unreadable body ({type(exc).__name__})") from None
        except Refusal as refusal:
            self.refusals.note(refusal, request.remote)
            return web.Response(status=refusal.status)
        response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    @staticmethod
    def _json(raw: bytes) -> dict[str, Any]:
        """A body that starts with `{` is a JSON object, or unreadable."""
        try:
            return json.loads(raw)
        except ValueError:
            raise Refusal(400, "unreadable body (not JSON)") from None

    async def _event(self, body: dict[str, Any]) -> web.Response:
        assert self.events is not None
        answer = await self.events(_acknowledge, body)
        status = answer.status if isinstance(answer, BoltResponse) else 200
        return web.Response(status=status)

    async def _health(self, _request: web.Request) -> web.Response:
        return await health_response(self.healthy)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.requested_port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("slack: listening on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        self.refusals.flush()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
