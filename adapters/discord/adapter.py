"""The Discord adapter: what the core sees of Discord (`bot.adapter.Adapter`).

It starts a discord.py client pointed at `[discord] api_base_url` and `gateway_url`, registers
the `/maatje` command, forwards messages and interactions to the core (`listeners`), and
posts replies (`delivery`) and opens spaces (`spaces`) when the core asks. It holds no
programme logic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord import commands, profiles
from adapters.discord import escape as _escape
from adapters.discord.connection import Client, point_at
from adapters.discord.delivery import Delivery, Interactions
from adapters.discord.forms import Forms
from adapters.discord.listeners import Listeners
from adapters.discord.parse import PLATFORM
from adapters.discord.spaces import CHANNEL_LIMIT, Spaces
from bot.adapter import Capabilities, DeliveryError, Profile
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.i18n import LANGUAGES
from bot.replies import Outgoing

if TYPE_CHECKING:
    from bot.config.model import Config, DiscordConfig
    from bot.core import Core

log = logging.getLogger(__name__)

READY_TIMEOUT = 60.0
STOP_GRACE = 10.0
RECONNECT_DELAY = 1.0
"""Seconds before connecting again after the gateway task died; doubles each time, at most 60."""
# Used when the core does not list its commands (a test double).
FALLBACK_COMMANDS = ("help", "language", "privacy", "status")


class DiscordAdapter:
    platform = PLATFORM
    capabilities = Capabilities(
        buttons_per_message=5, options_per_select=25, modals=True, max_text_length=2000
    )

    def __init__(self, config: DiscordConfig, **client_options: Any) -> None:
        """`client_options` go to `discord.Client` (tests shorten `guild_ready_timeout`)."""
        self.config = config
        self.capabilities = replace(
            DiscordAdapter.capabilities, coordinators_read_spaces=bool(config.coordinator_role)
        )
        self.client_options = client_options
        self.forms = Forms()
        self.interactions = Interactions()
        self.client: Client | None = None
        self.core: Core | Any = None
        self._connection: asyncio.Task[None] | None = None
        self._stopping = False
        self._lost = 0
        self._pending: set[asyncio.Task[None]] = set()
        self._busy: set[asyncio.Task[Any]] = set()
        self._spaces: Spaces | None = None
        self._delivery: Delivery | None = None
        self._listeners: Listeners | None = None

    @property
    def workspace(self) -> str:
        """The application id: one workspace for every event (see `parse`)."""
        return self._listeners.workspace if self._listeners else ""

    def escape(self, text: str) -> str:
        return _escape.escape(text)

    # -- life cycle ------------------------------------------------------------------------

    async def start(self, core: Core) -> None:
        if not self.config.token:
            raise RuntimeError("discord: DISCORD_TOKEN is not set")
        self.core = core
        point_at(self.config.api_base_url, self.config.gateway_url)
        shard = (
            {"shard_id": self.config.shard_id, "shard_count": self.config.shard_count}
            if self.config.shard_count
            else {}
        )
        client = self.client = Client(
            self._on_message, self._on_interaction, **shard, **self.client_options
        )
        self._spaces = Spaces(client, self.config)
        self._delivery = Delivery(client, self.forms, self.interactions)
        self._listeners = Listeners(
            self.forms,
            self.interactions,
            self._spaces.kind_of,
            self.escape,
            self._spaces.roles,
        )
        self._listeners.core = core
        try:
            await client.login(self.config.token)
        except BaseException:
            await client.close()  # a wrong token must not leave the HTTP session open
            raise
        assert client.user is not None and client.application_id is not None
        workspace, bot_id = str(client.application_id), str(client.user.id)
        self._listeners.workspace, self._listeners.bot_id = workspace, bot_id
        self._spaces.workspace, self._spaces.bot_id = workspace, bot_id
        await self._register_commands(client.application_id)
        connection = self._connect()
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, connection}, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            failure = connection.exception() if connection.done() else None
            await self.stop()
            raise RuntimeError(f"discord: the gateway did not become ready ({failure})")
        log.info("discord: connected as %s (application %s)", client.user, workspace)
        await self._check_room()

    def _connect(self) -> asyncio.Task[None]:
        assert self.client is not None
        connection = self._connection = asyncio.create_task(self.client.connect(reconnect=True))
        connection.add_done_callback(self._connection_ended)
        return connection

    def _connection_ended(self, connection: asyncio.Task[None]) -> None:
        """discord.py gives up on the gateway when handling an event raises (not only on network
        errors): log it and connect again, so the bot does not go silently deaf."""
        if connection.cancelled() or self._stopping or connection.exception() is None:
            return
        exc = connection.exception()
        self._lost += 1
        delay = min(RECONNECT_DELAY * 2 ** (self._lost - 1), 60)
        log.error(
            "discord: the gateway connection was lost (%r); connecting again in %ss",
            exc,
            delay,
            exc_info=exc,
        )
        asyncio.get_running_loop().call_later(delay, self._start_reconnect)

    def _start_reconnect(self) -> None:
        task = asyncio.get_running_loop().create_task(self._reconnect())
        self._pending.add(task)  # keep a reference until it is done
        task.add_done_callback(self._pending.discard)

    async def _reconnect(self) -> None:
        """Close what is left of the dead connection (its heartbeat thread) and connect anew."""
        websocket = getattr(self.client, "ws", None)
        if websocket is not None:
            with contextlib.suppress(Exception):
                await websocket.close(code=4000)
        if not self._stopping:
            self._connect()

    async def stop(self) -> None:
        self._stopping = True
        if self.client is not None:
            await self.client.close()
        if self._connection is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._connection, STOP_GRACE)
            self._connection = None
        if self._busy:
            await asyncio.wait(list(self._busy), timeout=STOP_GRACE)

    async def idle(self) -> None:
        """Wait until every message and interaction received so far has been handled."""
        while self._busy:
            await asyncio.gather(*list(self._busy), return_exceptions=True)

    async def _register_commands(self, application_id: int) -> None:
        """`/maatje` in each configured guild (and in DMs), or globally."""
        assert self.client is not None
        subcommands = self._subcommands()
        http = self.client.http
        name = self.config.command
        try:
            if self.config.guild_ids:
                in_guild = commands.definition(name, subcommands, contexts=None)
                for guild_id in self.config.guild_ids:
                    await http.bulk_upsert_guild_commands(application_id, guild_id, [in_guild])
                in_dm = commands.definition(name, subcommands, contexts=(commands.BOT_DM,))
                await http.bulk_upsert_global_commands(application_id, [in_dm])
            else:
                await http.bulk_upsert_global_commands(
                    application_id, [commands.definition(name, subcommands)]
                )
        except discord.HTTPException as exc:
            log.error(
                "discord: registering /%s failed (%s); is the bot invited with the "
                "applications.commands scope to every server in guild_ids?",
                name,
                exc,
            )

    def _subcommands(self) -> list[commands.Subcommand]:
        specs = getattr(self.core, "commands", None)
        translator = getattr(self.core, "translator", None)
        if not specs or translator is None:
            return [commands.Subcommand(n, {"en": n}) for n in FALLBACK_COMMANDS]
        return [
            commands.Subcommand(
                name, {lang: translator.render(spec.summary, lang) for lang in LANGUAGES}
            )
            for name, spec in specs.items()
            if spec.summary is not None
        ]

    async def _check_room(self) -> None:
        """In channel mode, warn at start-up while there is still time to switch to threads."""
        if self.config.pair_space != "channel" or self._spaces is None:
            return
        try:
            count = await self._spaces.count_channels()
        except (DeliveryError, discord.HTTPException) as exc:
            log.info("discord: could not count the server's channels: %s", exc)
            return
        if count > CHANNEL_LIMIT * 0.8:
            log.warning(
                "discord: the server has %s of at most %s channels and every pair gets its own "
                'channel (pair_space = "channel"); consider pair_space = "thread"',
                count,
                CHANNEL_LIMIT,
            )

    # -- from Discord ----------------------------------------------------------------------

    async def _on_message(self, message: discord.Message) -> None:
        assert self._listeners is not None
        await self._track(self._listeners.message(message))

    async def _on_interaction(self, interaction: discord.Interaction) -> None:
        assert self._listeners is not None
        await self._track(self._listeners.interaction(interaction))

    async def _track(self, work: Any) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._busy.add(task)
        try:
            await work
        except Exception:
            log.exception("discord: handling an event failed")
        finally:
            self._busy.discard(task)

    # -- from the core ---------------------------------------------------------------------

    async def send(
        self, person: PersonRef | None, space: SpaceRef | None, message: Outgoing, key: str
    ) -> None:
        if self._delivery is None:
            raise DeliveryError("discord: the adapter is not running")
        await self._delivery.send(person, space, message, key)

    async def open_space(
        self,
        kind: SpaceKind,
        name: str,
        members: Sequence[PersonRef],
        key: str,
        parent: SpaceRef | None = None,
    ) -> SpaceRef:
        if self._spaces is None:
            raise DeliveryError("discord: the adapter is not running")
        return await self._spaces.open(kind, name, members, key, parent)

    async def profile(self, person: PersonRef) -> Profile:
        if self.client is None:
            raise DeliveryError("discord: the adapter is not running")
        return await profiles.lookup(self.client.http, self.config.guild_ids, person.user_id)

    def lookup_turn(self, person: PersonRef) -> float:
        return 0.0  # discord.py waits for the route's bucket itself

    def mention(self, user_id: str, name: str) -> str:
        """A user mention; the post lets exactly the mentioned users be notified."""
        return f"<@{user_id}>" if user_id.isdigit() else self.escape(name)


def create_adapter(config: Config, **options: Any) -> DiscordAdapter:
    return DiscordAdapter(config.discord, **options)
