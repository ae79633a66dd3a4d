"""A fake Microsoft cloud on loopback, as the Teams adapter meets it: the token endpoint, the
Bot Framework's OpenID metadata and JWKS (with a key the tests sign activities with), the Bot
Connector (the activities' serviceUrl), Microsoft Graph and a OneDrive upload URL.

It records every call, checks the bearer token on connector and Graph calls, answers like the
real services (ids, 201/409, OData filters the adapter uses) and can be told to fail (429 with
Retry-After, 5xx) a number of times.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

TENANT = "72f988bf-0000-4000-8000-00000000cafe"
APP_ID = "a1b2c3d4-0000-4000-8000-00000000b07"
BOT_ID = f"28:{APP_ID}"
SECRET = "test-app-password"
KID = "test-key-1"
ISSUER = "https://api.botframework.com"
CATALOG_ID = "catalog-maatje"
TIMEOUT = 5.0


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: rsa.RSAPrivateKey, kid: str, endorsements: list[str]) -> dict[str, Any]:
    numbers = key.public_key().public_numbers()
    return {
        "kty": "RSA",
        "use": "sig",
        "kid": kid,
        "n": _b64(numbers.n),
        "e": _b64(numbers.e),
        "endorsements": endorsements,
    }


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    token: str | None


@dataclass
class Failure:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


@dataclass
class User:
    aad: str
    member_id: str
    name: str
    locale: str = "en-US"
    windows_zone: str = "W. Europe Standard Time"
    zone: str = "Europe/Amsterdam"
    """What the person's Teams client reports (`localTimezone`, clientInfo)."""


