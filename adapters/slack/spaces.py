"""Private channels for pairs and groups: named from the core's name, found again by key.

The channel name is the given name in Slack's alphabet plus a short hash of the key, so the
same key always gives the same name and two pairs called alike never share a channel. A
second `open` with the same key (after a restart, on another replica) creates nothing: Slack
answers `name_taken` and the channel is looked up by name, its missing members invited.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.delivery import classify, slack_error_code
from adapters.slack.parse import PLATFORM
from bot.events import PersonRef, SpaceKind, SpaceRef

log = logging.getLogger(__name__)

NAME_LIMIT = 80
_HASH_LENGTH = 6
# Refusals about one person: the space is still usable, the rest are invited (force=True).
_INVITE_REFUSED = frozenset(
    {
        "already_in_channel",
        "cant_invite_self",
        "cant_invite",
        "user_not_found",
        "user_is_restricted",
        "user_is_ultra_restricted",
        "ura_max_channels",
    }
)
_NOT_ALLOWED = re.compile(r"[^a-z0-9_-]+")


def channel_name(name: str, key: str) -> str:
    """`"Anna & Bram"`, key → `"anna-bram-1a2b3c"`: lowercase, ≤80 characters, [a-z0-9_-]."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _NOT_ALLOWED.sub("-", ascii_name.lower()).strip("-_")
    slug = re.sub(r"-{2,}", "-", slug)
    suffix = hashlib.sha256(key.encode()).hexdigest()[:_HASH_LENGTH]
    slug = slug[: NAME_LIMIT - _HASH_LENGTH - 1].rstrip("-_")
    return f"{slug}-{suffix}" if slug else f"maatje-{suffix}"


class Spaces:
    def __init__(
        self, client: AsyncWebClient, *, coordinators: Iterable[str] = (), join: bool = False
    ) -> None:
        self.client = client
        self.coordinators = tuple(coordinators) if join else ()
        self.team_id = ""
        self.bot_user_id: str | None = None

    async def open(
        self, kind: SpaceKind, name: str, members: Sequence[PersonRef], key: str
    ) -> SpaceRef:
        wanted = [m.user_id for m in members if m.platform == PLATFORM]
        wanted += [c for c in self.coordinators if c not in wanted]
        wanted = [u for u in wanted if u != self.bot_user_id]
        slack_name = channel_name(name, key)
        try:
            channel_id, fresh = await self._create_or_find(slack_name)
            present = {self.bot_user_id} if fresh else await self._members(channel_id)
            missing = [u for u in wanted if u not in present]
            if missing:
                await self._invite(channel_id, missing)
        except Exception as exc:
            error = classify(exc)
            log.warning("slack: opening space %s failed: %s", slack_name, error)
            raise error from exc
        return SpaceRef(PLATFORM, self.team_id, channel_id, kind)

    async def _create_or_find(self, name: str) -> tuple[str, bool]:
        try:
            response = await self.client.conversations_create(name=name, is_private=True)
            return response["channel"]["id"], True
        except SlackApiError as exc:
            if slack_error_code(exc) != "name_taken":
                raise
            taken = exc
        channel = await self._find(name)
        if channel is None:  # taken by a channel the bot is not in: a person has to sort it out
            log.error("slack: channel name %s is taken by a channel Maatje is not in", name)
            raise taken
        if channel.get("is_archived"):
            await self.client.conversations_unarchive(channel=channel["id"])
        return channel["id"], False

    async def _find(self, name: str) -> dict | None:
        cursor = None
        while True:
            response = await self.client.conversations_list(
                types="private_channel", exclude_archived=False, limit=200, cursor=cursor
            )
            for channel in response.get("channels") or []:
                if channel.get("name") == name:
                    return channel
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None

    async def _members(self, channel_id: str) -> set[str]:
        members: set[str] = set()
        cursor = None
        while True:
            response = await self.client.conversations_members(
                channel=channel_id, limit=200, cursor=cursor
            )
            members.update(response.get("members") or [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return members

    async def _invite(self, channel_id: str, users: list[str]) -> None:
        try:
            await self.client.conversations_invite(channel=channel_id, users=users, force=True)
        except SlackApiError as exc:
            if slack_error_code(exc) not in _INVITE_REFUSED:
                raise
            log.warning("slack: not everyone could join %s: %s", channel_id, slack_error_code(exc))
