"""What happens when someone writes and no conversation is going: intake, or a short hello."""

from __future__ import annotations

from bot import Turn
from bot.domain import IntakeState, Role
from bot.i18n import _l
from bot.replies import Option
from bot.services import people, programmes
from flows.joining import commitment


def greet(turn: Turn) -> None:
    rows = people.memberships(turn.session, turn.person_id)
    for membership, programme in rows:
        if membership.role == Role.COORDINATOR:
            continue
        if membership.intake in (IntakeState.NOT_STARTED, IntakeState.IN_PROGRESS):
            turn.start("intake", programme=programme)
            return
    if commitment.not_committed(turn, rows):
        commitment.offer(turn)
        return
    if rows:
        if any(m.role == Role.COORDINATOR for m, _ in rows):
            turn.say(
                _l(
                    "Hello! You coordinate {programme}. Type 'help' to see the commands.",
                    programme=rows[0][1].name,
                )
            )
        else:
            turn.say(
                _l(
                    "Hello! Your intake is done; I'll keep you posted. Type 'help' to see "
                    "what I can do."
                )
            )
        return
    offer_programmes(turn)


def offer_programmes(turn: Turn) -> None:
    open_now = programmes.open_programmes(turn.session, turn.now.date())
    if not open_now:
        turn.say(_l("Hello! There is no mentoring programme open to join right now."))
    elif len(open_now) == 1:
        turn.start("intake", programme=open_now[0])
    else:
        turn.say(
            _l("Hello! Which programme would you like to join?"),
            choices=tuple(Option(p.slug, p.name) for p in open_now),
            choice_token="c:join",
        )


def join(turn: Turn, args: tuple[str, ...]) -> None:
    """`join <slug>`: start intake for a programme (the buttons of `offer_programmes`)."""
    open_now = {p.slug: p for p in programmes.open_programmes(turn.session, turn.now.date())}
    programme = open_now.get(args[0]) if args else None
    if programme is None:
        turn.private = False
        offer_programmes(turn)
        return
    turn.start("intake", programme=programme)
