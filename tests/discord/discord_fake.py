"""A fake Discord on loopback: the REST API and the gateway websocket, on one free port.

It speaks what discord.py needs (REST answers with `Content-Type: application/json` exactly;
interaction callbacks answered with a JSON body; a 429 carries `Via` as Discord's does) and
records every REST call, so tests wait on "the call arrived" instead of sleeping.

    fake = FakeDiscord(); await fake.start()
    config = DiscordConfig(api_base_url=fake.api_url, gateway_url=fake.gateway_url, ...)
    await fake.dispatch("MESSAGE_CREATE", fake.dm_message("hello", user=ANNA))
    call = await fake.wait_for("POST", r"/channels/\\d+/messages")
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

TOKEN = "test-discord-token"
APP_ID = "700000000000000001"
BOT_ID = "700000000000000002"
GUILD_ID = "800000000000000001"
GENERAL_ID = "800000000000000010"
TIMEOUT = 10.0
_ids = itertools.count(810_000_000_000_000_000)


def snowflake() -> str:
    return str(next(_ids))


def user(user_id: str, name: str, bot: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": name,
        "global_name": name.title(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


BOT_USER = user(BOT_ID, "maatje", bot=True)
UNKNOWN_MEMBER = {"message": "Unknown Member", "code": 10007}


def message_object(channel_id: str, content: str, author: dict[str, Any]) -> dict[str, Any]:
    """A message as Discord's API and gateway describe it."""
    return {
        "id": snowflake(),
        "channel_id": channel_id,
        "type": 0,
        "content": content,
        "author": author,
        "timestamp": "2026-10-05T09:00:00.000000+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "components": [],
        "flags": 0,
    }


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


