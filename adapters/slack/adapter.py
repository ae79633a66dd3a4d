"""The Slack adapter: what the core sees of Slack (`bot.adapter.Adapter`).

It wires a slack-bolt `AsyncApp` (HTTP or Socket Mode) to the listeners, and a Web API client
— pointed at `[slack] api_base_url`, pacing every call within Slack's limits
(`adapters/slack/limits.py`) — to delivery, spaces and profiles. It holds no programme logic.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from adapters.slack import escape as _escape
from adapters.slack.client import make_client
from adapters.slack.delivery import Delivery
from adapters.slack.http import HttpServer
from adapters.slack.listeners import Listeners
from adapters.slack.parse import PLATFORM
from adapters.slack.profiles import Profiles
from adapters.slack.spaces import Spaces
from adapters.slack.work import Work
from bot.adapter import Capabilities, Profile
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.replies import Outgoing

if TYPE_CHECKING:
    from bot.config.model import Config, SlackConfig
    from bot.core import Core

log = logging.getLogger(__name__)
_USER_ID = re.compile(r"[UW][A-Z0-9]+")

STOP_GRACE = 10.0  # seconds running event handlers get to finish on stop


class _SameTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns it is unused next to our client, which was
    built from that very token: not worth a warning at every start."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_bolt_log = logging.getLogger("adapters.slack.bolt")
_bolt_log.addFilter(_SameTokenNotice())


class SlackAdapter:
    platform = PLATFORM
    capabilities = Capabilities(
        buttons_per_message=5, options_per_select=100, modals=True, max_text_length=40000
    )

    def __init__(self, config: SlackConfig, coordinators: Iterable[str] = ()) -> None:
        self.config = config
        self.capabilities = replace(
            SlackAdapter.capabilities, coordinators_read_spaces=config.coordinators_join_spaces
        )
        self.client = make_client(config)
        self.core: Core | Any = None
        self.team_id = ""
        self.bot_user_id: str | None = None
        self.work = Work()
        self.delivery = Delivery(self.client)
        self.profiles = Profiles(self.client)
        self.spaces = Spaces(
            self.client, coordinators=coordinators, join=config.coordinators_join_spaces
        )
        socket = config.mode == "socket"
        self.app = AsyncApp(
            client=self.client,
            signing_secret=config.signing_secret,
            process_before_response=True,  # listeners ack first and hand the work to `Work`
            request_verification_enabled=not socket,
            logger=_bolt_log,
        )
        self.listeners = Listeners(self, self.work)
        self.listeners.register(self.app, config.command)
        self._http: HttpServer | None = None
        self._socket: AsyncSocketModeHandler | None = None

    @property
    def port(self) -> int | None:
        """The HTTP port actually bound (useful with `port = 0`)."""
        return self._http.port if self._http else None

    def escape(self, text: str) -> str:
        return _escape.escape(text)

    async def start(self, core: Core) -> None:
        self.core = core
        # One HTTP session for every Web API call: connections to Slack are kept open and
        # reused, instead of a new connection (and TLS handshake) per message.
        self.client.session = aiohttp.ClientSession()
        identity = await self.client.auth_test()
        self.team_id = identity.get("team_id") or ""
        self.bot_user_id = identity.get("user_id")
        self.spaces.team_id, self.spaces.bot_user_id = self.team_id, self.bot_user_id
        if self.config.mode == "socket":
            self._socket = AsyncSocketModeHandler(self.app, self.config.app_token)
            await self._socket.connect_async()
            log.info("slack: connected in Socket Mode as %s", self.bot_user_id)
        else:
            self._http = HttpServer(
                self.app,
                path=self.config.path,
                host=self.config.host,
                port=self.config.port,
                healthy=self._healthy,
                signing_secret=self.config.signing_secret,
                events=self.listeners.on_event,
            )
            await self._http.start()

    def _healthy(self) -> Any:
        """The core's store check (run off the event loop by the server; may be awaitable)."""
        return self.core is not None and self.core.healthy()

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._http is not None:
            await self._http.stop()
            self._http = None
        await self.work.drain(STOP_GRACE)
        if self.client.session is not None:
            await self.client.session.close()
            self.client.session = None

    async def idle(self) -> None:
        """Wait until every acknowledged event has been handed to the core and handled."""
        await self.work.idle()

    async def send(
        self, person: PersonRef | None, space: SpaceRef | None, message: Outgoing, key: str
    ) -> None:
        await self.delivery.send(person, space, message, key)

    async def open_space(
        self,
        kind: SpaceKind,
        name: str,
        members: Sequence[PersonRef],
        key: str,
        parent: SpaceRef | None = None,
    ) -> SpaceRef:
        """A private channel; `parent` is not used, Slack pair spaces are channels too."""
        return await self.spaces.open(kind, name, members, key)

    async def profile(self, person: PersonRef) -> Profile:
        return await self.profiles.lookup(person.user_id)

    def lookup_turn(self, person: PersonRef) -> float:
        return self.profiles.turns.keep(person.user_id)

    def mention(self, user_id: str, name: str) -> str:
        """Slack's user mention, made by the bot itself (never from text someone typed)."""
        if not _USER_ID.fullmatch(user_id):
            return self.escape(name)
        return f"<@{user_id}>"


def create_adapter(config: Config) -> SlackAdapter:
    """Build the adapter from the whole configuration (coordinators come from the programmes)."""
    coordinators: list[str] = []
    for programme in config.programmes:
        for user_id in programme.coordinators.get("slack", ()):
            if user_id not in coordinators:
                coordinators.append(user_id)
    return SlackAdapter(config.slack, coordinators)
