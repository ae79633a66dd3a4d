"""Pair and group spaces: Graph group chats (`pair_space = "chat"`) or private channels in the
programme's team (`"channel"`, `team_id`), with Maatje installed so it can post there.

Found again by key, not by memory: a chat's topic (a channel's name) ends in a short hash of the
key, so a second `open` with the same key (a retry after a crash, another process) finds the
space through Graph and only adds the members missing. Graph's app-only permissions cannot post
chat messages, so Maatje is installed into the chat (or the team) and posts as the bot through
the Bot Connector, with the tenant's service URL.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime

from adapters.teams.graph import Graph, GraphError
from adapters.teams.parse import PLATFORM, channel_key
from adapters.teams.references import Reference, References
from bot.adapter import DeliveryError
from bot.config.model import TeamsConfig
from bot.events import PersonRef, SpaceKind, SpaceRef

log = logging.getLogger(__name__)

TOPIC_LIMIT = 250
CHANNEL_NAME_LIMIT = 50
_NOT_IN_CHANNEL_NAMES = re.compile(r"[~#%&*{}+/\\:<>?|'\".]+")


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:6]


def chat_topic(name: str, key: str) -> str:
    """`"rechten-2026 Maria Anna"` → `"rechten-2026 Maria Anna · 1a2b3c"`."""
    suffix = f" · {_hash(key)}"
    return " ".join(name.split())[: TOPIC_LIMIT - len(suffix)].rstrip() + suffix


def channel_name(name: str, key: str) -> str:
    """A private channel's name: Teams refuses some characters and more than 50 of them."""
    plain = unicodedata.normalize("NFKC", name)
    plain = " ".join(_NOT_IN_CHANNEL_NAMES.sub(" ", plain).split()).strip("_ ")
    suffix = f" {_hash(key)}"
    return (plain[: CHANNEL_NAME_LIMIT - len(suffix)].rstrip() or "maatje") + suffix


class Spaces:
    def __init__(
        self,
        config: TeamsConfig,
        graph: Graph,
        references: References,
        now: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.graph = graph
        self.references = references
        self.now = now

    async def open(
        self, kind: SpaceKind, name: str, members: Sequence[PersonRef], key: str
    ) -> SpaceRef:
        people = [m for m in members if m.platform == PLATFORM]
        if not people:
            raise DeliveryError("teams: a space needs at least one Teams member", permanent=True)
        tenant_id = people[0].workspace
        users = list(dict.fromkeys(m.user_id for m in people))
        try:
            tenant = await self.references.tenant(tenant_id)
            if tenant is None:
                raise DeliveryError(f"teams: no activity from tenant {tenant_id} yet")
            if self.config.pair_space == "channel":
                conversation = await self._channel(name, key, users)
                teams_kind = "channel"
            else:
                conversation = await self._chat(name, key, users)
                teams_kind = "groupChat"
        except GraphError as exc:
            error = exc.delivery_error()
            log.warning("teams: opening space %s failed: %s", key, error)
            raise error from exc
        ref = Reference(
            conversation, tenant.service_url, tenant_id, teams_kind, tenant.bot_id, "", kind.value
        )
        await self.references.mark(ref, kind.value, self.now())
        return SpaceRef(PLATFORM, tenant_id, channel_key(conversation), kind)

    async def _chat(self, name: str, key: str, users: list[str]) -> str:
        topic = chat_topic(name, key)
        chat_id = await self.graph.find_chat(users[0], topic)
        if chat_id is None:
            chat_id = await self.graph.create_chat(topic, users)
        else:
            present = await self.graph.chat_members(chat_id)
            for user in users:
                if user not in present:
                    await self.graph.add_chat_member(chat_id, user)
        await self.graph.install_in_chat(chat_id, self.config.app_id)
        return chat_id

    async def _channel(self, name: str, key: str, users: list[str]) -> str:
        team = self.config.team_id
        display = channel_name(name, key)
        await self.graph.install_in_team(team, self.config.app_id)
        channel_id = await self.graph.find_channel(team, display)
        if channel_id is None:
            return await self.graph.create_channel(team, display, users)
        present = await self.graph.channel_members(team, channel_id)
        for user in users:
            if user not in present:
                await self.graph.add_channel_member(team, channel_id, user)
        return channel_id
