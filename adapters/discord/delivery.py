"""Posting rendered replies, and turning failures into `DeliveryError` for the outbox.

Where a reply goes:
- caused by an interaction still open (15 minutes): a slash command's deferred answer is
  replaced by the first reply; private (ephemeral) replies are followups only the person sees;
- otherwise in the space's channel or thread, or the person's DM when there is no space — or
  when the reply is private but no interaction can carry it.

Every post allows no mentions but the users the core mentioned on purpose (`Outgoing.mentions`:
whose turn it is), suppresses link previews, and carries a `nonce` derived from the outbox
idempotency key with `enforce_nonce`, so a retry of a post Discord already accepted (a crash
between send and record) does not post twice.

discord.py waits out short 429s itself (per route, `Via` header as Discord sends it); one longer
than `MAX_INLINE_WAIT` comes back as `RateLimited` and goes to the outbox with its retry_after.
It keeps each route's bucket (per channel for messages) from Discord's headers before a 429, but
meets the global limit (50 requests a second per bot) only by being refused. So posts also wait
for `GLOBAL_RATE` here, urgent ones first: the dispatcher sends many messages at once, and a
poll's DMs must neither draw 429s (Discord bans clients that collect too many) nor hold up a
reply someone waits for. Interaction responses are outside the global limit and do not wait.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
from discord.http import handle_message_parameters

from adapters.discord.forms import Forms
from adapters.discord.render import Rendered, render
from bot.adapter import DeliveryError
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.pacing import Pacer
from bot.replies import Outgoing

log = logging.getLogger(__name__)

MAX_INLINE_WAIT = 30.0  # discord.py's smallest allowed max_ratelimit_timeout
GLOBAL_RATE, GLOBAL_BURST = 45.0, 10  # just under Discord's 50 requests a second per bot
INTERACTION_LIFETIME = 14 * 60.0  # Discord accepts followups for 15 minutes
NONCE_LENGTH = 25
NO_MENTIONS = discord.AllowedMentions.none()
FLAGS = discord.MessageFlags(suppress_embeds=True)
# Channel-level refusals: the person still gets their reply in a DM.
UNREACHABLE = {404, 403}


def allowed_mentions(message: Outgoing) -> discord.AllowedMentions:
    """Nobody, or exactly the users the message mentions on purpose."""
    users = [discord.Object(id=int(m.user_id)) for m in message.mentions if m.user_id.isdigit()]
    if not users:
        return NO_MENTIONS
    return discord.AllowedMentions(everyone=False, roles=False, users=users, replied_user=False)


def nonce(key: str, part: int = 0) -> str:
    """Discord's message nonce (≤ 25 characters) for part `part` of the message with `key`."""
    return hashlib.sha256(f"{key}#{part}".encode()).hexdigest()[:NONCE_LENGTH]


def _retry_after(exc: discord.HTTPException) -> float | None:
    headers = getattr(exc.response, "headers", None) or {}
    value = headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def classify(exc: BaseException) -> DeliveryError:
    """The `DeliveryError` a failed Discord call becomes."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, discord.RateLimited):
        return DeliveryError("discord: rate limited", retry_after=exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        status, code = exc.status, exc.code
        reason = f"discord: http {status} ({code}: {exc.text[:200]})"
        if status == 429:
            return DeliveryError(reason, retry_after=_retry_after(exc) or 1.0)
        if status >= 500:
            return DeliveryError(reason)
        if status == 408:
            return DeliveryError(reason)
        return DeliveryError(reason, permanent=True)  # 400 bad request, 401, 403, 404
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ClientError | OSError):
        return DeliveryError(f"discord: {type(exc).__name__}: {exc}")
    return DeliveryError(f"discord: unexpected {type(exc).__name__}: {exc}")


@dataclass
class Open:
    interaction: discord.Interaction
    opened: float
    deferred_answer: bool
    """A slash command's "thinking…" answer waits to be replaced by the first reply."""


