"""The commands every participant has: help, language, privacy."""

from __future__ import annotations

import json

from bot import CommandSpec, Turn
from bot.i18n import LANGUAGES, Lines, Raw, _l
from bot.replies import Attachment, Option
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


def privacy(turn: Turn, args: tuple[str, ...]) -> None:
    action = args[0].lower() if args else ""
    if action == "export":
        data = people.export(turn.session, turn.person)
        content = json.dumps(data, indent=2, ensure_ascii=False).encode()
        turn.say(
            _l("Here is everything I have stored about you, as a JSON file."),
            files=(Attachment("maatje-my-data.json", content, "application/json"),),
        )
        return
    if action == "erase":
        if len(args) > 1 and args[1] == "confirm":
            language_now = turn.language
            people.erase(turn.session, turn.person_id)
            turn.farewell(
                _l(
                    "Done: I have erased everything I had stored about you. If you "
                    "write to me again, we start afresh."
                ),
                language_now,
            )
            return
        if len(args) > 1 and args[1] == "keep":
            turn.say(_l("Okay, I have kept everything as it is."))
            return
        turn.say(
            _l(
                "Are you sure? This erases your answers, your conversations and your place "
                "in the programme. It cannot be undone."
            ),
            choices=(
                Option("confirm", _l("Yes, erase everything")),
                Option("keep", _l("No, keep it")),
            ),
            choice_token="c:privacy:erase",
        )
        return
    export = people.export(turn.session, turn.person)
    turn.say(
        _l(
            "What I store about you: your chat account ids ({accounts}), your name, time zone "
            "and language, the programmes you take part in ({programmes}), your consent "
            "({consents}), your intake "
            "answers ({answers}) and the state of our conversations ({conversations}). "
            "Coordinators see your intake answers and progress; a mentor or mentee sees only "
            "what is needed for your meetings.\n\nYou can download all of it or erase it.",
            accounts=len(export["accounts"]),
            programmes=len(export["programmes"]),
            consents=len(export["consents"]),
            answers=len(export["intake_answers"]),
            conversations=len(export["conversations"]),
        ),
        choices=(Option("export", _l("Download my data")), Option("erase", _l("Erase my data"))),
        choice_token="c:privacy",
    )
