"""Helpers for the Slack tests: configuration for the fake, a recording core, and requests
signed exactly as Slack signs them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp

from adapters.slack import SlackAdapter
from adapters.slack.limits import SlackLimits, Tier
from bot.clock import Clock
from bot.config.model import SlackConfig
from bot.core import Home, Outcome
from bot.events import Event, Message, PersonRef, SpaceKind, SpaceRef
from tests.slack.slack_fake import APP_TOKEN, BOT_TOKEN, TEAM, FakeSlack

SECRET = "test-signing-secret"
PAYLOADS = Path(__file__).parent / "payloads"


def load_payload(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


def slack_config(fake: FakeSlack, **overrides: Any) -> SlackConfig:
    config = SlackConfig(
        enabled=True,
        mode="http",
        host="127.0.0.1",
        port=0,
        path="/slack/events",
        api_base_url=fake.base_url,
        command="/maatje",
        bot_token=BOT_TOKEN,
        signing_secret=SECRET,
        app_token=APP_TOKEN,
    )
    return replace(config, **overrides)


def unpaced(clock: Clock) -> SlackLimits:
    """Limits under which no call waits for a token (a frozen clock decides what is due) and
    Slack's pauses (Retry-After) run on the test's clock."""
    plenty = 10**9
    return SlackLimits(
        tiers={tier: Tier(plenty, plenty) for tier in (1, 2, 3, 4)},
        channel_rate=plenty,
        channel_burst=plenty,
        workspace_ceiling=plenty,
        workspace_burst=plenty,
        monotonic=lambda: clock.now().timestamp(),
    )


@dataclass
class RecordingCore:
    """The core's seam as the adapter sees it: records events, answers what it is told."""

    events: list[Event] = field(default_factory=list)
    accepted: list[Event] = field(default_factory=list)
    """Events recorded before Slack got its acknowledgement (`Core.accept`)."""
    form_errors: dict[str, str] | None = None
    is_healthy: bool = True
    home_value: Home = field(
        default_factory=lambda: Home("Maatje", "Mentoraat <Rechten>", "Tue 14:00", ("Intake",))
    )
    fail_with: Exception | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def accept(self, event: Event) -> None:
        self.accepted.append(event)

    async def handle(self, event: Event) -> Outcome:
        self.events.append(event)
        self.arrived.set()
        if self.fail_with:
            raise self.fail_with
        if type(event).__name__ == "FormSubmitted":
            return Outcome(form_errors=self.form_errors)
        return Outcome()

    def healthy(self) -> bool:
        return self.is_healthy

    def home(self, person: PersonRef) -> Home:
        return self.home_value


@dataclass
class Running:
    adapter: SlackAdapter
    core: Any
    fake: FakeSlack

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.port}"


def direct_message(user: str, text: str, event_id: str) -> Message:
    """What the adapter makes of `user` writing `text` in their direct chat with Maatje."""
    return Message(
        person=PersonRef("slack", TEAM, user),
        space=SpaceRef("slack", TEAM, f"D{user}", SpaceKind.DIRECT),
        event_id=event_id,
        text=text,
    )


def sign(body: str, timestamp: int, secret: str = SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Answer:
    status: int
    text: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.text)


async def post_to_slack_endpoint(
    url: str,
    body: str,
    content_type: str,
    *,
    timestamp: int | None = None,
    secret: str = SECRET,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    timestamp = int(time.time()) if timestamp is None else timestamp
    sent = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature or sign(body, timestamp, secret),
        **(headers or {}),
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body.encode(), headers=sent) as response,
    ):
        return Answer(response.status, await response.text(), dict(response.headers))


class SlackPoster:
    """Sends signed JSON events, form-encoded commands and interaction payloads to one URL."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def event(self, body: dict[str, Any], **kwargs: Any) -> Answer:
        return await post_to_slack_endpoint(
            self.url, json.dumps(body), "application/json", **kwargs
        )

    async def command(self, fields: dict[str, str], **kwargs: Any) -> Answer:
        from urllib.parse import urlencode

        return await post_to_slack_endpoint(
            self.url, urlencode(fields), "application/x-www-form-urlencoded", **kwargs
        )

    async def interaction(self, payload: dict[str, Any], **kwargs: Any) -> Answer:
        from urllib.parse import urlencode

        body = urlencode({"payload": json.dumps(payload)})
        return await post_to_slack_endpoint(
            self.url, body, "application/x-www-form-urlencoded", **kwargs
        )
