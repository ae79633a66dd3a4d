"""HTTP mode: one aiohttp server for Slack's requests and the health check.

`POST {path}` takes events, slash commands and interactions alike; bolt verifies the
signature and timestamp (a forged or stale request gets 401 and changes nothing) and answers
url_verification. `GET /healthz` answers `ok` while the core can reach its store, 503 otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.health import health_response

log = logging.getLogger(__name__)


class HttpServer:
    def __init__(
        self, app: AsyncApp, *, path: str, host: str, port: int, healthy: Callable[[], Any]
    ) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.healthy = healthy
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self.web_app = web.Application()
        self.web_app.router.add_post(path, self._slack)
        self.web_app.router.add_get("/healthz", self._health)

    async def _slack(self, request: web.Request) -> web.Response:
        response = await self.app.async_dispatch(await to_bolt_request(request))
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
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
