"""The messaging endpoint: one aiohttp server for Bot Framework activities and the health check.

`POST {path}` reads the activity, verifies the caller's token (`auth`; 401 without reading
further when it is not acceptable) and hands the activity on. The answer waits until the core
has recorded the activity: Teams gives about 15 seconds and retries what it did not get a 2xx
for, so a crash never loses an activity Teams was told we have. `GET /healthz` answers `ok`
while the core can reach its store, 503 otherwise.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from adapters.teams.auth import InboundAuth, Unauthorized
from bot.health import health_response

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Teams activities are at most about 100 KB

Handler = Callable[[dict[str, Any]], Awaitable[tuple[int, Any]]]


class HttpServer:
    def __init__(
        self,
        auth: InboundAuth,
        handler: Handler,
        *,
        path: str,
        host: str,
        port: int,
        healthy: Callable[[], Any],
    ) -> None:
        self.auth = auth
        self.handler = handler
        self.host = host
        self.requested_port = port
        self.healthy = healthy
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self.web_app = web.Application(client_max_size=MAX_BODY)
        self.web_app.router.add_post(path, self._activity)
        self.web_app.router.add_get("/healthz", self._health)

    async def _activity(self, request: web.Request) -> web.Response:
        try:
            activity = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400, text="not JSON")
        if not isinstance(activity, dict):
            return web.Response(status=400, text="not an activity")
        try:
            await self.auth.verify(request.headers.get("Authorization"), activity)
        except Unauthorized as exc:
            log.info("teams: refused an activity: %s", exc)
            return web.Response(status=401, text="unauthorized")
        status, body = await self.handler(activity)
        if body is None:
            return web.Response(status=status)
        return web.json_response(body, status=status)

    async def _health(self, _request: web.Request) -> web.Response:
        return await health_response(self.healthy)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.web_app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.requested_port).start()
        self.port = self._runner.addresses[0][1]
        log.info("teams: listening on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
