"""Routing an event within its turn: to a command, to the answer of a question (a click or a
form) or of a conversation (typed text), or to the greeting when no conversation is going.

The core (`bot.core`) opens the turn's transaction and writes what the route said; this module
decides only where the event goes and what is said for a click or form that no longer fits.
"""

from __future__ import annotations

from bot.behaviour import Behaviour, CommandSpec, Turn
from bot.domain import Person, RunStatus
from bot.engine import Engine, lookups, parse_token
from bot.engine.runs import Run
from bot.events import Choice, Command, Event, FormSubmitted, Message, SpaceKind, free_text
from bot.i18n import Text, _l
from bot.services import accounts, people


def run_along(event: Event) -> accounts.Along | None:
    """The run the event will look up, read with the person (`bot.engine.lookups`): a
    question's button or form's (by its token); for a message, a command or a command's
    button, the person's active run in the event's space (asked again after a command)."""
    match event:
        case Choice() if not event.token.startswith("c:"):
            parsed = parse_token(event.token)
        case FormSubmitted():
            parsed = parse_token(event.form_id)
        case _:
            return lookups.active_along(event.space)
    return lookups.run_along(parsed[0]) if parsed else None


class Router:
    """Runs an event in its turn: the programme's commands and greeting (`Behaviour`), the
    engine's conversations."""

    def __init__(self, behaviour: Behaviour, engine: Engine) -> None:
        self.behaviour = behaviour
        self.engine = engine
        self.commands = {c.name: c for c in behaviour.commands}

    def route(self, turn: Turn, event: Event) -> tuple[dict[str, Text] | None, bool]:
        """Run the event; returns a form's errors and whether a click was declined. Typed
        text first passes the safety net (`Behaviour.safety_net`), which may take the turn."""
        net = self.behaviour.safety_net
        if net is not None and net(turn, free_text(event)):
            return None, False
        match event:
            case Command():
                self._command(turn, event.name, event.args)
            case Choice():
                return None, self._choice(turn, event)
            case FormSubmitted():
                return self._form(turn, event)
            case Message():
                run = self.engine.active_run(turn.session, turn.person_id, turn.space)
                if run is None:
                    turn.none_active = True
                    self.behaviour.greet(turn)
                else:
                    turn.outbound.extend(
                        self.engine.answer_text(
                            turn.session, run, event.text, turn.now, turn.person_ref
                        )
                    )
        return None, False

    def _command(self, turn: Turn, name: str, args: tuple[str, ...]) -> None:
        turn.private = True
        spec: CommandSpec | None = self.commands.get(name.lower())
        if spec is None:
            turn.say(
                _l(
                    "I don't know the command '{name}'. Type 'help' to see what I can do.",
                    name=name[:40],
                )
            )
            return
        if spec.coordinator_only and not people.is_coordinator(turn.session, turn.person_id):
            turn.say(_l("Sorry, only the programme's coordinators can use '{name}'.", name=name))
            return
        before = len(turn.outbound)
        spec.run(turn, args)
        turn.private = False
        if not spec.keeps_conversation or turn.space.kind is not SpaceKind.DIRECT:
            return
        if any(m.reply.choices or m.reply.form for m in turn.outbound[before:]):
            return  # the command asks something itself
        run = self.engine.active_run(turn.session, turn.person_id, turn.space)
        if run is not None:
            turn.outbound.extend(
                self.engine.reask(
                    turn.session, run, turn.now, turn.person_ref, _l("Back to where we were:")
                )
            )

    def _choice(self, turn: Turn, event: Choice) -> bool:
        """Take a click; True when it was declined (another member's question)."""
        if event.token.startswith("c:"):
            name, *args = event.token[2:].split(":")
            self._command(turn, name, (*args, *event.values))
            return False
        parsed = parse_token(event.token)
        run = self.engine.find_run(turn.session, parsed[0]) if parsed else None
        if run is not None and _someone_elses(turn, run):
            return True
        if parsed is None or run is None or run.person_id != turn.person_id:
            turn.say(_l("That button no longer works. Send me a message to continue."))
            return False
        if run.status != RunStatus.ACTIVE:
            turn.say(_l("That question has already been answered."))
            return False
        turn.outbound.extend(
            self.engine.answer_choice(
                turn.session, run, parsed[1], event.values, turn.now, turn.person_ref
            )
        )
        return False

    def _form(self, turn: Turn, event: FormSubmitted) -> tuple[dict[str, Text] | None, bool]:
        parsed = parse_token(event.form_id)
        run = self.engine.find_run(turn.session, parsed[0]) if parsed else None
        if run is not None and _someone_elses(turn, run):
            return None, True
        if parsed is None or run is None or run.person_id != turn.person_id:
            turn.say(_l("That form no longer works. Send me a message to continue."))
            return None, False
        messages, errors = self.engine.answer_form(
            turn.session, run, parsed[1], dict(event.values), turn.now, turn.person_ref
        )
        turn.outbound.extend(messages)
        return errors, False


def _someone_elses(turn: Turn, run: Run) -> bool:
    """A button or form of another member's question, clicked in the shared space where
    it was asked: say whose it is, to the one who clicked only (True). Anywhere else the
    question's owner is not named (False)."""
    if (
        run.person_id == turn.person_id
        or run.space_kind == SpaceKind.DIRECT.value
        or (run.space_platform, run.space_channel) != (turn.space.platform, turn.space.channel_id)
    ):
        return False
    owner = turn.session.get(Person, run.person_id)
    name = (owner.display_name if owner else None) or "?"
    turn.private = True
    if run.status == RunStatus.ACTIVE:
        turn.say(_l("This one is for {name}: only they can answer it.", name=name))
    else:
        turn.say(_l("That question was for {name}, and it has been answered.", name=name))
    turn.private = False
    return True
