"""The commands every participant has: help and language (`privacy` is in
flows/everyone/privacy.py)."""

from __future__ import annotations

from bot import CommandSpec, Turn
from bot.i18n import LANGUAGES, Lines, Raw, _l
from bot.replies import Option
from bot.services import people


def help_command(commands: tuple[CommandSpec, ...]):
    def run(turn: Turn, args: tuple[str, ...]) -> None:
        coordinator = people.is_coordinator(turn.session, turn.person_id)
        lines = [
            _l("{name}: {summary}", name=Raw(c.name), summary=c.summary)
            for c in commands
            if c.summary and (coordinator or not c.coordinator_only)
        ]
        turn.say(
            _l(
                "This is what I can do:\n{commands}\n\nOn Slack and Discord, use them "
                "after /maatje, for example '/maatje language en'.",
                commands=Lines(tuple(lines)),
            )
        )

    return run


def language(turn: Turn, args: tuple[str, ...]) -> None:
    choice = args[0].lower() if args else ""
    if choice not in LANGUAGES:
        turn.say(
            _l("Which language would you like me to use?"),
            choices=(Option("nl", "Nederlands"), Option("en", "English")),
            choice_token="c:language",
        )
        return
    turn.person.language = choice
    turn.session.add(turn.person)
    turn.say(_l("From now on I'll speak English with you."))
