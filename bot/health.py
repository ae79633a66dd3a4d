"""`GET /healthz`: `ok` while the core reaches its store, 503 otherwise.

Slack's HTTP mode serves it beside the events endpoint, Teams beside its messaging endpoint. In
every other mode (Socket Mode, Discord, both) `maatje run` serves it on `[health] port` with a
`HealthServer`, so a container health check or a load balancer sees the same answer whichever
platforms are on.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

HEALTH_TIMEOUT = 5.0


async def health_response(healthy: Callable[[], Any]) -> web.Response:
    """Run the check (a blocking one off the event loop, so it cannot stall other requests)."""
    try:
        if inspect.iscoroutinefunction(healthy):
            ok = await asyncio.wait_for(healthy(), HEALTH_TIMEOUT)
        else:
            ok = await asyncio.wait_for(asyncio.to_thread(healthy), HEALTH_TIMEOUT)
            if inspect.isawaitable(ok):
                ok = await asyncio.wait_for(ok, HEALTH_TIMEOUT)
    except Exception:
        log.exception("health check failed")
        ok = False
    if ok:
        return web.Response(text="ok")
    return web.Response(status=503, text="unavailable")


class HealthServer:
    def __init__(self, healthy: Callable[[], Any], host: str, port: int) -> None:
        self.healthy = healthy
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", lambda _request: health_response(self.healthy))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.requested_port).start()
        self.port = self._runner.addresses[0][1]
        log.info("health check on %s:%s/healthz", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
