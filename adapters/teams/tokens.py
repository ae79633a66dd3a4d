"""Outbound auth: client-credentials tokens for the Bot Connector and Microsoft Graph.

One form POST to `token_url` exactly as configured (`{tenant_id}` filled in; plain http is
fine for a test server on loopback) per scope, reused until shortly before it expires. The
Bot Connector's scope is fixed; Graph's is the origin of `graph_base_url` (so a sovereign
cloud or a test server gets tokens for itself).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from bot.adapter import DeliveryError

log = logging.getLogger(__name__)

CONNECTOR_SCOPE = "https://api.botframework.com/.default"
EARLY = 300.0  # seconds before expiry a token is renewed


def graph_scope(graph_base_url: str) -> str:
    parts = urlsplit(graph_base_url)
    return f"{parts.scheme}://{parts.netloc}/.default"


@dataclass
class _Token:
    value: str
    renew_at: float


class ClientCredentials:
    def __init__(
        self,
        token_url: str,
        app_id: str,
        secret: str,
        session: Callable[[], aiohttp.ClientSession],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.app_id = app_id
        self.secret = secret
        self.session = session
        self.clock = clock
        self._tokens: dict[str, _Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def token(self, scope: str) -> str:
        cached = self._tokens.get(scope)
        if cached is not None and self.clock() < cached.renew_at:
            return cached.value
        async with self._locks.setdefault(scope, asyncio.Lock()):
            cached = self._tokens.get(scope)
            if cached is None or self.clock() >= cached.renew_at:
                cached = self._tokens[scope] = await self._fetch(scope)
        return cached.value

    def forget(self, scope: str) -> None:
        """Drop a token the service refused (revoked, or the secret changed)."""
        self._tokens.pop(scope, None)

    async def _fetch(self, scope: str) -> _Token:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.app_id,
            "client_secret": self.secret,
            "scope": scope,
        }
        started = self.clock()
        try:
            async with self.session().post(
                self.token_url, data=form, timeout=aiohttp.ClientTimeout(total=30)
            ) as response:
                body = await response.json(content_type=None)
                if response.status >= 400 or "access_token" not in (body or {}):
                    error = (body or {}).get("error") if isinstance(body, dict) else None
                    permanent = response.status in (400, 401) and error in (
                        "invalid_client",
                        "unauthorized_client",
                        "invalid_request",
                    )
                    raise DeliveryError(
                        f"teams: token endpoint answered {response.status} ({error})",
                        permanent=permanent,
                    )
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise DeliveryError(f"teams: token endpoint unreachable: {exc}") from exc
        lifetime = float(body.get("expires_in") or 3600)
        return _Token(str(body["access_token"]), started + max(lifetime - EARLY, lifetime / 2))
