"""Posting rendered replies through the Web API, and turning failures into `DeliveryError`.

The client (`adapters/slack/client.py`) paces every call, waits out a short 429 in place and
retries dropped connections. What still fails reaches the core's outbox as a `DeliveryError`:
permanent when trying again cannot help (revoked token, unknown channel), otherwise retryable,
with Slack's Retry-After when it gave one.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.limits import retry_after
from adapters.slack.render import render_messages
from bot.adapter import DeliveryError
from bot.events import PersonRef, SpaceRef
from bot.pacing import Paused
from bot.replies import Outgoing

log = logging.getLogger(__name__)

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


def slack_error_code(exc: SlackApiError) -> str:
    data = getattr(exc.response, "data", None)
    return str(data.get("error", "")) if isinstance(data, dict) else ""


def classify(exc: BaseException) -> DeliveryError:
    """The `DeliveryError` a failed Web API call becomes."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, Paused):
        return DeliveryError("slack: ratelimited (waiting)", retry_after=exc.retry_after)
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 0)
        code = slack_error_code(exc) or f"http_{status}"
        if status == 429 or code == "ratelimited":
            return DeliveryError(
                "slack: ratelimited", retry_after=retry_after(exc.response.headers) or 1.0
            )
        if status >= 500:
            return DeliveryError(f"slack: http {status} ({code})")
        if code in PERMANENT_ERRORS:
            return DeliveryError(f"slack: {code}", permanent=True)
        return DeliveryError(f"slack: {code}")
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ClientError | SlackClientError | OSError):
        return DeliveryError(f"slack: {type(exc).__name__}: {exc}")
    return DeliveryError(f"slack: unexpected {type(exc).__name__}: {exc}")


class Delivery:
    """Sends `Outgoing` messages to a channel, a person's DM, or one person ephemerally."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
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
