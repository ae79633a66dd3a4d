"""`privacy`: what Maatje stores about you, a download of all of it, and erasing it.

Erasing (here, or an hour after someone said no to consent) deletes the person and every trace
of them (bot/services/privacy.py). A pair they were in ends with them: the other side is told,
politely and without the name, that their match has ended and what was still open in the pair
space has stopped; the coordinators are told whom to match again. docs/privacy.md has the rest.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session

from bot import Turn
from bot.domain import OutboxItem, Programme, Role
from bot.engine import Outbound
from bot.i18n import _l
from bot.replies import Attachment, Option, Reply
from bot.services import people, privacy
from bot.services.privacy import EndedPair
from flows.joining.intake import FORGET_KIND


def command(turn: Turn, args: tuple[str, ...]) -> None:
    action = args[0].lower() if args else ""
    if action == "export":
        data = privacy.export(turn.session, turn.person)
        content = json.dumps(data, indent=2, ensure_ascii=False).encode()
        turn.say(
            _l("Here is everything I have stored about you, as a JSON file."),
            files=(Attachment("maatje-my-data.json", content, "application/json"),),
        )
        return
    if action == "erase":
        _erase(turn, args[1:])
        return
    data = privacy.export(turn.session, turn.person)
    turn.say(
        _l(
            "What I store about you: your chat account ids ({accounts}), your name, time zone "
            "and language, the programmes you take part in ({programmes}), your consent "
            "({consents}), your intake "
            "answers ({answers}), the state of our conversations ({conversations}) and, once "
            "you are matched, your pair ({pairs}): your part of the kennismakingsgids, your "
            "answers to the private questions about the match, meetings, goals ({goals}) and "
            "check-ins ({checkins}).\n\n"
            "Coordinators see your intake answers, your progress and the answers to the "
            "private questions about your match; a mentor or mentee sees only what is needed "
            "for your meetings.\n\nYou can download all of it or erase it.",
            accounts=len(data["accounts"]),
            programmes=len(data["programmes"]),
            consents=len(data["consents"]),
            answers=len(data["intake_answers"]),
            conversations=len(data["conversations"]),
            pairs=len(data["pairs"]),
            goals=len(data["goals"]),
            checkins=len(data["check_ins"]),
        ),
        choices=(Option("export", _l("Download my data")), Option("erase", _l("Erase my data"))),
        choice_token="c:privacy",
    )


def _erase(turn: Turn, args: tuple[str, ...]) -> None:
    if args and args[0] == "confirm":
        language_now = turn.language
        ended = privacy.erase(turn.session, turn.person_id, turn.now)
        turn.outbound.extend(endings(turn.session, ended))
        turn.farewell(
            _l(
                "Done: I have erased everything I had stored about you. If you "
                "write to me again, we start afresh."
            ),
            language_now,
        )
        return
    if args and args[0] == "keep":
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


def forget(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
    """Erase someone who said no to consent, unless they said yes since."""
    person_id = item.payload["person"]
    if people.has_consented(session, person_id):
        return []
    return endings(session, privacy.erase(session, person_id, now))


JOBS = {FORGET_KIND: forget}


def endings(session: Session, ended: list[EndedPair]) -> list[Outbound]:
    """Tell the other side of each ended pair, and the coordinators, without the erased name."""
    messages = []
    for pair in ended:
        programme = session.get(Programme, pair.programme_id)
        name = programme.name if programme else ""
        messages.append(
            Outbound(
                pair.partner_id,
                Reply(
                    _l(
                        "Your match in {programme} has ended: the other person has left the "
                        "programme. What was still open in your pair space has stopped, so I "
                        "won't remind you of it. The coordinators know and will be in touch "
                        "about what comes next.",
                        programme=name,
                    )
                ),
            )
        )
        partner = people.name(session, pair.partner_id)
        notice = (
            _l(
                "Someone in {programme} has left and had their data erased. Their match with "
                "{name} (mentee) has ended: {name} can be matched again with 'match'.",
                programme=name,
                name=partner,
            )
            if pair.partner_role == Role.MENTEE
            else _l(
                "Someone in {programme} has left and had their data erased. Their match with "
                "{name} (mentor) has ended: {name} has room for another mentee.",
                programme=name,
                name=partner,
            )
        )
        messages.extend(
            Outbound(c, Reply(notice)) for c in people.coordinators_of(session, pair.programme_id)
        )
    return messages