class FakeDiscord:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.identified: list[dict[str, Any]] = []
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.thread_members: dict[str, set[str]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.members: dict[str, dict[str, Any]] = {}
        """Members of the guild by user id (as `GET /guilds/{guild}/members/{user}` returns)."""
        self.roles = [
            {"id": GUILD_ID, "name": "@everyone", "permissions": "0", "position": 0},
            {"id": "800000000000000077", "name": "Coordinators", "permissions": "0"},
        ]
        self.other_guilds: dict[str, dict[str, Any]] = {}
        """Servers besides GUILD_ID the bot is in (`add_guild`), by id."""
        self.member_roles: dict[tuple[str, str], list[str]] = {}
        """(guild id, user id) → the member's role ids, for `GET /guilds/{g}/members/{u}`."""
        self.faults: list[Fault] = []
        self.ready = asyncio.Event()
        self._changed = asyncio.Event()
        self._socket: web.WebSocketResponse | None = None
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.add_channel(GENERAL_ID, "general", 0)

    # -- the server --------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway/", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- waiting on calls ---------------------------------------------------------------

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._changed.set()

    def find(self, method: str, path: str, since: int = 0) -> list[Call]:
        pattern = re.compile(path)
        return [c for c in self.calls[since:] if c.method == method and pattern.fullmatch(c.path)]

    async def wait_for(
        self, method: str, path: str, count: int = 1, since: int = 0, timeout: float = TIMEOUT
    ) -> Call:
        """The `count`-th call (after index `since`) matching; fails after `timeout`."""

        async def arrived() -> Call:
            while True:
                found = self.find(method, path, since)
                if len(found) >= count:
                    return found[count - 1]
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(arrived(), timeout)

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` matching calls with `status`."""
        self.faults.append(
            Fault(method, re.compile(path), status, body or {}, headers or {}, times)
        )

    # -- the gateway --------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 41250}})
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            if message["op"] == 1:
                await socket.send_json({"op": 11})
            elif message["op"] == 2:
                self.identified.append(message["d"])
                self._changed.set()
                await self._send("READY", self._ready_payload())
                await self._send("GUILD_CREATE", self.guild())
                for other in self.other_guilds.values():
                    await self._send("GUILD_CREATE", other)
                self.ready.set()
        self.ready.clear()
        return socket

    def _ready_payload(self) -> dict[str, Any]:
        return {
            "v": 10,
            "user": BOT_USER,
            "guilds": [{"id": g, "unavailable": True} for g in (GUILD_ID, *self.other_guilds)],
            "session_id": "fake-session",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": APP_ID, "flags": 0},
            "private_channels": [],
        }

    def guild(self) -> dict[str, Any]:
        return {
            "id": GUILD_ID,
            "name": "Mentoraat",
            "owner_id": "900",
            "unavailable": False,
            "member_count": 3,
            "features": [],
            "roles": self.roles,
            "emojis": [],
            "stickers": [],
            "channels": [c for c in self.channels.values() if c["type"] in (0, 4)],
            "threads": [c for c in self.channels.values() if c["type"] == 12],
            "members": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    async def _send(self, event: str, data: dict[str, Any]) -> None:
        assert self._socket is not None, "no gateway connection"
        self._seq += 1
        await self._socket.send_json({"op": 0, "t": event, "s": self._seq, "d": data})

    async def identified_times(self, count: int) -> None:
        """Wait until the bot has identified `count` times (connected again after a loss)."""

        async def enough() -> None:
            while len(self.identified) < count:
                self._changed.clear()
                if len(self.identified) >= count:
                    return
                await self._changed.wait()

        await asyncio.wait_for(enough(), TIMEOUT)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        await asyncio.wait_for(self.ready.wait(), TIMEOUT)
        if event == "INTERACTION_CREATE" and data.get("guild_id"):
            data = self._with_channel(data)
        await self._send(event, data)

    def _with_channel(self, data: dict[str, Any]) -> dict[str, Any]:
        """An interaction in a guild carries the channel as Discord knows it: discord.py
        builds the channel from it when the channel is not in its cache (a thread the bot
        made over REST), and fails on a stub lacking the fields it reads."""
        channel = self.channels.get(str(data.get("channel_id")))
        if channel is None:
            return data
        return {**data, "channel": {**channel, "permissions": "0"}}

    # -- state --------------------------------------------------------------------------

    def add_guild(self, guild_id: str, name: str, roles: list[dict[str, Any]]) -> None:
        """Another server the bot is in (before the adapter connects), with its roles."""
        everyone = {"id": guild_id, "name": "@everyone", "permissions": "0", "position": 0}
        self.other_guilds[guild_id] = {
            **self.guild(),
            "id": guild_id,
            "name": name,
            "roles": [everyone, *roles],
            "channels": [],
            "threads": [],
        }

    def roles_of(self, guild_id: str) -> list[dict[str, Any]]:
        if guild_id in self.other_guilds:
            return self.other_guilds[guild_id]["roles"]
        return self.roles

    def add_channel(self, channel_id: str, name: str, kind: int, **extra: Any) -> dict[str, Any]:
        channel = {
            "id": channel_id,
            "type": kind,
            "name": name,
            "guild_id": GUILD_ID,
            "position": len(self.channels),
            "permission_overwrites": [],
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            **extra,
        }
        self.channels[channel_id] = channel
        return channel

    def add_member(self, user_id: str, username: str, global_name: str, nick: str | None = None):
        """A person on Discord who is a member of the guild (their user and member objects)."""
        self.users[user_id] = {**user(user_id, username), "global_name": global_name}
        self.members[user_id] = {
            "user": self.users[user_id],
            "nick": nick,
            "roles": [],
            "joined_at": "2026-09-01T00:00.000000+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
        }

    def posted(self, channel_id: str | None = None) -> list[dict[str, Any]]:
        """Messages the bot posted (in one channel), oldest first."""
        if channel_id is not None:
            return list(self.messages.get(channel_id, []))
        return [m for messages in self.messages.values() for m in messages]

    # -- REST ---------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        body: Any = None
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            body = await request.json()
        elif request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":  # type: ignore[union-attr]
                    body = json.loads(await part.text())  # type: ignore[union-attr]
                else:
                    files[part.filename or part.name] = await part.read()  # type: ignore
        call = Call(request.method, path, dict(request.query), body, files)
        if request.headers.get("Authorization") != f"Bot {TOKEN}" and not path.startswith(
            ("/interactions/", "/webhooks/")
        ):
            self._record(call)
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        for fault in self.faults:
            if fault.times > 0 and fault.method == request.method and fault.path.fullmatch(path):
                fault.times -= 1
                self._record(call)
                return _json(fault.body, fault.status, fault.headers)
        answer = self._answer(request.method, path, body, files)
        self._record(call)
        if answer is UNKNOWN_MEMBER:
            return _json(UNKNOWN_MEMBER, 404)
        if answer is None:
            return web.Response(status=204)
        return _json(answer)

    def _answer(self, method: str, path: str, body: Any, files: dict[str, bytes]) -> Any:
        if (method, path) == ("GET", "/users/@me"):
            return BOT_USER
        if (method, path) == ("GET", "/oauth2/applications/@me"):
            return {
                "id": APP_ID,
                "name": "Maatje",
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": user("900", "cora"),
                "verify_key": "0" * 64,
                "flags": 0,
            }
        if method == "PUT" and path.endswith("/commands"):
            return [
                {**c, "id": snowflake(), "application_id": APP_ID, "version": "1"} for c in body
            ]
        if (method, path) == ("POST", "/users/@me/channels"):
            recipient = str(body["recipient_id"])
            return {"id": f"55{recipient[-16:].rjust(16, '0')}", "type": 1, "recipients": []}
        if match := re.fullmatch(r"/users/(\d+)", path):
            return self.users.get(match[1]) or user(match[1], f"user{match[1][-3:]}")
        if match := re.fullmatch(r"/channels/(\d+)/messages", path):
            return self._post_message(match[1], body, files)
        if match := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path):
            return {
                "interaction": {"id": match[1], "type": 2},
                "resource": {"type": body["type"]},
            }
        if re.fullmatch(r"/webhooks/\d+/[^/]+(/messages/@original)?", path):
            if method == "DELETE":
                return None
            message = message_object("0", (body or {}).get("content") or "", BOT_USER)
            attachments = [_attachment(a, files) for a in (body or {}).get("attachments") or []]
            return {
                **message,
                **(body or {}),
                "id": message["id"],
                "webhook_id": APP_ID,
                "attachments": attachments,
            }
        if match := re.fullmatch(r"/guilds/(\d+)/channels", path):
            if method == "GET":
                return [c for c in self.channels.values() if c["type"] != 12]
            return self.add_channel(snowflake(), body["name"], body["type"], **_fields(body))
        if match := re.fullmatch(r"/channels/(\d+)/threads", path):
            thread = self.add_channel(
                snowflake(),
                body["name"],
                body["type"],
                parent_id=match[1],
                owner_id=BOT_ID,
                member_count=1,
                message_count=0,
                rate_limit_per_user=0,
                flags=0,
                thread_metadata={
                    "archived": False,
                    "locked": False,
                    "invitable": False,
                    "auto_archive_duration": body.get("auto_archive_duration", 10080),
                    "archive_timestamp": "2026-10-05T09:00.000000+00:00",
                },
            )
            self.thread_members[thread["id"]] = {BOT_ID}
            return thread
        if match := re.fullmatch(r"/channels/(\d+)/thread-members/(\d+)", path):
            self.thread_members.setdefault(match[1], set()).add(match[2])
            return None
        if re.fullmatch(r"/guilds/\d+/threads/active", path):
            threads = [c for c in self.channels.values() if c["type"] == 12]
            active = [t for t in threads if not t["thread_metadata"]["archived"]]
            return {"threads": active, "members": []}
        if match := re.fullmatch(r"/channels/(\d+)/threads/archived/private", path):
            archived = [
                c
                for c in self.channels.values()
                if c["type"] == 12
                and c.get("parent_id") == match[1]
                and c["thread_metadata"]["archived"]
            ]
            return {"threads": archived, "members": [], "has_more": False}
        if match := re.fullmatch(r"/channels/(\d+)/permissions/(\d+)", path):
            channel = self.channels[match[1]]
            channel["permission_overwrites"] = [
                o for o in channel["permission_overwrites"] if o["id"] != match[2]
            ] + [body]
            return None
        if match := re.fullmatch(r"/channels/(\d+)", path):
            channel = self.channels[match[1]]
            if method == "PATCH" and "archived" in body:
                channel["thread_metadata"]["archived"] = body["archived"]
            return channel
        if match := re.fullmatch(r"/guilds/(\d+)/roles", path):
            return self.roles_of(match[1])
        if match := re.fullmatch(r"/guilds/(\d+)/members/(\d+)", path):
            return self._member(match[1], match[2])
        return None

    def _member(self, guild_id: str, user_id: str) -> Any:
        """A member object: with the roles a test gave them in that server, or as added."""
        roles = self.member_roles.get((guild_id, user_id))
        if roles is None:
            known = self.members.get(user_id) if guild_id == GUILD_ID else None
            return known or UNKNOWN_MEMBER
        return {
            "user": self.users.get(user_id) or user(user_id, f"user{user_id[-3:]}"),
            "roles": roles,
            "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
        }

    def _post_message(self, channel_id: str, body: Any, files: dict[str, bytes]) -> Any:
        posted = self.messages.setdefault(channel_id, [])
        if body.get("enforce_nonce") and body.get("nonce"):
            for earlier in posted:
                if earlier.get("nonce") == body["nonce"]:
                    return _public(earlier)  # Discord answers a repeated nonce with the first
        message = {
            **message_object(channel_id, body.get("content") or "", BOT_USER),
            "components": body.get("components", []),
            "nonce": body.get("nonce"),
            "allowed_mentions": body.get("allowed_mentions"),
            "files": files,
        }
        posted.append(message)
        return _public(message)


def _attachment(sent: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
    """An uploaded file as Discord describes it in the message it answers with."""
    name = sent.get("filename", "")
    url = f"https://cdn.example/attachments/{name}"
    size = len(files.get(name, b""))
    return {"id": snowflake(), "filename": name, "size": size, "url": url, "proxy_url": url}


def _public(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "files"}


def _fields(body: dict[str, Any]) -> dict[str, Any]:
    keep = ("topic", "parent_id", "permission_overwrites")
    return {k: body[k] for k in keep if k in body}
