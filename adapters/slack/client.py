"""The Web API client: slack-sdk's `AsyncWebClient` with every call paced by `SlackLimits`.

Every method the adapter calls goes through `api_call`, so pacing lives here and nowhere else:
the call waits for its turn (its channel and the workspace for a message, its tier's bucket
otherwise, urgent calls first), and a 429 is reported to the limits and waited out in place
when Slack asks for at most `MAX_INLINE_WAIT` seconds — the limits hold the retry back until
Retry-After has passed. Anything longer raises, and the outbox retries the message later.
Dropped connections are retried by slack-sdk's own handler.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack.limits import MAX_INLINE_WAIT, SlackLimits, retry_after
from bot.config.model import SlackConfig

RATE_LIMITED_TRIES = 3  # then the 429 goes to the outbox, which backs off


def _channel(call: dict[str, Any]) -> str | None:
    for part in ("json", "data", "params"):
        values = call.get(part)
        if isinstance(values, dict) and values.get("channel"):
            return str(values["channel"])
    return None


class PacedWebClient(AsyncWebClient):
    def __init__(self, *args: Any, limits: SlackLimits | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits or SlackLimits()

    async def api_call(self, api_method: str, **call: Any) -> AsyncSlackResponse:  # type: ignore[override]
        channel = _channel(call)
        for attempt in range(1, RATE_LIMITED_TRIES + 1):
            sent_at = await self.limits.before(api_method, channel)
            try:
                response = await super().api_call(api_method, **call)
            except SlackApiError as exc:
                if getattr(exc.response, "status_code", 0) != 429:
                    raise
                wait = retry_after(exc.response.headers) or 1.0
                self.limits.refused(api_method, channel, sent_at, wait)
                if wait > MAX_INLINE_WAIT or attempt == RATE_LIMITED_TRIES:
                    raise
                continue
            self.limits.accepted(api_method)
            return response
        raise AssertionError("unreachable")


def make_client(config: SlackConfig) -> PacedWebClient:
    base_url = config.api_base_url.rstrip("/") + "/"
    return PacedWebClient(
        token=config.bot_token,
        base_url=base_url,
        timeout=30,
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=2)],
    )
