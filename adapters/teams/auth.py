"""Inbound auth: is this activity really from the Bot Framework, for this bot?

Every request to the messaging endpoint carries `Authorization: Bearer <JWT>`. It is accepted
only when all of these hold (anything else is a 401 and the activity is not read):
- the token is RS256-signed (never `alg=none`, never a symmetric algorithm) by a key listed in
  the JWKS that the OpenID metadata at `openid_metadata_url` names as its `jwks_uri`, and that
  key is endorsed for the activity's channel (`endorsements`, e.g. `msteams`);
- its issuer is the metadata's `issuer` (`https://api.botframework.com`);
- its audience is the bot's app id;
- it is not expired and already valid (`exp`, `nbf`, with `LEEWAY` seconds of clock skew);
- its `serviceurl` claim is the activity's `serviceUrl`, so a token for one service cannot be
  replayed to send the bot's answers elsewhere.

Metadata and keys are cached for `KEYS_MAX_AGE`; an unknown `kid` fetches them again (Microsoft
rolls keys), at most once per `REFETCH_PAUSE`, so forged tokens cannot make us hammer the
endpoint.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import jwt

log = logging.getLogger(__name__)

ISSUER = "https://api.botframework.com"
LEEWAY = 60  # seconds
KEYS_MAX_AGE = 24 * 3600.0
REFETCH_PAUSE = 60.0


class Unauthorized(Exception):
    """The request's token is missing or not acceptable (the reason is logged, not returned)."""


class InboundAuth:
    def __init__(
        self,
        app_id: str,
        metadata_url: str,
        session: Callable[[], aiohttp.ClientSession],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_id = app_id
        self.metadata_url = metadata_url
        self.session = session
        self.clock = clock
        self._issuer = ISSUER
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None
        self._refetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def verify(self, authorization: str | None, activity: dict[str, Any]) -> dict[str, Any]:
        """The token's claims, or `Unauthorized`."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("no bearer token")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"unreadable token: {exc}") from None
        if header.get("alg") != "RS256":
            raise Unauthorized(f"algorithm {header.get('alg')!r} is not accepted")
        key = await self._key(str(header.get("kid") or ""))
        channel = str(activity.get("channelId") or "")
        endorsements = key.get("endorsements")
        if endorsements is not None and channel not in endorsements:
            raise Unauthorized(f"key {header.get('kid')} is not endorsed for {channel!r}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                jwt.PyJWK(key, algorithm="RS256").key,
                algorithms=["RS256"],
                audience=self.app_id,
                issuer=self._issuer,
                leeway=LEEWAY,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(str(exc)) from None
        service_url = str(activity.get("serviceUrl") or "")
        claimed = str(claims.get("serviceurl") or claims.get("serviceUrl") or "")
        if not claimed or claimed.rstrip("/") != service_url.rstrip("/"):
            raise Unauthorized("the token's serviceurl is not the activity's serviceUrl")
        return claims

    async def _key(self, kid: str) -> dict[str, Any]:
        if not kid:
            raise Unauthorized("token without a key id")
        async with self._lock:
            now = self.clock()
            stale = self._fetched_at is None or now - self._fetched_at > KEYS_MAX_AGE
            paused = self._refetched_at is not None and now - self._refetched_at < REFETCH_PAUSE
            if stale:
                await self._fetch(now)
            elif kid not in self._keys and not paused:
                self._refetched_at = now
                await self._fetch(now)
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized(f"key {kid} is not in the JWKS")
        return key

    async def _fetch(self, now: float) -> None:
        try:
            metadata = await self._get_json(self.metadata_url)
            keys = await self._get_json(str(metadata["jwks_uri"]))
        except (TimeoutError, aiohttp.ClientError, KeyError, ValueError) as exc:
            log.error("teams: could not read the OpenID metadata or keys: %s", exc)
            if not self._keys:
                raise Unauthorized("signing keys unavailable") from None
            return
        self._issuer = str(metadata.get("issuer") or ISSUER)
        self._keys = {str(k["kid"]): k for k in keys.get("keys", []) if k.get("kid")}
        self._fetched_at = now

    async def _get_json(self, url: str) -> dict[str, Any]:
        timeout = aiohttp.ClientTimeout(total=10)
        async with self.session().get(url, timeout=timeout) as response:
            response.raise_for_status()
            return json.loads(await response.read())
