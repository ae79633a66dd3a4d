"""Private spaces for mentor groups and pairs in the programme's guild.

- a category per programme (the first word of the space name the core gives, its slug), with
  more categories ("<slug> 2", …) once one holds Discord's 50 channels;
- a group is a private text channel: @everyone may not view it; the members, the bot and the
  coordinator role (`[discord] coordinator_role`, a role id or name, see `roles`) may — the
  role may also manage threads, which lets coordinators see the pairs' private threads;
- a pair is a private thread in its group's channel (`pair_space = "thread"`, the default)
  or a private channel like a group's (`pair_space = "channel"`).

Found again by key, not by memory: a channel's topic reads `Maatje · <key>`, a thread's name
ends in a short hash of the key. So a second `open` with the same key (a retry after a crash,
another process) finds the space and only adds missing members. A guild holds at most 500
channels (categories included, threads not): a channel that would pass that is refused before
anything is created, with a message recommending thread mode.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import discord

from adapters.discord.delivery import classify
from adapters.discord.parse import PLATFORM
from adapters.discord.roles import CoordinatorRole
from bot.adapter import DeliveryError
from bot.config.model import DiscordConfig
from bot.events import PersonRef, SpaceKind, SpaceRef

log = logging.getLogger(__name__)

CHANNEL_LIMIT = 500
CATEGORY_LIMIT = 50
NAME_LIMIT = 100
TOPIC_MARKER = "Maatje · "
TEXT, CATEGORY, PRIVATE_THREAD = 0, 4, 12
ROLE, MEMBER = 0, 1
WEEK = 10080  # minutes: the longest auto-archive a thread can have

MEMBER_ALLOW = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    read_message_history=True,
    attach_files=True,
)
BOT_ALLOW = MEMBER_ALLOW | discord.Permissions(create_private_threads=True, manage_threads=True)
COORDINATOR_ALLOW = MEMBER_ALLOW | discord.Permissions(manage_threads=True)
EVERYONE_DENY = discord.Permissions(view_channel=True)

_NOT_ALLOWED = re.compile(r"[^a-z0-9_-]+")


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:6]


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"-{2,}", "-", _NOT_ALLOWED.sub("-", ascii_text.lower())).strip("-_")


def channel_name(name: str, key: str) -> str:
    """`"rechten-2026 group Maria"` → `"rechten-2026-group-maria-1a2b3c"` (≤ 100 characters)."""
    suffix = _hash(key)
    slug = _slug(name)[: NAME_LIMIT - len(suffix) - 1].rstrip("-_")
    return f"{slug}-{suffix}" if slug else f"maatje-{suffix}"


def thread_name(name: str, key: str) -> str:
    """`"rechten-2026 Maria Anna"` → `"rechten-2026 Maria Anna · 1a2b3c"` (≤ 100 characters)."""
    suffix = f" · {_hash(key)}"
    return " ".join(name.split())[: NAME_LIMIT - len(suffix)].rstrip() + suffix


def topic(key: str) -> str:
    return f"{TOPIC_MARKER}{key}"


def category_name(name: str) -> str:
    """The programme's category: the first word of the core's space name (its slug)."""
    return (name.split() or ["maatje"])[0][:NAME_LIMIT]


def overwrites(
    guild_id: str, bot_id: str, members: Sequence[str], coordinator_role: str | None
) -> list[dict[str, Any]]:
    """Permission overwrites of a private channel: hidden from @everyone (whose role id is the
    guild id), open to the members, the bot and the coordinator role."""
    rows = [
        {"id": guild_id, "type": ROLE, "allow": "0", "deny": str(EVERYONE_DENY.value)},
        {"id": bot_id, "type": MEMBER, "allow": str(BOT_ALLOW.value), "deny": "0"},
    ]
    rows += [
        {"id": m, "type": MEMBER, "allow": str(MEMBER_ALLOW.value), "deny": "0"}
        for m in dict.fromkeys(members)
        if m != bot_id
    ]
    if coordinator_role:
        allow = str(COORDINATOR_ALLOW.value)
        rows.append({"id": coordinator_role, "type": ROLE, "allow": allow, "deny": "0"})
    return rows


def too_many_channels(count: int, needed: int) -> DeliveryError | None:
    if count + needed <= CHANNEL_LIMIT:
        return None
    return DeliveryError(
        f"discord: the server has {count} channels and this space needs {needed} more; Discord "
        f"allows at most {CHANNEL_LIMIT} channels (categories included) per server. Set "
        '[discord] pair_space = "thread" so pairs get private threads in their group\'s '
        "channel instead (threads do not count), or archive old programme channels.",
        permanent=True,
    )


class Spaces:
    def __init__(self, client: discord.Client, config: DiscordConfig) -> None:
        self.client = client
        self.config = config
        self.workspace = ""
        self.bot_id = ""
        self.kinds: dict[str, SpaceKind] = {}
        self.roles = CoordinatorRole(client, config)

    # -- what a channel is ---------------------------------------------------------------

    def kind_of(self, channel_id: str) -> SpaceKind:
        """Pair or group, for a guild channel a message or interaction came from."""
        if channel_id in self.kinds:
            return self.kinds[channel_id]
        channel = self.client.get_channel(int(channel_id))
        if isinstance(channel, discord.Thread):
            return SpaceKind.PAIR
        text = getattr(channel, "topic", None) or ""
        if text.startswith(TOPIC_MARKER) and "pair:" in text[len(TOPIC_MARKER) :]:
            return SpaceKind.PAIR
        return SpaceKind.GROUP

    def guild_id(self) -> str:
        if self.config.guild_ids:
            return str(self.config.guild_ids[0])
        guilds = self.client.guilds
        if len(guilds) == 1:
            return str(guilds[0].id)
        raise DeliveryError(
            "discord: set [discord] guild_ids to the server where Maatje opens group and pair "
            f"spaces (the bot is in {len(guilds)} servers)",
            permanent=True,
        )

    # -- opening -----------------------------------------------------------------------------

    async def open(
        self,
        kind: SpaceKind,
        name: str,
        members: Sequence[PersonRef],
        key: str,
        parent: SpaceRef | None = None,
    ) -> SpaceRef:
        member_ids = [m.user_id for m in members if m.platform == PLATFORM]
        try:
            guild_id = self.guild_id()
            if (
                kind is SpaceKind.PAIR
                and self.config.pair_space == "thread"
                and parent is not None
                and parent.platform == PLATFORM
            ):
                channel_id = await self._thread(parent.channel_id, name, key, member_ids)
            else:
                channel_id = await self._channel(guild_id, name, key, member_ids)
        except Exception as exc:
            error = classify(exc)
            log.warning("discord: opening space %s failed: %s", key, error)
            raise error from exc
        self.kinds[channel_id] = kind
        return SpaceRef(PLATFORM, self.workspace, channel_id, kind)

    async def _channel(self, guild_id: str, name: str, key: str, members: list[str]) -> str:
        http = self.client.http
        channels = await http.get_all_guild_channels(int(guild_id))
        marker = topic(key)
        found = next((c for c in channels if c.get("topic") == marker), None)
        role = await self.roles.id_in(guild_id)
        if found is not None:
            await self._let_in(found, members)
            return str(found["id"])
        category = self._category(channels, category_name(name))
        needed = 1 if category else 2
        refusal = too_many_channels(len(channels), needed)
        if refusal is not None:
            raise refusal
        if category is None:
            created = await http.create_channel(
                int(guild_id), CATEGORY, name=self._next_category_name(channels, name)
            )
            category = str(created["id"])
        created = await http.create_channel(
            int(guild_id),
            TEXT,
            name=channel_name(name, key),
            topic=marker,
            parent_id=category,
            permission_overwrites=overwrites(guild_id, self.bot_id, members, role),
            reason="Maatje: a private space for a mentor group or pair",
        )
        return str(created["id"])

    @staticmethod
    def _category(channels: list[dict[str, Any]], base: str) -> str | None:
        """A category of the programme with room for one more channel."""
        names = {base.lower()} | {f"{base.lower()} {n}" for n in range(2, 20)}
        for channel in channels:
            if channel.get("type") == CATEGORY and str(channel.get("name", "")).lower() in names:
                children = sum(1 for c in channels if str(c.get("parent_id")) == str(channel["id"]))
                if children < CATEGORY_LIMIT:
                    return str(channel["id"])
        return None

    @staticmethod
    def _next_category_name(channels: list[dict[str, Any]], name: str) -> str:
        base = category_name(name)
        taken = {str(c.get("name", "")).lower() for c in channels if c.get("type") == CATEGORY}
        if base.lower() not in taken:
            return base
        number = 2
        while f"{base} {number}".lower() in taken:
            number += 1
        return f"{base} {number}"

    async def _let_in(self, channel: dict[str, Any], members: list[str]) -> None:
        present = {str(o["id"]) for o in channel.get("permission_overwrites") or []}
        for member in members:
            if member not in present and member != self.bot_id:
                await self.client.http.edit_channel_permissions(
                    int(channel["id"]),
                    int(member),
                    str(MEMBER_ALLOW.value),
                    "0",
                    MEMBER,
                    reason="Maatje: a new member of this mentor group or pair",
                )

    async def _thread(self, parent_id: str, name: str, key: str, members: list[str]) -> str:
        http = self.client.http
        title = thread_name(name, key)
        thread = await self._find_thread(parent_id, title)
        if thread is None:
            created = await http.start_thread_without_message(
                int(parent_id),
                name=title,
                auto_archive_duration=WEEK,
                type=PRIVATE_THREAD,
                invitable=False,
                reason="Maatje: a private space for a pair",
            )
            thread_id = str(created["id"])
        else:
            thread_id = str(thread["id"])
            if (thread.get("thread_metadata") or {}).get("archived"):
                await http.edit_channel(int(thread_id), archived=False)
        for member in dict.fromkeys(members):  # adding is idempotent on Discord's side
            if member != self.bot_id:
                await http.add_user_to_thread(int(thread_id), int(member))
        return thread_id

    async def _find_thread(self, parent_id: str, title: str) -> dict[str, Any] | None:
        guild_id = self.guild_id()
        active = await self.client.http.get_active_threads(int(guild_id))
        for thread in active.get("threads") or []:
            if str(thread.get("parent_id")) == parent_id and thread.get("name") == title:
                return thread
        archived = await self.client.http.get_private_archived_threads(int(parent_id))
        for thread in archived.get("threads") or []:
            if thread.get("name") == title:
                return thread
        return None

    async def count_channels(self) -> int:
        return len(await self.client.http.get_all_guild_channels(int(self.guild_id())))
