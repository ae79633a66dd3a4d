"""The console's input loop: you type as one demo person at a time.

Meta commands (console only): `/as NAME` act as someone else, `/who` list the people,
`/in SPACE` type in a group or pair space (`/in dm` back to the direct chat), `/time +3d` move
the clock (+2h, +30m, +1w), `/quit`. Any other `/word args` is a Maatje command, as is
`/maatje word args`. When stdin is not a terminal, each line is echoed with the speaker's name
so a replayed script reads as a transcript.

A number typed answers the options shown last in the place where it is typed (the direct chat
or a space), never a question waiting elsewhere. Messages for other people wait until you act
as them; a line says who has new ones. The clock is shown in the programme's time zone.
"""

from __future__ import annotations

import asyncio
import re
import sys
import uuid
from datetime import timedelta
from typing import TextIO

from adapters.console.adapter import DIRECT, PLATFORM, ConsoleAdapter, PendingChoice
from bot import Core
from bot.events import Choice, Command, Event, FormSubmitted, Message, PersonRef, SpaceRef
from bot.i18n import Text, _l
from bot.replies import OutgoingForm

_DELTA = re.compile(r"^\+(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_NUMBERS = re.compile(r"^\s*\d+(\s*[,; ]\s*\d+)*\s*$")


class Repl:
    def __init__(
        self,
        core: Core,
        adapter: ConsoleAdapter,
        people: dict[str, str],
        acting: str,
        workspace: str = "demo",
        stdin: TextIO | None = None,
        timezone: str = "UTC",
        database: str | None = None,
    ) -> None:
        self.core = core
        self.adapter = adapter
        self.people = people  # user id -> display name
        self.acting = acting
        adapter.acting = acting
        self.workspace = workspace
        self.stdin = stdin or sys.stdin
        self.interactive = self.stdin.isatty()
        self.timezone = timezone
        """The programme's zone: the clock is shown in it."""
        self.database = database
        self._form_values: dict[str, str] = {}
        self._form: OutgoingForm | None = None
        """The form (as shown, once) whose fields `_form_values` holds."""
        self._told: dict[str, int] = {}
        """How many held messages each person had when the console last mentioned them."""
        self.where: dict[str, SpaceRef] = {}
        """The group or pair space each person is typing in (absent: their direct chat)."""

    @property
    def ref(self) -> PersonRef:
        return PersonRef(PLATFORM, self.workspace, self.acting)

    @property
    def space(self) -> SpaceRef:
        return self.where.get(self.acting) or SpaceRef(
            PLATFORM, self.workspace, f"dm-{self.acting}"
        )

    @property
    def place(self) -> str:
        where = self.where.get(self.acting)
        return where.channel_id if where else DIRECT

    @property
    def pending(self) -> PendingChoice | OutgoingForm | None:
        """The options or the form shown last where you are typing."""
        return self.adapter.pending.get((self.acting, self.place))

    @property
    def prompt(self) -> str:
        where = self.where.get(self.acting)
        return self.people[self.acting] + (f" #{where.channel_id}" if where else "") + "> "

    def say(self, text: str) -> None:
        self.adapter.out.write(text + "\n")
        self.adapter.out.flush()

    def note(self, text: Text) -> None:
        """A line of the console itself, in the language of the person you are acting as and
        the programme's time zone."""
        language = self.core.language_of(self.ref)
        self.say(self.core.translator.render(text, language, self.timezone, self.adapter.escape))

    async def run(self) -> None:
        self.note(
            _l(
                "— Maatje demo. You are {name}. /who lists people, /as NAME switches, "
                "/in SPACE enters a group or pair space (/in dm leaves), /time +1d moves "
                "the clock, /quit ends. —",
                name=self.people[self.acting],
            )
        )
        if self.database and self.adapter.files_dir:
            self.note(
                _l(
                    "— The demo keeps its data in {database} and saves files to {folder}; "
                    "delete both to start afresh. —",
                    database=self.database,
                    folder=str(self.adapter.files_dir),
                )
            )
        await self._settle(self.core.resume(self.ref, self.space))
        loop = asyncio.get_running_loop()
        while True:
            if self.interactive:
                self.adapter.out.write(self.prompt)
                self.adapter.out.flush()
            line = await loop.run_in_executor(None, self.stdin.readline)
            if not line:
                return
            line = line.rstrip("\n")
            if not self.interactive:
                self.say(f"{self.prompt}{line}")
            if not await self.handle_line(line):
                return

    async def handle_line(self, line: str) -> bool:
        """Process one line; False means quit."""
        stripped = line.strip()
        if stripped.startswith("/"):
            word, _, rest = stripped[1:].partition(" ")
            word = word.lower()
            if word in ("quit", "exit"):
                return False
            if word == "who":
                self._who()
                return True
            if word == "as":
                await self._act_as(rest.strip())
                return True
            if word == "time":
                await self._move_clock(rest.strip())
                return True
            if word == "in":
                await self._enter(rest.strip())
                return True
            if word == "maatje":
                word, _, rest = rest.strip().partition(" ")
            if word:
                await self._send(Command(name=word, args=tuple(rest.split()), **self._common()))
                return True
        pending = self.pending
        if isinstance(pending, OutgoingForm):
            await self._form_field(pending, line)
            return True
        if pending and _NUMBERS.match(line):
            numbers = [int(n) for n in re.split(r"[,; ]+", line.strip())]
            if all(1 <= n <= len(pending.options) for n in numbers):
                values = tuple(pending.options[n - 1].value for n in numbers)
                if pending.multiple or len(values) == 1:
                    self.adapter.pending.pop((self.acting, self.place), None)
                    await self._send(Choice(token=pending.token, values=values, **self._common()))
                    return True
        await self._send(Message(text=line, **self._common()))
        return True

    def _common(self) -> dict:
        return {
            "person": self.ref,
            "space": self.space,
            "event_id": uuid.uuid4().hex,
            "display_name": self.people[self.acting],
        }

    async def _send(self, event: Event) -> None:
        await self.core.handle(event)
        await self._settle(None)

    async def _settle(self, awaitable) -> None:
        if awaitable is not None:
            await awaitable
        await self.core.drain()
        await self.core.dispatcher.run_due()
        pending = self.pending
        if isinstance(pending, OutgoingForm) and pending is not self._form:
            self._form, self._form_values = pending, {}  # shown (again): start at its top
            self._ask_field(pending)
        self._mention_waiting()

    def _mention_waiting(self) -> None:
        """One line naming who has new messages waiting (shown when you act as them)."""
        counts = {user: len(blocks) for user, blocks in self.adapter.held.items() if blocks}
        new = [u for u, n in counts.items() if n > self._told.get(u, 0)]
        self._told = counts
        if not new:
            return
        waiting = [_l("{name} ({count})", name=self.people.get(u, u), count=counts[u]) for u in new]
        self.note(_l("    (new messages for {people}; /as NAME shows them)", people=waiting))

    def _ask_field(self, form) -> None:
        for field in form.fields:
            if field.name not in self._form_values:
                self.say(f"    {field.label}:")
                return

    async def _form_field(self, form: OutgoingForm, line: str) -> None:
        if form is not self._form:
            self._form, self._form_values = form, {}
        missing = [f for f in form.fields if f.name not in self._form_values]
        self._form_values[missing[0].name] = line
        if len(missing) > 1:
            self._ask_field(form)
            return
        values, self._form_values = self._form_values, {}
        key = (self.acting, self.place)
        self.adapter.pending.pop(key, None)
        outcome = await self.core.handle(
            FormSubmitted(form_id=form.form_id, values=values, **self._common())
        )
        if outcome.form_errors:
            self.adapter.pending.setdefault(key, form)
            self._form_values = {k: v for k, v in values.items() if k not in outcome.form_errors}
            for name, error in outcome.form_errors.items():
                label = next((f.label for f in form.fields if f.name == name), name)
                self.say(f"    ! {label}: {error}")
            self._ask_field(form)
        await self._settle(None)

    def _who(self) -> None:
        for user_id, name in self.people.items():
            marker = "*" if user_id == self.acting else " "
            self.say(f" {marker} {name} (/as {user_id})")

    async def _act_as(self, name: str) -> None:
        key = next(
            (uid for uid, n in self.people.items() if name.lower() in (uid, n.lower())), None
        )
        if key is None:
            self.note(_l("    ? no one called '{name}'; /who lists people", name=name))
            return
        self.acting = self.adapter.acting = key
        self._form, self._form_values = None, {}
        self.note(_l("— You are now {name}. —", name=self.people[key]))
        waiting = self.adapter.release(key)
        self._told.pop(key, None)
        for block in waiting:
            self.say(block)
        # the question waiting here was among those messages; otherwise ask it again
        await self._settle(None if waiting else self.core.resume(self.ref, self.space))

    async def _enter(self, name: str) -> None:
        spaces = self.core.spaces_of(self.ref)
        if name in ("", "dm"):
            self.where.pop(self.acting, None)
        else:
            found = next((s for s in spaces if name.lower() in s.channel_id), None)
            if found is None:
                listed = ", ".join(s.channel_id for s in spaces) or "-"
                self.note(
                    _l(
                        "    ? no space '{name}'; yours: {listed} (or /in dm)",
                        name=name,
                        listed=listed,
                    )
                )
                return
            self.where[self.acting] = found
        self._form, self._form_values = None, {}
        self.say(f"— {self.prompt.rstrip('> ')} —")
        await self._settle(self.core.resume(self.ref, self.space))

    async def _move_clock(self, spec: str) -> None:
        match = _DELTA.match(spec)
        if not match or not hasattr(self.core.clock, "advance"):
            self.note(_l("    ? use /time +30m, +2h, +3d or +1w"))
            return
        delta = timedelta(**{_UNITS[match[2]]: int(match[1])})
        self.core.clock.advance(delta)
        self.note(
            _l(
                "— The clock is now {moment} ({zone}). —",
                moment=self.core.clock.now(),
                zone=self.timezone,
            )
        )
        await self._settle(None)