class FakeCloud:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.tokens_issued: list[dict[str, str]] = []
        self.posted: dict[str, list[dict[str, Any]]] = {}
        self.updated: list[tuple[str, str, dict[str, Any]]] = []
        self.users: dict[str, User] = {}
        self.installed_for: dict[str, str] = {}  # aad → personal chat id
        self.chats: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}
        self.failures: list[tuple[re.Pattern[str], Failure]] = []
        self.keys = [jwk(SIGNING_KEY, KID, ["msteams"])]
        self.catalog = [{"id": CATALOG_ID, "externalId": APP_ID, "displayName": "Maatje"}]
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.root = ""

    # -- addresses ---------------------------------------------------------------------------

    @property
    def service_url(self) -> str:
        return f"{self.root}/svc/"

    @property
    def metadata_url(self) -> str:
        return f"{self.root}/v1/.well-known/openidconfiguration"

    @property
    def token_url(self) -> str:
        return f"{self.root}/{{tenant_id}}/oauth2/v2.0/token"

    @property
    def graph_url(self) -> str:
        return f"{self.root}/graph/v1.0"

    # -- control -----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._route)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.root = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def add_user(self, aad: str, name: str, **details: str) -> User:
        user = User(aad, f"29:{aad}", name, **details)
        self.users[aad] = user
        return user

    def fail(self, path: str, status: int, times: int = 1, **headers: str) -> None:
        """Answer the next `times` calls whose path matches `path` (a regex) with `status`."""
        self.failures.append((re.compile(path), Failure(status, headers, times)))

    def find(self, method: str, path: str) -> list[Call]:
        pattern = re.compile(path)
        return [c for c in self.calls if c.method == method and pattern.fullmatch(c.path)]

    def conversation_of(self, aad: str) -> str:
        return f"a:personal-{aad}"

    def activities(self, conversation: str) -> list[dict[str, Any]]:
        return self.posted.get(conversation, [])

    async def wait_for(self, method: str, path: str, count: int = 1) -> list[Call]:
        async def enough() -> list[Call]:
            while len(found := self.find(method, path)) < count:
                self._changed.clear()
                await self._changed.wait()
            return found

        return await asyncio.wait_for(enough(), TIMEOUT)

    # -- dispatch ----------------------------------------------------------------------------

    async def _route(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        raw = await request.read()
        body: Any = raw
        if request.content_type == "application/json" and raw:
            body = await request.json()
        elif request.content_type == "application/x-www-form-urlencoded":
            body = dict(await request.post())
        auth = request.headers.get("Authorization", "")
        call = Call(request.method, path, dict(request.query), body, auth.removeprefix("Bearer "))
        self.calls.append(call)
        self._changed.set()
        for pattern, failure in self.failures:
            if failure.times > 0 and pattern.fullmatch(path):
                failure.times -= 1
                return web.json_response(
                    {"error": {"code": "Throttled"}}, status=failure.status, headers=failure.headers
                )
        if path.endswith("/oauth2/v2.0/token"):
            return self._token(path, body)
        if path == "/v1/.well-known/openidconfiguration":
            return web.json_response(
                {"issuer": ISSUER, "jwks_uri": f"{self.root}/v1/.well-known/keys"}
            )
        if path == "/v1/.well-known/keys":
            return web.json_response({"keys": self.keys})
        if path.startswith("/upload/"):
            self.uploads[path.removeprefix("/upload/")] = bytes(raw)
            return web.json_response({"id": "drive-item"}, status=201)
        if not call.token or not call.token.startswith("token-"):
            return web.json_response({"error": "unauthorized"}, status=401)
        if path.startswith("/svc/v3/"):
            return self._connector(request.method, path.removeprefix("/svc"), body)
        if path.startswith("/graph/v1.0/"):
            return self._graph(request.method, path.removeprefix("/graph/v1.0"), call)
        return web.json_response({"error": "not found"}, status=404)

    def _token(self, path: str, form: dict[str, str]) -> web.Response:
        if form.get("client_secret") != SECRET or form.get("client_id") != APP_ID:
            return web.json_response({"error": "invalid_client"}, status=401)
        if path != f"/{TENANT}/oauth2/v2.0/token":
            return web.json_response({"error": "invalid_tenant"}, status=400)
        self.tokens_issued.append(form)
        token = f"token-{next(self._ids)}-{form['scope']}"
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3599, "access_token": token}
        )

    # -- the Bot Connector -------------------------------------------------------------------

    def _connector(self, method: str, path: str, body: Any) -> web.Response:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if method == "POST" and parts == ["v3", "conversations"]:
            member = body["members"][0]["id"]
            aad = member.removeprefix("29:")
            return web.json_response({"id": self.conversation_of(aad)})
        if method == "POST" and len(parts) == 4 and parts[3] == "activities":
            activity_id = f"act-{next(self._ids)}"
            self.posted.setdefault(parts[2], []).append({**body, "id": activity_id})
            return web.json_response({"id": activity_id}, status=201)
        if method == "PUT" and len(parts) == 5 and parts[3] == "activities":
            self.updated.append((parts[2], parts[4], body))
            return web.json_response({"id": parts[4]})
        if method == "GET" and len(parts) == 5 and parts[3] == "members":
            user = next((u for u in self.users.values() if u.member_id == parts[4]), None)
            if user is None:
                return web.json_response({"error": "MemberNotFound"}, status=404)
            return web.json_response(
                {"id": user.member_id, "name": user.name, "aadObjectId": user.aad}
            )
        return web.json_response({"error": "not found"}, status=404)

    # -- Graph -------------------------------------------------------------------------------

    def _graph(self, method: str, path: str, call: Call) -> web.Response:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        body, query = call.body, call.query
        if parts == ["appCatalogs", "teamsApps"]:
            wanted = re.search(r"externalId eq '([^']*)'", query.get("$filter", ""))
            apps = [a for a in self.catalog if not wanted or a["externalId"] == wanted.group(1)]
            return web.json_response({"value": apps})
        if parts[0] == "users" and len(parts) >= 2:
            return self._graph_user(method, parts[1], parts[2:], body, query)
        if parts[0] == "chats":
            return self._graph_chat(method, parts[1:], body)
        if parts[0] == "teams" and len(parts) >= 3 and parts[2] == "installedApps":
            return web.json_response({"value": []} if method == "GET" else {}, status=200)
        if parts[0] == "teams" and len(parts) >= 3 and parts[2] == "channels":
            return self._graph_channel(method, parts[1], parts[3:], body, query)
        return web.json_response({"error": {"code": "NotFound"}}, status=404)

    def _graph_user(self, method, aad, rest, body, query) -> web.Response:
        user = self.users.get(aad)
        if user is None:
            return web.json_response({"error": {"code": "Request_ResourceNotFound"}}, status=404)
        if not rest:
            return web.json_response({"displayName": user.name, "preferredLanguage": user.locale})
        if rest == ["mailboxSettings"]:
            return web.json_response(
                {"timeZone": user.windows_zone, "language": {"locale": user.locale}}
            )
        if rest[:2] == ["teamwork", "installedApps"]:
            if len(rest) == 4 and rest[3] == "chat":
                return web.json_response({"id": self.installed_for[aad]})
            if method == "POST":
                if aad in self.installed_for:
                    return web.json_response({"error": {"code": "Conflict"}}, status=409)
                self.installed_for[aad] = self.conversation_of(aad)
                return web.json_response({}, status=201)
            installed = (
                [{"id": f"inst-{aad}", "teamsApp": {"externalId": APP_ID}}]
                if aad in self.installed_for
                else []
            )
            return web.json_response({"value": installed})
        if rest == ["chats"]:
            topic = re.search(r"topic eq '((?:[^']|'')*)'", query.get("$filter", ""))
            wanted = topic.group(1).replace("''", "'") if topic else None
            found = [
                {"id": cid, "topic": chat["topic"], "chatType": "group"}
                for cid, chat in self.chats.items()
                if aad in chat["members"] and (wanted is None or chat["topic"] == wanted)
            ]
            return web.json_response({"value": found})
        return web.json_response({"error": {"code": "NotFound"}}, status=404)

    @staticmethod
    def _member_id(member: dict[str, Any]) -> str:
        return re.search(r"users\('([^']+)'\)", member["user@odata.bind"]).group(1)

    def _graph_chat(self, method, rest, body) -> web.Response:
        if not rest and method == "POST":
            chat_id = f"19:chat{next(self._ids)}@thread.v2"
            members = [self._member_id(m) for m in body["members"]]
            self.chats[chat_id] = {"topic": body.get("topic"), "members": members, "apps": []}
            return web.json_response({"id": chat_id, "chatType": body["chatType"]}, status=201)
        chat = self.chats.get(rest[0]) if rest else None
        if chat is None:
            return web.json_response({"error": {"code": "NotFound"}}, status=404)
        if rest[1:] == ["members"]:
            if method == "POST":
                chat["members"].append(self._member_id(body))
                return web.json_response({}, status=201)
            return web.json_response({"value": [{"userId": m} for m in chat["members"]]})
        if rest[1:] == ["installedApps"]:
            if method == "POST":
                chat["apps"].append(body["teamsApp@odata.bind"].rsplit("/", 1)[1])
                return web.json_response({}, status=201)
            apps = [{"id": a, "teamsApp": {"externalId": APP_ID}} for a in chat["apps"]]
            return web.json_response({"value": apps})
        return web.json_response({"error": {"code": "NotFound"}}, status=404)

    def _graph_channel(self, method, team, rest, body, query) -> web.Response:
        if not rest and method == "POST":
            channel_id = f"19:channel{next(self._ids)}@thread.tacv2"
            members = [self._member_id(m) for m in body["members"]]
            self.channels[channel_id] = {
                "team": team,
                "displayName": body["displayName"],
                "membershipType": body["membershipType"],
                "members": members,
            }
            return web.json_response({"id": channel_id}, status=201)
        if not rest:
            name = re.search(r"displayName eq '((?:[^']|'')*)'", query.get("$filter", ""))
            found = [
                {"id": cid, "displayName": c["displayName"]}
                for cid, c in self.channels.items()
                if c["team"] == team and (not name or c["displayName"] == name.group(1))
            ]
            return web.json_response({"value": found})
        channel = self.channels.get(rest[0])
        if channel is None:
            return web.json_response({"error": {"code": "NotFound"}}, status=404)
        if method == "POST":
            channel["members"].append(self._member_id(body))
            return web.json_response({}, status=201)
        return web.json_response({"value": [{"userId": m} for m in channel["members"]]})
