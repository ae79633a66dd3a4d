"""The follow-up question after an alert: "May a coordinator contact you?", and after a yes,
when something they wrote is held, "May I pass on what you wrote?". The person answers with the
buttons or by typing 'ja' / 'no' in their direct chat; the coordinators are told the answer,
and what they wrote only when the person agrees to share it.
"""

from __future__ import annotations

from datetime import timedelta

from bot import Turn
from bot.domain import Programme, SafeguardingAlert
from bot.engine import Invalid, YesNo
from bot.engine.inputs import ParseContext
from bot.events import SpaceKind
from bot.i18n import _l
from bot.replies import Option
from bot.services import safeguarding as alerts
from flows.safeguarding.crisis import privately
from flows.safeguarding.notices import notify

ANSWER = "concern"
"""The command behind the contact and share buttons: `concern <alert> contact|share yes|no`."""
TYPED_ANSWER_WINDOW = timedelta(days=1)
BACK = _l("Back to where we were:")


def pending(alert: SafeguardingAlert) -> str | None:
    """The question the person has yet to answer: contact, then share (when a text is held)."""
    if alert.closed_at is not None:
        return None
    if alert.contact is None:
        return "contact"
    if alert.contact and alert.share is None and alert.held_text:
        return "share"
    return None


def buttons(alert: SafeguardingAlert, question: str) -> dict:
    """The buttons that answer `question` ("contact" or "share") about the alert."""
    return {
        "choices": (Option("yes", _l("Yes")), Option("no", _l("No"))),
        "choice_token": f"c:{ANSWER}:{alert.id}:{question}",
    }


def answer(turn: Turn, args: tuple[str, ...]) -> None:
    """`concern <alert> contact|share yes|no` (the buttons)."""
    alert = (
        turn.session.get(SafeguardingAlert, int(args[0]))
        if len(args) == 3 and args[0].isdigit()
        else None
    )
    if alert is None or alert.person_id != turn.person_id or args[2] not in ("yes", "no"):
        turn.say(_l("That button no longer works. Send me a message to continue."))
        return
    _answer(turn, alert, args[1], args[2] == "yes")


def _answer(turn: Turn, alert: SafeguardingAlert, question: str, yes: bool) -> None:
    if question != pending(alert):
        turn.say(_l("That question has already been answered."))
        return
    programme = turn.session.get(Programme, alert.programme_id) if alert.programme_id else None
    person = alerts.name_of(turn.session, turn.person_id)
    if question == "contact":
        alert.contact = yes
        if yes:
            notice = _l(
                "Safety net: {person} would like a coordinator to contact them. Please get "
                "in touch soon.",
                person=person,
            )
        else:
            alert.held_text = None
            notice = _l(
                "Safety net: {person} would rather not be contacted now. They have the "
                "crisis line and the referral text.",
                person=person,
            )
        if yes and alert.held_text:
            privately(
                turn,
                _l(
                    "Thank you. I have told the coordinators; one of them will get in touch "
                    "with you. May I pass on what you wrote, so they know what it is about?"
                ),
                buttons(alert, "share"),
            )
        elif yes:
            turn.say(
                _l(
                    "Thank you. I have told the coordinators; one of them will get in touch "
                    "with you."
                )
            )
        else:
            turn.say(
                _l(
                    "Okay, I have told the coordinators that you would rather not be "
                    "contacted now. If you change your mind, type 'hulp' or 'help now'."
                )
            )
    else:
        alert.share = yes
        notice = (
            _l(
                "Safety net: {person} agreed to share what they wrote:\n{text}",
                person=person,
                text=alert.held_text or "",
            )
            if yes
            else None
        )
        alert.held_text = None
        turn.say(
            _l("Thank you, I have passed it on.")
            if yes
            else _l("Okay: I have not passed it on, and I have deleted it.")
        )
    turn.session.add(alert)
    if notice is not None:
        notify(turn, programme, notice)


def typed_answer(turn: Turn, text: str) -> bool:
    """'ja' or 'no' typed in the direct chat right after the contact or share question
    answers it (before the conversation there has moved on). True when it did."""
    if turn.space.kind is not SpaceKind.DIRECT:
        return False
    parse = ParseContext(
        now=turn.now,
        timezone="UTC",
        label_of=lambda label: turn.engine.translator.render(label, turn.language),
    )
    try:
        yes = YesNo().parse_text(text, parse)
    except Invalid:
        return False
    alert = alerts.latest(turn.session, turn.person_id)
    question = pending(alert) if alert is not None else None
    if alert is None or question is None:
        return False
    run = turn.engine.active_run(turn.session, turn.person_id, turn.space)
    if (
        alert.space_kind != SpaceKind.DIRECT
        or turn.now - alert.raised_at > TYPED_ANSWER_WINDOW
        or (alert.run_id, alert.ask_seq) != ((run.id, run.ask_seq) if run else (None, None))
    ):
        return False
    before = len(turn.outbound)
    _answer(turn, alert, question, yes)
    asked = any(m.reply.choices for m in turn.outbound[before:])
    if run is not None and not asked:
        turn.outbound.extend(turn.engine.reask(turn.session, run, turn.now, turn.person_ref, BACK))
    return True
