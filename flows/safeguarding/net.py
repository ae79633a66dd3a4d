"""The safety net: every free text a person sends passes here first (the core calls it before
any command or conversation sees the text).

When what someone wrote matches the phrase lists, or they ask for help now ('hulp', 'help now'),
they get the crisis line and the referral text at once, in their direct chat, and are asked
whether a coordinator may contact them; the coordinators get a private message naming them and
where it happened — not what they wrote, unless they agree. The conversation they were in goes
on afterwards. Maatje never counsels: it refers to people. The protocol, and the choices
behind it, are in docs/safeguarding.md.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import Session, col, select

from bot import Turn
from bot.behaviour import CommandHandler
from bot.domain import (
    AlertReason,
    Membership,
    Programme,
    Role,
    SafeguardingAlert,
)
from bot.domain.polls import Poll
from bot.engine import Invalid, YesNo
from bot.engine.inputs import ParseContext
from bot.engine.runs import Run
from bot.events import Command, Message, SpaceKind
from bot.i18n import Lines, Text, _l
from bot.replies import Option, Reply
from bot.services import people, programmes
from bot.services import polls as poll_store
from bot.services import safeguarding as alerts
from flows.safeguarding.phrases import PhraseList, words

log = logging.getLogger(__name__)

ANSWER = "concern"
"""The command behind the contact and share buttons: `concern <alert> contact|share yes|no`."""
REQUESTS = {"hulp", "hulpnu", "helpnow", "helpmenow", "nuhulp"}
"""A message that is only one of these (as normalised words, joined) asks for help now."""
REPEAT_WINDOW = timedelta(hours=1)
"""More worrying words this soon after an open alert add to it instead of alerting again."""
TYPED_ANSWER_WINDOW = timedelta(days=1)
BACK = _l("Back to where we were:")
WHERE = {
    SpaceKind.DIRECT: _l("in their direct chat with me"),
    SpaceKind.PAIR: _l("in their pair space"),
    SpaceKind.GROUP: _l("in a group space"),
    SpaceKind.COORDINATORS: _l("in a group space"),
}


def is_request(text: str) -> bool:
    return "".join(words(text)) in REQUESTS


def anonymous(session: Session, run: Run | None) -> bool:
    """Is this run answering an anonymous poll? Then nothing may link the person to it."""
    poll_id = poll_store.poll_of_subject(run.subject) if run else None
    poll = session.get(Poll, poll_id) if poll_id else None
    return bool(poll and poll.anonymous)


class SafetyNet:
    def __init__(self, phrases: PhraseList) -> None:
        self.phrases = phrases

    @classmethod
    def load(cls) -> SafetyNet:
        return cls(PhraseList.load())

    # -- the core's hook -------------------------------------------------------------------

    def __call__(self, turn: Turn, texts: tuple[str, ...]) -> bool:
        """True when the net took the event: the core then does nothing else with it."""
        event = turn.event
        if isinstance(event, Message) and is_request(event.text):
            self.request(turn)
            return True
        if isinstance(event, Message) and self._typed_answer(turn, event.text):
            return True
        if not any(self.phrases.find(text) for text in texts) or self._staff(turn):
            return False
        run = turn.engine.active_run(turn.session, turn.person_id, turn.space)
        if anonymous(turn.session, run):
            self._tell_anonymously(turn)
            return False  # the answer goes into the poll, unlinked and unflagged
        previous = alerts.latest(turn.session, turn.person_id)
        if (
            run is not None
            and previous is not None
            and (previous.run_id, previous.ask_seq) == (run.id, run.ask_seq)
        ):
            return False  # said again at the same question: it is their answer
        self._raise(turn, AlertReason.WORDS, run, "\n".join(t for t in texts if t.strip()))
        return True

    def request(self, turn: Turn) -> None:
        """`hulp`, `help now`: the same as a hit, on request."""
        run = turn.engine.active_run(turn.session, turn.person_id, turn.space)
        self._raise(turn, AlertReason.REQUEST, run, None)

    def hulp(self, turn: Turn, args: tuple[str, ...]) -> None:
        self.request(turn)

    def help_now(self, listing: CommandHandler) -> CommandHandler:
        """`help` lists the commands; `help now` (or `help nu`) asks for help now."""

        def run(turn: Turn, args: tuple[str, ...]) -> None:
            if args and args[0].lower() in ("now", "nu"):
                self.request(turn)
            else:
                listing(turn, args)

        return run

    # -- raising an alert ------------------------------------------------------------------

    def _raise(self, turn: Turn, reason: AlertReason, run: Run | None, text: str | None) -> None:
        session = turn.session
        hidden = anonymous(session, run)
        programme = _programme(turn, run)
        previous = alerts.latest(session, turn.person_id)
        if (
            reason is AlertReason.WORDS
            and previous is not None
            and previous.closed_at is None
            and turn.now - previous.raised_at < REPEAT_WINDOW
        ):
            previous.run_id, previous.ask_seq = (run.id, run.ask_seq) if run else (None, None)
            alerts.hold_more(previous, text or "")
            session.add(previous)
            self._tell_person(
                turn,
                previous,
                programme,
                _l(
                    "I'm a bot and can't help with this myself. Please talk to a person "
                    "now:\n{lines}",
                    lines=_help_lines(programme),
                ),
            )
            self._reask_in_shared_space(turn, run)
            return
        flow = turn.engine.flows.get(run.flow) if run is not None and not hidden else None
        alert = alerts.raise_alert(
            session,
            turn.person_id,
            programme.id if programme else None,
            reason,
            turn.now,
            turn.space.kind.value,
            flow.name if flow else None,
            (run.id or 0, run.ask_seq) if run is not None and not hidden else None,
            text,
        )
        told = self._tell_coordinators(turn, alert, programme, flow.title if flow else None)
        log.info("safeguarding: alert %s raised (%s), %d coordinators told", alert.id, reason, told)
        self._tell_person(turn, alert, programme, _opening(reason, programme, told))
        self._reask_in_shared_space(turn, run)

    def _tell_coordinators(
        self,
        turn: Turn,
        alert: SafeguardingAlert,
        programme: Programme | None,
        conversation: Text | None,
    ) -> int:
        if programme is None or programme.id is None:
            log.warning("safeguarding: alert %s has no programme and no coordinator", alert.id)
            return 0
        where = WHERE[turn.space.kind]
        if conversation is not None:
            where = _l("{space}, during “{conversation}”", space=where, conversation=conversation)
        params = {
            "person": alerts.name_of(turn.session, turn.person_id),
            "where": where,
            "programme": programme.name,
        }
        if alert.reason == AlertReason.REQUEST:
            text = _l(
                "Safety net: {person} asked for help now ('hulp' / 'help now'), {where} "
                "({programme}). They were shown the crisis line and the referral text and "
                "asked whether a coordinator may contact them; I will tell you their answer. "
                "'safeguarding' lists everyone to follow up.",
                **params,
            )
        else:
            text = _l(
                "Safety net: {person} may be in danger: something they wrote {where} "
                "({programme}) matched the safety net's phrases. They were shown the crisis "
                "line and the referral text and asked whether a coordinator may contact them; "
                "I will tell you their answer. What they wrote stays private unless they agree "
                "to share it. 'safeguarding' lists everyone to follow up.",
                **params,
            )
        coordinators = [
            c for c in people.coordinators_of(turn.session, programme.id) if c != turn.person_id
        ]
        for coordinator in coordinators:
            turn.tell(coordinator, Reply(text))
        if not coordinators:
            log.warning(
                "safeguarding: no coordinator of %s to tell about alert %s",
                programme.slug,
                alert.id,
            )
        return len(coordinators)

    def _tell_person(
        self, turn: Turn, alert: SafeguardingAlert, programme: Programme | None, body: Text
    ) -> None:
        if alert.contact is None and _told(turn, programme):
            _privately(turn, body, _question(alert, "contact"))
        else:
            _privately(turn, body)

    def _tell_anonymously(self, turn: Turn) -> None:
        programme = _programme(turn, None)
        _privately(
            turn,
            _l(
                "What you wrote sounds serious. You deserve help from a person, right now; I'm "
                "a bot and can't give it.\n{lines}\n\nThis poll is anonymous, so I have not told "
                "anyone. If you would like a coordinator to contact you, type 'hulp' or 'help "
                "now'.",
                lines=_help_lines(programme),
            ),
        )

    def _reask_in_shared_space(self, turn: Turn, run: Run | None) -> None:
        """In a pair or group space the question stays where it was: ask it again there (the
        buttons about contact went to the person's direct chat)."""
        if run is not None and turn.space.kind is not SpaceKind.DIRECT:
            turn.outbound.extend(turn.engine.reask(turn.session, run, turn.now, turn.person_ref))

    # -- the person's answers --------------------------------------------------------------

    def answer(self, turn: Turn, args: tuple[str, ...]) -> None:
        """`concern <alert> contact|share yes|no` (the buttons)."""
        alert = (
            turn.session.get(SafeguardingAlert, int(args[0]))
            if len(args) == 3 and args[0].isdigit()
            else None
        )
        if alert is None or alert.person_id != turn.person_id or args[2] not in ("yes", "no"):
            turn.say(_l("That button no longer works. Send me a message to continue."))
            return
        self._answer(turn, alert, args[1], args[2] == "yes")

    def _answer(self, turn: Turn, alert: SafeguardingAlert, question: str, yes: bool) -> None:
        if question != _pending(alert):
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
                _privately(
                    turn,
                    _l(
                        "Thank you. I have told the coordinators; one of them will get in touch "
                        "with you. May I pass on what you wrote, so they know what it is about?"
                    ),
                    _question(alert, "share"),
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
        if notice is not None and programme is not None and programme.id is not None:
            for coordinator in people.coordinators_of(turn.session, programme.id):
                if coordinator != turn.person_id:
                    turn.tell(coordinator, Reply(notice))

    def _typed_answer(self, turn: Turn, text: str) -> bool:
        """'ja' or 'no' typed in the direct chat right after the contact or share question
        answers it (before the conversation there has moved on)."""
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
        question = _pending(alert) if alert is not None else None
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
        self._answer(turn, alert, question, yes)
        asked = any(m.reply.choices for m in turn.outbound[before:])
        if run is not None and not asked:
            turn.outbound.extend(
                turn.engine.reask(turn.session, run, turn.now, turn.person_ref, BACK)
            )
        return True

    @staticmethod
    def _staff(turn: Turn) -> bool:
        """Coordinators talk about cases; their words raise no alert (they can ask for help
        now like anyone)."""
        rows = people.memberships(turn.session, turn.person_id)
        return bool(rows) and all(m.role == Role.COORDINATOR for m, _ in rows)


# -- helpers ---------------------------------------------------------------------------------


def _programme(turn: Turn, run: Run | None) -> Programme | None:
    """The programme whose coordinators and help lines apply: the conversation's, else the
    one the person takes part in, else the one they coordinate, else the first open one."""
    session = turn.session
    if run is not None and run.programme_id:
        return session.get(Programme, run.programme_id)
    joined = session.exec(
        select(Programme)
        .join(Membership, col(Membership.programme_id) == Programme.id)
        .where(Membership.person_id == turn.person_id, Membership.role != Role.COORDINATOR)
        .order_by(col(Membership.id).desc())
    ).first()
    if joined is not None:
        return joined
    coordinated = people.latest_coordinated(session, turn.person_id)
    if coordinated is not None:
        return coordinated
    open_now = programmes.open_programmes(session, turn.now.date())
    return open_now[0] if open_now else None


def _help_lines(programme: Programme | None) -> Lines:
    crisis = (programme.settings.get("crisis_line") if programme else None) or _l(
        "In an emergency, call 112."
    )
    referral = programme.referral if programme else ""
    return Lines(tuple(line for line in (crisis, referral) if line))


def _told(turn: Turn, programme: Programme | None) -> bool:
    if programme is None or programme.id is None:
        return False
    return any(c != turn.person_id for c in people.coordinators_of(turn.session, programme.id))


def _opening(reason: AlertReason, programme: Programme | None, told: int) -> Text:
    lines = _help_lines(programme)
    if not told:
        after = _l("I could not reach a coordinator right now, so please use the numbers above.")
    elif reason is AlertReason.REQUEST:
        after = _l(
            "I have let the coordinators of {programme} know that you asked for help. May a "
            "coordinator contact you?",
            programme=programme.name if programme else "",
        )
    else:
        after = _l(
            "I have let the coordinators of {programme} know that you may need help — not what "
            "you wrote. May a coordinator contact you?",
            programme=programme.name if programme else "",
        )
    if reason is AlertReason.REQUEST:
        return _l(
            "You asked for help now. You deserve help from a person, right away:\n{lines}\n\n"
            "{after}",
            lines=lines,
            after=after,
        )
    return _l(
        "What you wrote sounds serious. You deserve help from a person, right now; I'm a bot "
        "and can't give it.\n{lines}\n\n{after}",
        lines=lines,
        after=after,
    )


def _pending(alert: SafeguardingAlert) -> str | None:
    """The question the person has yet to answer: contact, then share (when a text is held)."""
    if alert.closed_at is not None:
        return None
    if alert.contact is None:
        return "contact"
    if alert.contact and alert.share is None and alert.held_text:
        return "share"
    return None


def _question(alert: SafeguardingAlert, question: str) -> dict:
    return {
        "choices": (Option("yes", _l("Yes")), Option("no", _l("No"))),
        "choice_token": f"c:{ANSWER}:{alert.id}:{question}",
    }


def _privately(turn: Turn, text: Text, buttons: dict | None = None) -> None:
    """To the person's direct chat, wherever they wrote (never into a shared space)."""
    if turn.space.kind is SpaceKind.DIRECT:
        turn.say(text, **(buttons or {}))
        return
    turn.tell(turn.person_id, Reply(text, **(buttons or {})))
    if isinstance(turn.event, Command):  # a slash command in a channel: a word only they see
        turn.private = True
        turn.say(_l("I have sent you a direct message."))
