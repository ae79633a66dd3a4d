"""The Bot Connector, through the Teams SDK's API client, and its failures as `DeliveryError`.

One SDK `ApiClient` per service URL (Teams answers from regional endpoints), all sharing one
HTTP client whose token is the client-credentials token for the Bot Connector (`tokens`). The
SDK does not retry; what fails reaches the outbox as a `DeliveryError`: 429 with Teams'
Retry-After, 5xx and network trouble retryable, other 4xx permanent.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

import httpx
from microsoft_teams.api import ApiClient, MessageActivityInput
from microsoft_teams.api.clients.conversation.params import CreateConversationParams
from microsoft_teams.common import Client, ClientOptions

from adapters.teams.tokens import CONNECTOR_SCOPE, ClientCredentials
from bot.adapter import DeliveryError

log = logging.getLogger(__name__)

TIMEOUT = 30.0


def retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def classify(exc: BaseException) -> DeliveryError:
    """The `DeliveryError` a failed Bot Connector or Graph call becomes."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        reason = f"teams: http {status} from {exc.request.url.path}: {exc.response.text[:200]}"
        if status == 429:
            return DeliveryError(reason, retry_after=retry_after(exc.response) or 1.0)
        if status >= 500 or status == 408:
            return DeliveryError(reason, retry_after=retry_after(exc.response))
        return DeliveryError(reason, permanent=True)
    if isinstance(exc, httpx.HTTPError | asyncio.TimeoutError | OSError):
        return DeliveryError(f"teams: {type(exc).__name__}: {exc}")
    return DeliveryError(f"teams: unexpected {type(exc).__name__}: {exc}")


class Connector:
    def __init__(self, credentials: ClientCredentials) -> None:
        self.credentials = credentials
        self.http = Client(ClientOptions(token=self._token, timeout=TIMEOUT))
        self._clients: dict[str, ApiClient] = {}

    async def _token(self) -> str:
        return await self.credentials.token(CONNECTOR_SCOPE)

    def _api(self, service_url: str) -> ApiClient:
        key = service_url.rstrip("/")
        client = self._clients.get(key)
        if client is None:
            with warnings.catch_warnings():  # the SDK builds a client it has deprecated itself
                warnings.simplefilter("ignore", DeprecationWarning)
                client = self._clients[key] = ApiClient(key, self.http)
        return client

    async def close(self) -> None:
        await self.http.http.aclose()

    async def post(self, service_url: str, conversation_id: str, activity: dict[str, Any]) -> str:
        """Post an activity; its id."""
        sent = await self._api(service_url).conversations.create_activity(
            conversation_id, MessageActivityInput.model_validate(activity)
        )
        return sent.id

    async def update(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> None:
        await self._api(service_url).conversations.update_activity(
            conversation_id, activity_id, MessageActivityInput.model_validate(activity)
        )

    async def personal_chat(
        self, service_url: str, tenant_id: str, bot_id: str, member_id: str
    ) -> str:
        """Open (or find: Teams answers with the existing one) a one-to-one chat; its id."""
        params = CreateConversationParams.model_validate(
            {
                "isGroup": False,
                "bot": {"id": bot_id} if bot_id else None,
                "members": [{"id": member_id}],
                "tenantId": tenant_id,
                "channelData": {"tenant": {"id": tenant_id}},
            }
        )
        created = await self._api(service_url).conversations.create(params)
        return created.id

    async def member(self, service_url: str, conversation_id: str, member_id: str) -> Any:
        """A conversation member's account: name, AAD object id, `29:` id."""
        return await self._api(service_url).conversations.get_member_by_id(
            conversation_id, member_id
        )