class Interactions:
    """Interactions whose replies may still come through them, by interaction id."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, limit: int = 1000) -> None:
        self.clock = clock
        self.limit = limit
        self._open: OrderedDict[str, Open] = OrderedDict()

    def add(self, interaction: discord.Interaction, deferred_answer: bool) -> None:
        self._open[str(interaction.id)] = Open(interaction, self.clock(), deferred_answer)
        while len(self._open) > self.limit:
            self._open.popitem(last=False)

    def for_key(self, key: str) -> Open | None:
        """The interaction that caused the message with outbox key `key` (the core builds keys
        from the event id, which for an interaction is its id)."""
        now = self.clock()
        for part in key.split(":"):
            entry = self._open.get(part)
            if entry is not None:
                if now - entry.opened < INTERACTION_LIFETIME:
                    return entry
                self._open.pop(part, None)
        return None


class Delivery:
    def __init__(self, client: discord.Client, forms: Forms, interactions: Interactions):
        self.client = client
        self.forms = forms
        self.interactions = interactions
        self.pacer = Pacer(GLOBAL_RATE, GLOBAL_BURST)
        self._dm_channels: dict[str, str] = {}

    async def dm_channel(self, user_id: str) -> str:
        channel = self._dm_channels.get(user_id)
        if channel is None:
            await self.pacer.wait()
            data = await self.client.http.start_private_message(int(user_id))
            channel = self._dm_channels[user_id] = str(data["id"])
        return channel

    async def send(
        self, person: PersonRef | None, space: SpaceRef | None, message: Outgoing, key: str
    ) -> None:
        if person is None and space is None:
            raise DeliveryError("discord: a message needs a person or a space", permanent=True)
        if message.form is not None:
            self.forms.remember(message.form)
        try:
            parts = render(message)
            mentions = allowed_mentions(message)
            entry = self.interactions.for_key(key)
            if entry is not None and (entry.deferred_answer or message.ephemeral):
                try:
                    await self._through_interaction(entry, parts, message.ephemeral, mentions)
                    return
                except discord.NotFound as exc:  # the interaction expired meanwhile
                    log.info("discord: interaction gone (%s), posting instead", exc)
            private = message.ephemeral and space is not None and space.kind is not SpaceKind.DIRECT
            if space is None or (private and person is not None):
                assert person is not None
                await self._post(await self.dm_channel(person.user_id), parts, key, mentions)
                return
            try:
                await self._post(space.channel_id, parts, key, mentions)
            except discord.HTTPException as exc:
                if person is None or exc.status not in UNREACHABLE:
                    raise
                log.info("discord: %s unreachable (%s), replying in a DM", space.channel_id, exc)
                await self._post(await self.dm_channel(person.user_id), parts, key, mentions)
        except Exception as exc:
            error = classify(exc)
            log.warning("discord: delivery of %s failed: %s", key, error)
            raise error from exc

    async def _post(
        self,
        channel_id: str,
        parts: list[Rendered],
        key: str,
        mentions: discord.AllowedMentions = NO_MENTIONS,
    ) -> None:
        for index, part in enumerate(parts):
            with handle_message_parameters(
                content=part.content or discord.utils.MISSING,
                view=part.view,
                files=part.files or discord.utils.MISSING,
                nonce=nonce(key, index),
                allowed_mentions=mentions,
                flags=FLAGS,
            ) as params:
                await self.pacer.wait()
                await self.client.http.send_message(int(channel_id), params=params)

    async def _through_interaction(
        self,
        entry: Open,
        parts: list[Rendered],
        private: bool,
        mentions: discord.AllowedMentions = NO_MENTIONS,
    ) -> None:
        interaction = entry.interaction
        for part in parts:
            fields: dict[str, Any] = {"allowed_mentions": mentions}
            if part.content:
                fields["content"] = part.content
            if part.view is not None:
                fields["view"] = part.view
            if entry.deferred_answer:
                entry.deferred_answer = False
                if part.files:
                    fields["attachments"] = part.files
                await interaction.edit_original_response(**fields)
            else:
                if part.files:
                    fields["files"] = part.files
                await interaction.followup.send(ephemeral=private, wait=True, **fields)
