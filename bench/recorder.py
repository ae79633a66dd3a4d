"""The simulated programme's platform: an adapter that records what Maatje sends.

It plays platform "console" for the core. Per person it keeps the latest question with `c:`
buttons they were sent (a person answers those the way they find them in their chat), the
coordinator's texts (to act on what Maatje asks of them), how many messages went out in each
phase and which files were attached. Names and languages come from its `profile`, as a
platform's profile lookup would give them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.adapter import Capabilities, Profile
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.replies import Outgoing

PLATFORM = "console"
WORKSPACE = "sim"
COORDINATOR = "coordinator"


@dataclass
class Pending:
    """A question with buttons someone was sent (the latest per button set)."""

    token: str
    values: tuple[str, ...]
    space: SpaceRef | None


class Recorder:
    """The simulation's adapter: records instead of posting."""

    platform = PLATFORM
    capabilities = Capabilities(
        buttons_per_message=99, options_per_select=99, modals=True, max_text_length=100_000
    )

    def __init__(self, profiles: dict[str, Profile]) -> None:
        self.profiles = profiles
        self.buttons: dict[str, dict[str, Pending]] = defaultdict(dict)
        """user id → button token → the question, until they click it."""
        self.coordinator_texts: list[tuple[str, str | None]] = []
        """What the coordinator was sent (text, button token), until they read it."""
        self.count: Counter[str] = Counter()
        """Messages sent per phase."""
        self.files: Counter[str] = Counter()
        """Attachments sent, by file type (pdf, ics)."""
        self.phase = "intake"

    def escape(self, text: str) -> str:
        return text

    def mention(self, user_id: str, name: str) -> str:
        return "@" + name

    async def start(self, core: Any) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(
        self, person: PersonRef | None, space: SpaceRef | None, message: Outgoing, key: str
    ) -> None:
        self.count[self.phase] += 1
        for attachment in message.files:
            self.files[attachment.filename.rsplit(".", 1)[-1]] += 1
        user = person.user_id if person else None
        if user is None:
            return
        token = message.choice_token
        if user == COORDINATOR:
            self.coordinator_texts.append((message.text, token))
        if token and token.startswith("c:") and message.choices:
            values = tuple(o.value for o in message.choices)
            self.buttons[user][token] = Pending(token, values, space)

    async def open_space(
        self,
        kind: SpaceKind,
        name: str,
        members: Sequence[PersonRef],
        key: str,
        parent: SpaceRef | None = None,
    ) -> SpaceRef:
        return SpaceRef(PLATFORM, WORKSPACE, f"{kind.value}-{key}"[:64], kind)

    async def profile(self, person: PersonRef) -> Profile:
        return self.profiles.get(person.user_id, Profile())

    def lookup_turn(self, person: PersonRef) -> float:
        return 0.0
