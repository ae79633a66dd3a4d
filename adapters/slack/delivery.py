"""Posting rendered replies through the Web API, and turning failures into `DeliveryError`.

The client already waits out a 429 once (slack-sdk's rate-limit retry handler honours
Retry-After) and retries dropped connections. What still fails reaches the core's outbox as a
`DeliveryError`: permanent when trying again cannot help (revoked token, unknown channel),
otherwise retryable, with Slack's Retry-After when it gave one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import render_messages
from bot.adapter import DeliveryError
from bot.events import PersonRef, SpaceRef
from bot.pacing import Pacer
from bot.replies import Outgoing

log = logging.getLogger(__name__)

# Waiting out a short 429 in place is cheapest; a long one goes back to the outbox, which
# retries after Retry-After without holding its claim on the message (and risking a double post).
MAX_INLINE_WAIT = 10.0

PERMANENT_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "team_access_not_granted",
        "ekm_access_denied",
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "user_not_found",
        "user_not_visible",
        "user_disabled",
        "cannot_dm_bot",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_arguments",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "restricted_action",
        "restricted_action_read_only_channel",
        "name_taken",
    }
)
# Where the post went to a channel the bot cannot use, a person's reply goes to their DM instead.
UNREACHABLE_CHANNEL = frozenset({"channel_not_found", "not_in_channel", "is_archived"})


def _retry_after(headers: Mapping[str, Any] | None) -> float | None:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list | tuple) else value
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


class ShortRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack-sdk's 429 handler, for waits of at most `MAX_INLINE_WAIT` seconds."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = _retry_after(response.headers)
        return wait is None or wait <= MAX_INLINE_WAIT


def slack_error_code(exc: SlackApiError) -> str:
    data = getattr(exc.response, "data", None)
    return str(data.get("error", "")) if isinstance(data, dict) else ""


def classify(exc: BaseException) -> DeliveryError:
    """The `DeliveryError` a failed Web API call becomes."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 0)
        code = slack_error_code(exc) or f"http_{status}"
        if status == 429 or code == "ratelimited":
            return DeliveryError(
                "slack: ratelimited", retry_after=_retry_after(exc.response.headers) or 1.0
            )
        if status >= 500:
            return DeliveryError(f"slack: http {status} ({code})")
        if code in PERMANENT_ERRORS:
            return DeliveryError(f"slack: {code}", permanent=True)
        return DeliveryError(f"slack: {code}")
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ClientError | SlackClientError | OSError):
        return DeliveryError(f"slack: {type(exc).__name__}: {exc}")
    return DeliveryError(f"slack: unexpected {type(exc).__name__}: {exc}")


# chat.postMessage is in Slack's "special" tier: about one message per second per channel,
# with a workspace-wide ceiling. Bulk sends (a poll to 1,000 people) go out at this pace.
POST_RATE = 10.0
POST_BURST = 20


class Delivery:
    """Sends `Outgoing` messages to a channel, a person's DM, or one person ephemerally."""

    def __init__(self, client: AsyncWebClient, pacer: Pacer | None = None) -> None:
        self.client = client
        self.pacer = pacer or Pacer(POST_RATE, POST_BURST)
        self._dm_channels: dict[str, str] = {}

    async def dm_channel(self, user_id: str) -> str:
        channel = self._dm_channels.get(user_id)
        if channel is None:
            response = await self.client.conversations_open(users=user_id)
            channel = response["channel"]["id"]
            self._dm_channels[user_id] = channel
        return channel

    async def send(
        self, person: PersonRef | None, space: SpaceRef | None, message: Outgoing, key: str
    ) -> None:
        if person is None and space is None:
            raise DeliveryError("slack: a message needs a person or a space", permanent=True)
        try:
            if space is None:
                assert person is not None
                await self._post(await self.dm_channel(person.user_id), None, message, key)
                return
            try:
                ephemeral_to = person.user_id if person and message.ephemeral else None
                await self._post(space.channel_id, ephemeral_to, message, key)
            except SlackApiError as exc:
                if person is None or slack_error_code(exc) not in UNREACHABLE_CHANNEL:
                    raise
                log.info(
                    "slack: %s unreachable (%s), replying in a DM",
                    space.channel_id,
                    slack_error_code(exc),
                )
                await self._post(await self.dm_channel(person.user_id), None, message, key)
        except Exception as exc:
            error = classify(exc)
            log.warning("slack: delivery of %s failed: %s", key, error)
            raise error from exc

    async def _post(
        self, channel: str, ephemeral_to: str | None, message: Outgoing, key: str
    ) -> None:
        metadata = {"event_type": "maatje_message", "event_payload": {"key": key[:200]}}
        for payload in render_messages(message):
            await self.pacer.wait()
            if ephemeral_to:
                await self.client.chat_postEphemeral(channel=channel, user=ephemeral_to, **payload)
            else:
                await self.client.chat_postMessage(
                    channel=channel,
                    unfurl_links=False,
                    unfurl_media=False,
                    metadata=metadata,
                    **payload,
                )
        if message.files:  # files cannot be ephemeral: those go to the person's DM
            await self.client.files_upload_v2(
                channel=await self.dm_channel(ephemeral_to) if ephemeral_to else channel,
                file_uploads=[
                    {"file": f.content, "filename": f.filename, "title": f.filename}
                    for f in message.files
                ],
            )
