"""Taking back a "no" to the intake's commitment question.

Someone who did not commit is not put forward for a match. They can change their mind at any
time: the button under Maatje's answer, the button Maatje offers when they write again, or the
command `commit` (Dutch: `meedoen`). Their intake becomes complete, so the next `match`
proposes them, and the coordinators are told.
"""

from __future__ import annotations

from sqlmodel import select

from bot import Turn
from bot.domain import IntakeAnswer, IntakeState, Membership, Programme, Role
from bot.i18n import _l
from bot.replies import Option, Reply
from bot.services import people

COMMAND = "commit"
DUTCH = "meedoen"
BUTTON = (Option("yes", _l("I do commit now")),)
TOKEN = f"c:{COMMAND}"


def not_committed(
    turn: Turn, rows: list[tuple[Membership, Programme]] | None = None
) -> list[tuple[Membership, Programme]]:
    """The person's memberships that wait for their commitment, in open programmes (of
    `rows`, their memberships when the caller has read them already)."""
    if rows is None:
        rows = people.memberships(turn.session, turn.person_id)
    return [
        (m, p)
        for m, p in rows
        if m.role != Role.COORDINATOR
        and m.intake == IntakeState.NOT_COMMITTED
        and p.is_open(turn.now.date())
    ]


def offer(turn: Turn) -> None:
    """When someone who did not commit writes again: ask whether they commit now."""
    turn.say(
        _l(
            "Hello! You didn't commit to the meetings yet, so I haven't put you forward for a "
            "match. Do you commit now?"
        ),
        choices=BUTTON,
        choice_token=TOKEN,
    )


def commit(turn: Turn, args: tuple[str, ...]) -> None:
    waiting = not_committed(turn)
    if not waiting:
        turn.say(_l("You are already in for a match, or there is no intake of yours to finish."))
        return
    for membership, programme in waiting:
        membership.intake = IntakeState.COMPLETE
        turn.session.add(membership)
        answer = turn.session.exec(
            select(IntakeAnswer).where(
                IntakeAnswer.person_id == turn.person_id,
                IntakeAnswer.programme_id == programme.id,
                IntakeAnswer.key == "commitment",
            )
        ).first()
        if answer is not None:
            answer.value = True
            turn.session.add(answer)
        for coordinator in people.coordinators_of(turn.session, programme.id or 0):
            turn.tell(
                coordinator,
                Reply(
                    _l(
                        "{name} now commits to {programme} and will be in the next matching "
                        "proposal ('match').",
                        name=people.name(turn.session, turn.person_id),
                        programme=programme.name,
                    )
                ),
            )
    turn.say(
        _l(
            "Thank you! Your intake is complete now. The coordinators will look for a good "
            "match; I'll let you know as soon as there is news."
        )
    )
