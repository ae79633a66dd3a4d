"""A verified activity, handled: its conversation remembered, its event through the core, and
the HTTP answer Teams expects.

- message (typed text, a command, an `Action.Submit`): 200 once the core recorded it;
- `adaptiveCard/action` (every button and form of ours): 200 with an invoke response whose
  card replaces the one clicked — the question with what was chosen, or the form again with the
  core's reasons under its fields;
- `fileConsent/invoke`: the file uploaded or dropped (`files`), then 200;
- everything else (installs, members joining, reactions): remembered where useful, 200.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from adapters.teams import ids, parse, render
from adapters.teams.files import Files
from adapters.teams.references import References, reference_of
from bot.events import Event, FormSubmitted, SpaceKind

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)

CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
FALLBACK_COMMANDS = {"help": False, "language": False, "privacy": False, "status": True}


def invoke_card(card: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200, "type": CARD_RESPONSE, "value": card}


def invoke_message(text: str) -> dict[str, Any]:
    return {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": text or "✓"}


class Activities:
    def __init__(self, references: References, files: Files, now: Callable[[], Any]) -> None:
        self.references = references
        self.files = files
        self.now = now
        self.core: Core | Any = None

    def commands(self) -> Mapping[str, bool]:
        """Typed command names (those with a summary) → coordinators only."""
        specs = getattr(self.core, "commands", None)
        if not specs:
            return FALLBACK_COMMANDS
        return {n: s.coordinator_only for n, s in specs.items() if s.summary is not None}

    def kind_of(self, channel_id: str) -> SpaceKind:
        known = self.references.space_kind(channel_id)
        return SpaceKind(known) if known else SpaceKind.GROUP

    async def handle(self, activity: dict[str, Any]) -> tuple[int, Any]:
        ref = reference_of(activity)
        user = parse.person_of(activity).user_id
        if ref.conversation_id and ref.service_url:
            await self.references.remember(
                ref, user if ref.kind == "personal" else None, self.now()
            )
        parsed = parse.event_of(activity, self.commands(), self.kind_of)
        if isinstance(parsed, parse.FileAnswer):
            try:
                await self.files.answer(parsed, ref.service_url)
            except Exception:
                log.exception("teams: answering a file consent failed")
                return 500, None
            return 200, None
        is_card_action = activity.get("type") == "invoke" and activity.get("name") == (
            "adaptiveCard/action"
        )
        if parsed is None:
            return 200, invoke_message("") if is_card_action else None
        outcome = await self.core.handle(parsed)
        if not is_card_action:
            return 200, None
        return 200, self._card_answer(activity, parsed, getattr(outcome, "form_errors", None))

    @staticmethod
    def _card_answer(activity: dict[str, Any], event: Event, errors: Any) -> dict[str, Any]:
        data = ((activity.get("value") or {}).get("action") or {}).get("data")
        action = ids.read(data)
        assert action is not None  # the event was parsed from it
        if isinstance(event, FormSubmitted) and errors:
            if action.form is None:
                return invoke_message(" ".join(render.escape(e) for e in errors.values()))
            values = action.form_values or {}
            return invoke_card(render.form_card(action.form, action.question, values, errors))
        return invoke_card(render.answered_card(action.question, action.labels))
