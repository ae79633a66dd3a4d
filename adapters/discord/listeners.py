"""Messages and interactions from the gateway, handed to the core.

One catch-all handler answers every interaction whose custom_id starts with `mj:` — nothing is
registered per message, so components sent before a restart work after it. Discord wants an
answer within 3 seconds, so each interaction is acknowledged first and the core called after:

- slash command: deferred ("thinking…", private in a guild channel); the core's first reply
  replaces it (see `delivery.Interactions`);
- button or select: deferred without a visible change; replies arrive as messages;
- "fill in" button: the form's modal at once (page 1, the next page, or again after errors);
- modal page of a longer form: a private "continue" button for the next page;
- last modal page: deferred, then one `FormSubmitted` with the values of all pages; when the
  core refuses them, a private message lists the reasons with a button that reopens the form
  filled in as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord import parse, render
from adapters.discord.delivery import NO_MENTIONS, Interactions
from adapters.discord.forms import Forms
from adapters.discord.roles import CoordinatorRole
from bot.events import Choice, Command, Event, FormSubmitted, SpaceKind

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)


class Listeners:
    def __init__(
        self,
        forms: Forms,
        interactions: Interactions,
        kind_of: Callable[[str], SpaceKind],
        escape: Callable[[str], str],
        roles: CoordinatorRole,
    ) -> None:
        self.roles = roles
        self.forms = forms
        self.interactions = interactions
        self.kind_of = kind_of
        self.escape = escape
        self.core: Core | Any = None
        self.workspace = ""
        self.bot_id = ""

    async def message(self, message: discord.Message) -> None:
        payload = parse.message_payload(message)
        event = parse.message(
            payload, self.workspace, self.bot_id, self.kind_of(payload["channel_id"])
        )
        if event is not None:
            await self.core.handle(event)

    async def interaction(self, interaction: discord.Interaction) -> None:
        payload = parse.interaction_payload(interaction)
        kind = self.kind_of(payload["channel_id"]) if payload.get("guild_id") else None
        parsed = parse.interaction(payload, self.workspace, kind or SpaceKind.GROUP)
        try:
            if isinstance(parsed, parse.OpenForm):
                await self._open_form(interaction, parsed)
            elif isinstance(parsed, parse.PageSubmitted):
                await self._page(interaction, parsed)
            elif isinstance(parsed, Event):
                await self._event(interaction, parsed)
        except discord.HTTPException as exc:
            log.warning("discord: answering interaction %s failed: %s", interaction.id, exc)

    async def _event(self, interaction: discord.Interaction, event: Event) -> None:
        command = interaction.type is discord.InteractionType.application_command
        acknowledged = await self._acknowledge(interaction, thinking=command)
        if acknowledged:
            self.interactions.add(interaction, deferred_answer=command)
        coordinator = await self._holds_coordinator_role(interaction, event)
        if coordinator is not None:
            event = replace(event, coordinator=coordinator)
        outcome = await self.core.handle(event)
        if command and acknowledged and outcome.duplicate:  # no reply will replace "thinking…"
            await interaction.delete_original_response()

    async def _holds_coordinator_role(
        self, interaction: discord.Interaction, event: Event
    ) -> bool | None:
        """Whether the person holds `[discord] coordinator_role` right now (see `roles`), so the
        core grants or ends rights that come from it; None when this interaction cannot tell."""
        guild = str(interaction.guild_id) if interaction.guild_id else None
        roles = [str(r.id) for r in getattr(interaction.user, "roles", ())]
        ask = self._needs_rights(event)
        return await self.roles.held(str(interaction.user.id), guild, roles, ask=ask)

    def _needs_rights(self, event: Event) -> bool:
        """A coordinator's command, typed or from a button (`c:<name>:…`): worth asking Discord
        about the role outside a configured server."""
        if isinstance(event, Command):
            name = event.name
        elif isinstance(event, Choice) and event.token.startswith("c:"):
            name = event.token[2:].split(":")[0]
        else:
            return False
        spec = (getattr(self.core, "commands", None) or {}).get(name.lower())
        return spec is None or bool(getattr(spec, "coordinator_only", True))

    async def _acknowledge(self, interaction: discord.Interaction, thinking: bool) -> bool:
        """Defer; False when Discord no longer takes an answer (replies then go to the channel
        or the DM instead of through the interaction)."""
        try:
            await interaction.response.defer(
                thinking=thinking, ephemeral=thinking and interaction.guild_id is not None
            )
        except discord.HTTPException as exc:
            log.warning("discord: could not acknowledge interaction %s: %s", interaction.id, exc)
            return False
        return True

    async def _resume(self, interaction: discord.Interaction, origin: parse.Origin) -> None:
        """The form is not in memory (a restart): ask the core to show the question again."""
        await self._acknowledge(interaction, thinking=False)
        resume = getattr(self.core, "resume", None)
        if resume is not None:
            await resume(origin.person, origin.space)

    async def _open_form(self, interaction: discord.Interaction, request: parse.OpenForm) -> None:
        user = request.origin.person.user_id
        form = self.forms.form(request.form_id)
        if form is None or (request.page > 1 and not self.forms.has_pages(user, request.form_id)):
            await self._resume(interaction, request.origin)
            return
        if request.page == 1:
            self.forms.start(user, request.form_id)
        defaults = self.forms.previous(user, request.form_id)
        page = min(request.page, len(render.pages(form)))
        await interaction.response.send_modal(render.modal(form, page, defaults))

    async def _page(self, interaction: discord.Interaction, sent: parse.PageSubmitted) -> None:
        user, form_id = sent.origin.person.user_id, sent.form_id
        if sent.pages > 1 and not self.forms.add_page(user, form_id, sent.page, sent.values):
            await self._resume(interaction, sent.origin)
            return
        if sent.page < sent.pages:
            message = render.continue_message(
                self.forms.form(form_id), form_id, sent.page + 1, sent.pages
            )
            await interaction.response.send_message(
                message.content, view=message.view, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        values = self.forms.collected(user, form_id) if sent.pages > 1 else sent.values
        if await self._acknowledge(interaction, thinking=False):
            self.interactions.add(interaction, deferred_answer=False)
        event = FormSubmitted(form_id=form_id, values=values, **sent.origin.fields())
        outcome = await self.core.handle(event)
        if not outcome.form_errors:
            self.forms.accepted(user, form_id)
            return
        self.forms.refused(user, form_id, values)
        message = render.errors_message(
            self.forms.form(form_id), form_id, outcome.form_errors, self.escape
        )
        await interaction.followup.send(
            message.content, view=message.view, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
