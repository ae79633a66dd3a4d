"""Microsoft Graph, the few calls Maatje makes, on the app's own (client-credentials) token.

Every call goes to `graph_base_url`. What each needs (application permissions, admin-consented;
docs/teams.md explains why each is asked for):
- install Maatje for a person, find that chat: TeamsAppInstallation.ReadWriteSelfForUser.All
  (and AppCatalog.Read.All to find Maatje in the tenant's app catalogue);
- group chats for pairs and groups: Chat.Create, Chat.ReadBasic.All (find one again by topic),
  ChatMember.ReadWrite.All (add a member), TeamsAppInstallation.ReadWriteSelfForChat.All
  (install Maatje into the chat: app-only Graph cannot post chat messages itself);
- private channels (`pair_space = "channel"`): Channel.Create, Channel.ReadBasic.All,
  ChannelMember.ReadWrite.All, TeamsAppInstallation.ReadWriteSelfForTeam.All;
- profiles: User.Read.All (name, preferred language), MailboxSettings.Read (time zone).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import aiohttp

from adapters.teams.tokens import ClientCredentials, graph_scope
from bot.adapter import DeliveryError

TIMEOUT = aiohttp.ClientTimeout(total=30)
MEMBER = "#microsoft.graph.aadUserConversationMember"


class GraphError(Exception):
    def __init__(self, status: int, body: str, retry_after: float | None) -> None:
        super().__init__(f"graph: http {status}: {body[:300]}")
        self.status = status
        self.retry_after = retry_after

    def delivery_error(self) -> DeliveryError:
        if self.status == 429:
            return DeliveryError(str(self), retry_after=self.retry_after or 1.0)
        if self.status >= 500 or self.status == 408:
            return DeliveryError(str(self), retry_after=self.retry_after)
        return DeliveryError(str(self), permanent=True)


def _quoted(value: str) -> str:
    """A string literal for an OData `$filter`."""
    return "'" + value.replace("'", "''") + "'"


class Graph:
    def __init__(
        self,
        base_url: str,
        credentials: ClientCredentials,
        session: Callable[[], aiohttp.ClientSession],
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.session = session
        self.scope = graph_scope(base_url)

    async def call(self, method: str, path: str, body: Any = None, **params: str) -> Any:
        token = await self.credentials.token(self.scope)
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with self.session().request(
                method,
                f"{self.base_url}{path}",
                json=body,
                params=params or None,
                headers=headers,
                timeout=TIMEOUT,
            ) as response:
                text = await response.text()
                if response.status == 401:
                    self.credentials.forget(self.scope)
                if response.status >= 400:
                    wait = response.headers.get("Retry-After")
                    retry = float(wait) if wait and wait.replace(".", "", 1).isdigit() else None
                    raise GraphError(response.status, text, retry)
                return json.loads(text) if text else {}
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise DeliveryError(f"teams: graph unreachable: {exc}") from exc

    # -- people ----------------------------------------------------------------------------

    async def user(self, user_id: str) -> dict[str, Any]:
        return await self.call(
            "GET", f"/users/{quote(user_id)}", **{"$select": "displayName,preferredLanguage"}
        )

    async def mailbox_settings(self, user_id: str) -> dict[str, Any]:
        return await self.call("GET", f"/users/{quote(user_id)}/mailboxSettings")

    # -- Maatje installed for a person -------------------------------------------------------

    async def catalog_app(self, app_id: str) -> str:
        """Maatje's id in the tenant's app catalogue (its manifest id is `app_id`)."""
        found = await self.call(
            "GET", "/appCatalogs/teamsApps", **{"$filter": f"externalId eq {_quoted(app_id)}"}
        )
        apps = found.get("value") or []
        if not apps:
            raise DeliveryError(
                "teams: Maatje is not in the tenant's app catalogue; upload the package from "
                "`maatje teams manifest` in the Teams admin centre",
                permanent=True,
            )
        return str(apps[0]["id"])

    def _app_binding(self, catalog_id: str) -> dict[str, str]:
        return {"teamsApp@odata.bind": f"{self.base_url}/appCatalogs/teamsApps/{catalog_id}"}

    async def personal_chat(self, user_id: str, app_id: str) -> str:
        """The chat between the person and Maatje, installing Maatje for them when needed."""
        path = f"/users/{quote(user_id)}/teamwork/installedApps"
        found = await self.call(
            "GET",
            path,
            **{"$expand": "teamsApp", "$filter": f"teamsApp/externalId eq {_quoted(app_id)}"},
        )
        installed = found.get("value") or []
        if not installed:
            catalog_id = await self.catalog_app(app_id)
            try:
                await self.call("POST", path, self._app_binding(catalog_id))
            except GraphError as exc:
                if exc.status != 409:  # 409: installed meanwhile
                    raise
            installed = (await self.call("GET", path, **{"$expand": "teamsApp"})).get("value")
            installed = [
                i for i in installed or [] if (i.get("teamsApp") or {}).get("externalId") == app_id
            ]
            if not installed:
                raise DeliveryError("teams: Maatje could not be installed for the person")
        chat = await self.call("GET", f"{path}/{quote(str(installed[0]['id']))}/chat")
        return str(chat["id"])

    # -- group chats -------------------------------------------------------------------------

    @staticmethod
    def _member(user_id: str, base_url: str) -> dict[str, Any]:
        return {
            "@odata.type": MEMBER,
            "roles": ["owner"],
            "user@odata.bind": f"{base_url}/users('{user_id}')",
        }

    async def find_chat(self, member: str, topic: str) -> str | None:
        found = await self.call(
            "GET",
            f"/users/{quote(member)}/chats",
            **{"$filter": f"chatType eq 'group' and topic eq {_quoted(topic)}"},
        )
        chats = found.get("value") or []
        return str(chats[0]["id"]) if chats else None

    async def create_chat(self, topic: str, members: list[str]) -> str:
        body = {
            "chatType": "group",
            "topic": topic,
            "members": [self._member(m, self.base_url) for m in members],
        }
        return str((await self.call("POST", "/chats", body))["id"])

    async def chat_members(self, chat_id: str) -> set[str]:
        found = await self.call("GET", f"/chats/{quote(chat_id)}/members")
        return {str(m.get("userId")) for m in found.get("value") or [] if m.get("userId")}

    async def add_chat_member(self, chat_id: str, user_id: str) -> None:
        await self.call(
            "POST", f"/chats/{quote(chat_id)}/members", self._member(user_id, self.base_url)
        )

    async def install_in_chat(self, chat_id: str, app_id: str) -> None:
        path = f"/chats/{quote(chat_id)}/installedApps"
        await self._install(path, app_id)

    async def _install(self, path: str, app_id: str) -> None:
        found = await self.call(
            "GET",
            path,
            **{"$expand": "teamsApp", "$filter": f"teamsApp/externalId eq {_quoted(app_id)}"},
        )
        if found.get("value"):
            return
        try:
            await self.call("POST", path, self._app_binding(await self.catalog_app(app_id)))
        except GraphError as exc:
            if exc.status != 409:
                raise

    # -- private channels --------------------------------------------------------------------

    async def find_channel(self, team_id: str, name: str) -> str | None:
        found = await self.call(
            "GET",
            f"/teams/{quote(team_id)}/channels",
            **{"$filter": f"displayName eq {_quoted(name)}"},
        )
        channels = found.get("value") or []
        return str(channels[0]["id"]) if channels else None

    async def create_channel(self, team_id: str, name: str, members: list[str]) -> str:
        body = {
            "displayName": name,
            "membershipType": "private",
            "members": [self._member(m, self.base_url) for m in members],
        }
        return str((await self.call("POST", f"/teams/{quote(team_id)}/channels", body))["id"])

    async def channel_members(self, team_id: str, channel_id: str) -> set[str]:
        found = await self.call(
            "GET", f"/teams/{quote(team_id)}/channels/{quote(channel_id)}/members"
        )
        return {str(m.get("userId")) for m in found.get("value") or [] if m.get("userId")}

    async def add_channel_member(self, team_id: str, channel_id: str, user_id: str) -> None:
        member = self._member(user_id, self.base_url)
        member["roles"] = []
        await self.call(
            "POST", f"/teams/{quote(team_id)}/channels/{quote(channel_id)}/members", member
        )

    async def install_in_team(self, team_id: str, app_id: str) -> None:
        await self._install(f"/teams/{quote(team_id)}/installedApps", app_id)
