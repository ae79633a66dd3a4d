"""Renders outgoing messages as text: options numbered, forms asked one field at a time.

The adapter remembers, per person, the last options and the open form it showed, so that the
REPL can turn "2" into a button press and collect a form's fields.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from bot.adapter import Capabilities, Profile
from bot.config import Config
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.replies import Outgoing, OutgoingForm, OutgoingOption

PLATFORM = "console"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x1b]")


@dataclass
class PendingChoice:
    token: str
    options: tuple[OutgoingOption, ...]
    multiple: bool


class ConsoleAdapter:
    platform = PLATFORM
    capabilities = Capabilities(
        buttons_per_message=99, options_per_select=99, modals=False, max_text_length=100_000
    )

    def __init__(
        self,
        out: TextIO | None = None,
        names: dict[str, str] | None = None,
        workspace: str = "demo",
    ) -> None:
        self.workspace = workspace
        self.out = out or sys.stdout
        self.names = names or {}
        self.choices: dict[str, PendingChoice] = {}
        self.forms: dict[str, OutgoingForm] = {}
        self.sent: list[tuple[str, Outgoing]] = []
        self.spaces: dict[str, set[str]] = {}
        """Pair and group spaces: channel id → member user ids."""

    def escape(self, text: str) -> str:
        """Terminal escape sequences and control characters never reach the screen."""
        return _CONTROL.sub("", text)

    async def start(self, core) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(
        self, person: PersonRef | None, space: SpaceRef | None, message: Outgoing, key: str
    ) -> None:
        user = person.user_id if person else None
        if space is None or space.kind is SpaceKind.DIRECT:
            header = f"[Maatje → {self.names.get(user or '', user)}]"
        else:
            header = f"[Maatje in #{space.channel_id}" + (
                f" → {self.names.get(user, user)}]" if user else "]"
            )
        lines = [f"{header} {message.text}"]
        for index, option in enumerate(message.choices, start=1):
            lines.append(f"    {index}) {option.label}")
        if user and message.choices and message.choice_token:
            self.choices[user] = PendingChoice(
                message.choice_token, message.choices, message.multiple
            )
            if message.multiple and message.multiple_hint:
                lines.append(f"    ({message.multiple_hint})")
        for attachment in message.files:
            lines.append(f"    📎 {attachment.filename} ({len(attachment.content)} bytes)")
            lines.append(attachment.content.decode("utf-8", "replace"))
        if user and message.form:
            self.forms[user] = message.form
            lines.append(f"    [{message.form.title}]")
        self.sent.append((user or f"#{space.channel_id if space else '?'}", message))
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()

    async def open_space(
        self,
        kind: SpaceKind,
        name: str,
        members: Sequence[PersonRef],
        key: str,
        parent: SpaceRef | None = None,
    ) -> SpaceRef:
        channel = f"{kind.value}-" + "-".join(name.lower().split())
        known = self.spaces.setdefault(channel, set())
        known.update(m.user_id for m in members)
        return SpaceRef(PLATFORM, self.workspace, channel, kind)

    async def profile(self, person: PersonRef) -> Profile:
        """The demo's seeded names (the console has no other profile)."""
        return Profile(display_name=self.names.get(person.user_id))

    def mention(self, user_id: str, name: str) -> str:
        return "@" + self.escape(name)


def create_adapter(config: Config, **options: object) -> ConsoleAdapter:
    return ConsoleAdapter(**options)  # type: ignore[arg-type]
