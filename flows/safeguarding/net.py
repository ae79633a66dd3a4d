"""The safety net: every free text a person sends passes here first (the core calls it before
any command or conversation sees the text).

When what someone wrote matches the phrase lists, or they ask for help now ('hulp', 'help now'),
they get the crisis line and the referral text at once, in their direct chat (`crisis.py`), and
are asked whether a coordinator may contact them (`answers.py`); the coordinators are told
(`notices.py`). The conversation they were in goes on afterwards. The protocol, and the choices
behind it, are in docs/safeguarding.md.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import Session

from bot import Turn
from bot.behaviour import CommandHandler
from bot.domain import AlertReason, Programme, Role, SafeguardingAlert
from bot.domain.polls import Poll
from bot.engine.runs import Run
from bot.events import Message
from bot.i18n import Text, _l
from bot.services import people
from bot.services import polls as poll_store
from bot.services import safeguarding as alerts
from flows.safeguarding import answers, crisis
from flows.safeguarding.notices import coordinators_besides, tell_coordinators
from flows.safeguarding.phrases import PhraseList, words

log = logging.getLogger(__name__)

REQUESTS = {"hulp", "hulpnu", "helpnow", "helpmenow", "nuhulp"}
"""A message that is only one of these (as normalised words, joined) asks for help now."""
REPEAT_WINDOW = timedelta(hours=1)
"""More worrying words this soon after an open alert add to it instead of alerting again."""


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
        if isinstance(event, Message) and answers.typed_answer(turn, event.text):
            return True
        if not any(self.phrases.find(text) for text in texts) or self._staff(turn):
            return False
        run = turn.engine.active_run(turn.session, turn.person_id, turn.space)
        if anonymous(turn.session, run):
            crisis.tell_anonymously(turn)
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

    def answer(self, turn: Turn, args: tuple[str, ...]) -> None:
        """`concern <alert> contact|share yes|no` (the buttons): `answers.answer`."""
        answers.answer(turn, args)

    # -- raising an alert ------------------------------------------------------------------

    def _raise(self, turn: Turn, reason: AlertReason, run: Run | None, text: str | None) -> None:
        session = turn.session
        hidden = anonymous(session, run)
        programme = crisis.programme_of(turn, run)
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
                    lines=crisis.help_lines(programme),
                ),
            )
            crisis.reask_in_shared_space(turn, run)
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
        told = tell_coordinators(turn, alert, programme, flow.title if flow else None)
        log.info("safeguarding: alert %s raised (%s), %d coordinators told", alert.id, reason, told)
        self._tell_person(turn, alert, programme, crisis.opening(reason, programme, told))
        crisis.reask_in_shared_space(turn, run)

    def _tell_person(
        self, turn: Turn, alert: SafeguardingAlert, programme: Programme | None, body: Text
    ) -> None:
        """The reply at once, with the contact question when there is a coordinator to ask."""
        if alert.contact is None and coordinators_besides(turn, programme):
            crisis.privately(turn, body, answers.buttons(alert, "contact"))
        else:
            crisis.privately(turn, body)

    @staticmethod
    def _staff(turn: Turn) -> bool:
        """Coordinators talk about cases; their words raise no alert (they can ask for help
        now like anyone)."""
        rows = people.memberships(turn.session, turn.person_id)
        return bool(rows) and all(m.role == Role.COORDINATOR for m, _ in rows)
