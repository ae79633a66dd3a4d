"""A fake Slack on loopback: the Web API methods Maatje calls, file uploads and a Socket Mode
websocket. It records every call, answers like Slack, and can be told to fail."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-test-bot-token-0123456789"
APP_TOKEN = "xapp-test-app-token-0123456789"
TEAM = "T0TEAM"
BOT_USER = "UBOT"


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.uploads: dict[str, bytes] = {}
        self.failures: dict[str, list[Failure]] = {}
        self.channels: dict[str, dict[str, Any]] = {}  # id -> channel
        self.users: dict[str, dict[str, Any]] = {}  # id -> user, as users.info returns it
        self.page_size = 2
        self.socket_acks: list[dict[str, Any]] = []
        self._sockets: list[web.WebSocketResponse] = []
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.root = ""

    # -- control

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.root = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.root}/api/"

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner:
            await self._runner.cleanup()

    def fail(self, method: str, **kwargs: Any) -> None:
        """Answer the next call(s) to `method` with an error (see `Failure`)."""
        self.failures.setdefault(method, []).append(Failure(**kwargs))

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[dict]:
        """Wait (on a condition, never a sleep) until `method` was called `count` times."""

        async def enough() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.calls_to(method)) >= count)

        await asyncio.wait_for(enough(), timeout)
        return self.calls_to(method)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def add_channel(self, name: str, members: list[str], archived: bool = False) -> str:
        channel_id = f"G{next(self._ids):04d}"
        self.channels[channel_id] = {
            "id": channel_id,
            "name": name,
            "is_private": True,
            "is_archived": archived,
            "members": list(members),
        }
        return channel_id

    def add_user(
        self,
        user_id: str,
        real_name: str,
        display_name: str = "",
        tz: str | None = "Europe/Amsterdam",
        locale: str = "en-US",
    ) -> None:
        """A member of the workspace, as users.info describes them (unknown users are
        `user_not_found`, as Slack answers for an id it does not have)."""
        self.users[user_id] = {
            "id": user_id,
            "team_id": TEAM,
            "name": real_name.split()[0].lower() if real_name else user_id.lower(),
            "real_name": real_name,
            "tz": tz,
            "tz_label": tz or "",
            "locale": locale,
            "profile": {"real_name": real_name, "display_name": display_name},
        }

    # -- Web API

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            params.update(dict(await request.post()))
        for key in ("blocks", "view", "metadata", "files"):
            if isinstance(params.get(key), str):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") or None
        params = await self._params(request)
        self.calls.append(Call(method, params, token))
        await self._notify()
        queued = self.failures.get(method)
        if queued:
            failure = queued[0]
            failure.times -= 1
            if failure.times <= 0:
                queued.pop(0)
            body = {"ok": False, "error": failure.error or "fake_failure"}
            if failure.status >= 500:
                return web.Response(status=failure.status, text="upstream broke")
            return web.json_response(body, status=failure.status, headers=failure.headers)
        if token not in (BOT_TOKEN, APP_TOKEN):
            return web.json_response({"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        data = handler(params) if handler else {}
        if data.get("ok") is False:
            return web.json_response(data)
        return web.json_response({"ok": True, **data})

    def _ts(self) -> str:
        return f"1700000000.{next(self._ids):06d}"

    def _auth_test(self, _p: dict) -> dict:
        return {"team_id": TEAM, "user_id": BOT_USER, "bot_id": "B0BOT", "team": "Test"}

    def _chat_postMessage(self, p: dict) -> dict:
        return {"channel": p["channel"], "ts": self._ts(), "message": {"text": p.get("text")}}

    def _chat_postEphemeral(self, _p: dict) -> dict:
        return {"message_ts": self._ts()}

    def _chat_update(self, p: dict) -> dict:
        return {"channel": p["channel"], "ts": p["ts"]}

    def _conversations_open(self, p: dict) -> dict:
        return {"channel": {"id": "D" + str(p["users"]).split(",")[0]}}

    def _conversations_create(self, p: dict) -> dict:
        if any(c["name"] == p["name"] for c in self.channels.values()):
            return {"ok": False, "error": "name_taken"}
        channel_id = self.add_channel(p["name"], [BOT_USER])
        return {"channel": {k: v for k, v in self.channels[channel_id].items() if k != "members"}}

    def _conversations_invite(self, p: dict) -> dict:
        channel = self.channels.get(p["channel"])
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        users = p["users"].split(",") if isinstance(p["users"], str) else list(p["users"])
        if all(u in channel["members"] for u in users):
            return {"ok": False, "error": "already_in_channel"}
        channel["members"] += [u for u in users if u not in channel["members"]]
        return {"channel": {"id": channel["id"]}}

    def _conversations_members(self, p: dict) -> dict:
        return {"members": self.channels[p["channel"]]["members"]}

    def _conversations_unarchive(self, p: dict) -> dict:
        self.channels[p["channel"]]["is_archived"] = False
        return {}

    def _conversations_list(self, p: dict) -> dict:
        visible = [
            {k: v for k, v in c.items() if k != "members"}
            for c in self.channels.values()
            if BOT_USER in c["members"]
        ]
        start = int(p.get("cursor") or 0)
        page = visible[start : start + self.page_size]
        more = start + self.page_size < len(visible)
        return {
            "channels": page,
            "response_metadata": {"next_cursor": str(start + self.page_size) if more else ""},
        }

    def _views_open(self, p: dict) -> dict:
        return {"view": {"id": "V0VIEW", **p["view"]}}

    def _views_publish(self, p: dict) -> dict:
        return {"view": {"id": "V0HOME", **p["view"]}}

    def _users_info(self, p: dict) -> dict:
        user = self.users.get(p["user"])
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"user": user}

    def _files_getUploadURLExternal(self, p: dict) -> dict:
        file_id = f"F{next(self._ids):04d}"
        return {"upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, p: dict) -> dict:
        files = p["files"] if isinstance(p["files"], list) else json.loads(p["files"])
        return {"files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    def _apps_connections_open(self, _p: dict) -> dict:
        return {"url": self.root.replace("http://", "ws://") + "/socket"}

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        await self._notify()
        return web.Response(text="OK")

    # -- Socket Mode

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1})
        await self._notify()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(msg.data))
                    await self._notify()
        finally:
            self._sockets.remove(ws)
        return ws

    async def wait_for_socket(self, timeout: float = 5.0) -> None:
        async def connected() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: bool(self._sockets))

        await asyncio.wait_for(connected(), timeout)

    async def push(self, envelope: dict[str, Any]) -> None:
        await self._sockets[-1].send_json(envelope)

    async def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        def acked() -> dict[str, Any] | None:
            return next((a for a in self.socket_acks if a.get("envelope_id") == envelope_id), None)

        async def wait() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: acked() is not None)

        await asyncio.wait_for(wait(), timeout)
        result = acked()
        assert result is not None
        return result
