"""The Teams adapter: what the core sees of Microsoft Teams (`bot.adapter.Adapter`).

It serves the messaging endpoint (`http`, JWT-verified by `auth`), hands activities to the core
(`activities`), posts replies proactively through the Bot Connector (`connector`, `delivery`)
with client-credentials tokens (`tokens`), opens pair and group spaces and installs Maatje
through Microsoft Graph (`graph`, `spaces`), and keeps conversation references and files
waiting for consent in the core's store (`references`, `files`). It holds no programme logic.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiohttp

from adapters.teams import escape as _escape
from adapters.teams.activities import Activities
from adapters.teams.auth import InboundAuth
from adapters.teams.connector import Connector, classify
from adapters.teams.delivery import Delivery
from adapters.teams.files import Files
from adapters.teams.graph import Graph, GraphError
from adapters.teams.http import HttpServer
from adapters.teams.parse import PLATFORM
from adapters.teams.profiles import profile_from
from adapters.teams.references import References
from adapters.teams.render import mention_text
from adapters.teams.spaces import Spaces
from adapters.teams.tokens import ClientCredentials
from bot.adapter import Capabilities, DeliveryError, Profile
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.replies import Outgoing

if TYPE_CHECKING:
    from bot.config.model import Config, TeamsConfig
    from bot.core import Core

log = logging.getLogger(__name__)


class TeamsAdapter:
    platform = PLATFORM
    capabilities = Capabilities(
        buttons_per_message=5, options_per_select=100, modals=False, max_text_length=12000
    )

    def __init__(self, config: TeamsConfig) -> None:
        self.config = config
        self.core: Core | Any = None
        self._session: aiohttp.ClientSession | None = None
        self.credentials = ClientCredentials(
            config.token_endpoint, config.app_id, config.app_password or "", self.session
        )
        self.auth = InboundAuth(config.app_id, config.openid_metadata_url, self.session)
        self.connector = Connector(self.credentials)
        self.graph = Graph(config.graph_base_url, self.credentials, self.session)
        self.references: References | None = None
        self._delivery: Delivery | None = None
        self._spaces: Spaces | None = None
        self._activities: Activities | None = None
        self._http: HttpServer | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    def _now(self) -> datetime:
        clock = getattr(self.core, "clock", None)
        return clock.now() if clock is not None else datetime.now(UTC)

    @property
    def port(self) -> int | None:
        """The HTTP port actually bound (useful with `port = 0`)."""
        return self._http.port if self._http else None

    def escape(self, text: str) -> str:
        return _escape.escape(text)

    def mention(self, user_id: str, name: str) -> str:
        """A mention the bot makes itself: `<at>Name</at>`; `render` adds its entity."""
        return mention_text(name)

    # -- life cycle ------------------------------------------------------------------------

    async def start(self, core: Core) -> None:
        self.core = core
        self.references = References(core.store)
        await self.references.load_kinds()
        await self.references.drop_unanswered(self._now())
        self._delivery = Delivery(
            self.connector, self.graph, self.references, self.config.app_id, self._now
        )
        self._spaces = Spaces(self.config, self.graph, self.references, self._now)
        files = Files(self.connector, self.references, self.session)
        self._activities = Activities(self.references, files, self._now)
        self._activities.core = core
        self._http = HttpServer(
            self.auth,
            self._activities.handle,
            path=self.config.path,
            host=self.config.host,
            port=self.config.port,
            healthy=self._healthy,
        )
        await self._http.start()

    def _healthy(self) -> Any:
        return self.core is not None and self.core.healthy()

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.stop()
            self._http = None
        await self.connector.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- from the core ---------------------------------------------------------------------

    async def send(
        self, person: PersonRef | None, space: SpaceRef | None, message: Outgoing, key: str
    ) -> None:
        if self._delivery is None:
            raise DeliveryError("teams: the adapter is not running")
        await self._delivery.send(person, space, message, key)

    async def open_space(
        self,
        kind: SpaceKind,
        name: str,
        members: Sequence[PersonRef],
        key: str,
        parent: SpaceRef | None = None,
    ) -> SpaceRef:
        """A Graph group chat or a private channel; `parent` is not needed on Teams."""
        if self._spaces is None:
            raise DeliveryError("teams: the adapter is not running")
        return await self._spaces.open(kind, name, members, key)

    async def profile(self, person: PersonRef) -> Profile:
        """Name from the Bot Connector (the person's 1:1 chat) or Graph, language and time zone
        from Graph; a permission not granted leaves that part empty."""
        if self.references is None:
            raise DeliveryError("teams: the adapter is not running")
        member: Any = None
        ref = await self.references.personal(person.workspace, person.user_id)
        try:
            if ref is not None and ref.member_id:
                member = await self.connector.member(
                    ref.service_url, ref.conversation_id, ref.member_id
                )
        except Exception as exc:
            raise classify(exc) from exc
        found: dict[str, Any] = {}
        for name, call in (("user", self.graph.user), ("mailbox", self.graph.mailbox_settings)):
            try:
                found[name] = await call(person.user_id)
            except GraphError as exc:
                if exc.status not in (403, 404):
                    raise exc.delivery_error() from exc
                log.info("teams: no %s details for %s (%s)", name, person.user_id, exc.status)
        return profile_from(member, found.get("user"), found.get("mailbox"))

    def lookup_turn(self, person: PersonRef) -> float:
        return 0.0  # Graph's and the Connector's 429s are retried after their Retry-After


def create_adapter(config: Config) -> TeamsAdapter:
    return TeamsAdapter(config.teams)
