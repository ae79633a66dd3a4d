"""Renders outgoing messages as text: options numbered, forms asked one field at a time.

The adapter remembers, per person and per place they can type in (their direct chat or a
group or pair space), the latest question with options or the open form it showed there, so
that the REPL can turn "2" typed in that place into a button press, or collect a form's fields.
The latest of the two wins: a command's options shown while a form is open are answered first.

Files are not printed: with a `files_dir` each attachment is saved there, in a folder per
reader, and the line names the file. Messages for someone other than the person being acted as
(`acting`) are held until you act as them (`release`); with no `acting`, everything is shown.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.adapter import Capabilities, Profile
from bot.config import Config
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.replies import Attachment, Outgoing, OutgoingForm, OutgoingOption

PLATFORM = "console"
DIRECT = "dm"
"""The place name of a person's direct chat."""
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x1b]")
_UNSAFE_NAME = re.compile(r"[^\w.-]+")


@dataclass
class PendingChoice:
    token: str
    options: tuple[OutgoingOption, ...]
    multiple: bool


Pending = PendingChoice | OutgoingForm


def place_of(space: SpaceRef | None) -> str:
    """Where a message is read and answered: the direct chat, or a space's channel id."""
    if space is None or space.kind is SpaceKind.DIRECT:
        return DIRECT
    return space.channel_id


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
        files_dir: Path | None = None,
    ) -> None:
        self.workspace = workspace
        self.out = out or sys.stdout
        self.names = names or {}
        self.files_dir = files_dir
        self.pending: dict[tuple[str, str], Pending] = {}
        """(user id, place) → the latest question with options, or the open form, there."""
        self.sent: list[tuple[str, Outgoing]] = []
        self.spaces: dict[str, set[str]] = {}
        """Pair and group spaces: channel id → member user ids."""
        self.acting: str | None = None
        self.held: dict[str, list[str]] = {}
        """User id → rendered messages waiting until you act as them."""

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
        place = place_of(space)
        if place == DIRECT:
            header = f"[Maatje → {self.names.get(user or '', user)}]"
        else:
            header = f"[Maatje in #{place}" + (f" → {self.names.get(user, user)}]" if user else "]")
        lines = [f"{header} {message.text}"]
        for index, option in enumerate(message.choices, start=1):
            lines.append(f"    {index}) {option.label}")
        if user and message.choices and message.choice_token:
            self.pending[(user, place)] = PendingChoice(
                message.choice_token, message.choices, message.multiple
            )
            if message.multiple and message.multiple_hint:
                lines.append(f"    ({message.multiple_hint})")
        for attachment in message.files:
            lines.append(self._file_line(attachment, user or place))
        if user and message.form:
            self.pending[(user, place)] = message.form
            lines.append(f"    [{message.form.title}]")
        self.sent.append((user or f"#{place}", message))
        self._show("\n".join(lines), [user] if user else sorted(self.spaces.get(place, ())))

    def _show(self, block: str, readers: Sequence[str]) -> None:
        """Write the message now, or hold it for its readers until you act as one of them."""
        if self.acting is None or not readers or self.acting in readers:
            self.out.write(block + "\n")
            self.out.flush()
            return
        for reader in readers:
            self.held.setdefault(reader, []).append(block)

    def release(self, user: str) -> list[str]:
        """The messages held for `user`, oldest first (and no longer held)."""
        return self.held.pop(user, [])

    def _file_line(self, attachment: Attachment, owner: str) -> str:
        size = len(attachment.content)
        if self.files_dir is None:
            return f"    📎 {attachment.filename} ({size} bytes)"
        return f"    📎 {attachment.filename} ({size} bytes): {self.save(attachment, owner)}"

    def save(self, attachment: Attachment, owner: str) -> Path:
        """Write the file to `files_dir/<owner>/`; a different file with the same name gets a
        numbered name beside it, so nothing shown earlier is overwritten."""
        assert self.files_dir is not None
        folder = self.files_dir / (_UNSAFE_NAME.sub("-", owner).strip("-.") or "files")
        folder.mkdir(parents=True, exist_ok=True)
        name = _UNSAFE_NAME.sub("-", Path(attachment.filename).name).strip("-.") or "file"
        stem, suffix = Path(name).stem, Path(name).suffix
        path, number = folder / name, 1
        while path.exists() and path.read_bytes() != attachment.content:
            number += 1
            path = folder / f"{stem}-{number}{suffix}"
        path.write_bytes(attachment.content)
        return path

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

    def lookup_turn(self, person: PersonRef) -> float:
        return 0.0

    def mention(self, user_id: str, name: str) -> str:
        return "@" + self.escape(name)


def create_adapter(config: Config, **options: object) -> ConsoleAdapter:
    return ConsoleAdapter(**options)  # type: ignore[arg-type]
