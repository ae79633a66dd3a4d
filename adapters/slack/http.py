"""HTTP mode: one aiohttp server for Slack's requests and the health check.

`POST {path}` takes events, slash commands and interactions alike. The signature is checked on
the raw bytes before anything parses the body (`verify`): a forged, unsigned or stale request
gets 401 and changes nothing, a signed body that cannot be read gets 400, and neither leaves a
traceback or a log line per request. What passes goes to bolt (which answers url_verification
and checks the signature once more). `GET /healthz` answers `ok` while the core can reach its
store, 503 otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from adapters.slack.verify import Refusal, RefusalLog, check_signature, is_ssl_check
from bot.health import health_response

log = logging.getLogger(__name__)


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
    ) -> None:
        """Without `signing_secret` requests go straight to bolt (the benchmark's bare app)."""
        self.app = app
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
            try:
                bolt_request = await to_bolt_request(request)
            except Exception as exc:  # signed, but not a body bolt can read
                raise Refusal(400, f"unreadable body ({type(exc).__name__})") from None
        except Refusal as refusal:
            self.refusals.note(refusal, request.remote)
            return web.Response(status=refusal.status)
        response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

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
