"""Building blocks for tests of flows and adapters: a core on a given database with a fixed
clock, and a `Conversation` that talks to it through the console adapter and reads the replies.

    chat = Conversation(core, console)
    await chat.send("anna", "hello")
    assert "May I store" in chat.last("anna")
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping
from datetime import date

from bot.adapter import Adapter
from bot.app import App, build
from bot.clock import Clock
from bot.config.model import Config, ProgrammeConfig, SchedulerConfig
from bot.core import Core, Outcome
from bot.events import Choice, Command, Event, FormSubmitted, Message, PersonRef, SpaceRef
from bot.replies import Outgoing


def programme_config(slug: str = "test", **overrides: object) -> ProgrammeConfig:
    values: dict[str, object] = {
        "name": "Mentoraat Test",
        "slug": slug,
        "language": "en",
        "timezone": "Europe/Amsterdam",
        "start": date(2026, 9, 1),
        "end": date(2027, 6, 30),
        "meeting_cadence": "biweekly",
        "meetings": 4,
        "coordinators": {"console": ("cora",), "slack": ("UCOORD",), "discord": ("900",)},
        "referral": "Call the student counsellor at 020-1234567.",
    }
    values.update(overrides)
    return ProgrammeConfig(**values)  # type: ignore[arg-type]


def build_app(
    database_url: str,
    clock: Clock,
    adapters: Mapping[str, Adapter] | None = None,
    programmes: tuple[ProgrammeConfig, ...] | None = None,
    auto_dispatch: bool = False,
) -> App:
    config = Config(
        database_url=database_url,
        programmes=programmes if programmes is not None else (programme_config(),),
        scheduler=SchedulerConfig(claim_lease_seconds=30),
    )
    return build(config, clock, adapters=adapters, auto_dispatch=auto_dispatch)


def build_core(
    database_url: str,
    clock: Clock,
    adapters: Mapping[str, Adapter] | None = None,
    programmes: tuple[ProgrammeConfig, ...] | None = None,
    auto_dispatch: bool = False,
) -> Core:
    return build_app(database_url, clock, adapters, programmes, auto_dispatch).core


class Conversation:
    """Scripted talk with the core through the console adapter, as one person or another."""

    def __init__(self, core: Core, console: Adapter, workspace: str = "test") -> None:
        self.core = core
        self.console = console
        self.workspace = workspace
        self.outcome: Outcome | None = None
        self.where: dict[str, SpaceRef] = {}
        self.names: dict[str, str] = {}
        """Display names the platform reports with each event, per person."""
        self._read: dict[str, int] = {}

    def ref(self, who: str) -> PersonRef:
        return PersonRef("console", self.workspace, who)

    def space(self, who: str) -> SpaceRef:
        return self.where.get(who) or SpaceRef("console", self.workspace, f"dm-{who}")

    def enter(self, who: str, channel_part: str) -> SpaceRef:
        """From now on `who` types in their group or pair space whose id contains the text."""
        (space,) = [s for s in self.core.spaces_of(self.ref(who)) if channel_part in s.channel_id]
        self.where[who] = space
        return space

    async def event(self, event: Event) -> Outcome:
        self.outcome = await self.core.handle(event)
        await self.core.dispatcher.run_due()
        return self.outcome

    def _common(self, who: str, event_id: str | None) -> dict:
        return {
            "person": self.ref(who),
            "space": self.space(who),
            "event_id": event_id or uuid.uuid4().hex,
            "display_name": self.names.get(who),
        }

    async def send(self, who: str, text: str, event_id: str | None = None) -> Outcome:
        return await self.event(Message(text=text, **self._common(who, event_id)))

    async def command(self, who: str, name: str, *args: str) -> Outcome:
        return await self.event(Command(name=name, args=args, **self._common(who, None)))

    async def click(self, who: str, *values: str, token: str | None = None) -> Outcome:
        token = token or self.last_message(who).choice_token
        assert token, "the last message had no options"
        return await self.event(Choice(token=token, values=values, **self._common(who, None)))

    async def submit(self, who: str, values: dict[str, str]) -> Outcome:
        form = self.last_message(who).form
        assert form, "the last message had no form"
        return await self.event(
            FormSubmitted(form_id=form.form_id, values=values, **self._common(who, None))
        )

    def messages(self, who: str) -> list[Outgoing]:
        return [m for user, m in self.console.sent if user == who]  # type: ignore[attr-defined]

    def new(self, who: str) -> list[str]:
        """Texts sent to `who` since the last call."""
        texts = [m.text for m in self.messages(who)]
        start = self._read.get(who, 0)
        self._read[who] = len(texts)
        return texts[start:]

    def last_message(self, who: str) -> Outgoing:
        messages = self.messages(who)
        assert messages, f"nothing was sent to {who}"
        return messages[-1]

    def last(self, who: str) -> str:
        return self.last_message(who).text


def console_adapter() -> Adapter:
    from importlib import import_module

    module = import_module("adapters.console")
    return module.ConsoleAdapter(out=io.StringIO(), workspace="test")
