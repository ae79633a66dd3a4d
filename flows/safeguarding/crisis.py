"""What the safety net tells a person at once, in their direct chat: the crisis line and the
referral text of the programme that applies, and what happens next. Maatje never counsels: it
refers to people.
"""

from __future__ import annotations

from sqlmodel import col, select

from bot import Turn
from bot.domain import AlertReason, Membership, Programme, Role
from bot.engine.runs import Run
from bot.events import Command, SpaceKind
from bot.i18n import Lines, Text, _l
from bot.replies import Reply
from bot.services import people, programmes


def programme_of(turn: Turn, run: Run | None) -> Programme | None:
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


def help_lines(programme: Programme | None) -> Lines:
    crisis = (programme.settings.get("crisis_line") if programme else None) or _l(
        "In an emergency, call 112."
    )
    referral = programme.referral if programme else ""
    return Lines(tuple(line for line in (crisis, referral) if line))


def opening(reason: AlertReason, programme: Programme | None, told: int) -> Text:
    """The first reply to an alert: the help lines, and whether the coordinators were told."""
    lines = help_lines(programme)
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


def tell_anonymously(turn: Turn) -> None:
    """Worrying words in an anonymous poll: the help lines, and nobody told."""
    programme = programme_of(turn, None)
    privately(
        turn,
        _l(
            "What you wrote sounds serious. You deserve help from a person, right now; I'm "
            "a bot and can't give it.\n{lines}\n\nThis poll is anonymous, so I have not told "
            "anyone. If you would like a coordinator to contact you, type 'hulp' or 'help "
            "now'.",
            lines=help_lines(programme),
        ),
    )


def reask_in_shared_space(turn: Turn, run: Run | None) -> None:
    """In a pair or group space the question stays where it was: ask it again there (the
    buttons about contact went to the person's direct chat)."""
    if run is not None and turn.space.kind is not SpaceKind.DIRECT:
        turn.outbound.extend(turn.engine.reask(turn.session, run, turn.now, turn.person_ref))


def privately(turn: Turn, text: Text, buttons: dict | None = None) -> None:
    """To the person's direct chat, wherever they wrote (never into a shared space)."""
    if turn.space.kind is SpaceKind.DIRECT:
        turn.say(text, **(buttons or {}))
        return
    turn.tell(turn.person_id, Reply(text, **(buttons or {})))
    if isinstance(turn.event, Command):  # a slash command in a channel: a word only they see
        turn.private = True
        turn.say(_l("I have sent you a direct message."))
