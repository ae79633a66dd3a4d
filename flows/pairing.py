"""How the match feels: a check some days after the kennismakingsgids, and ending a match.

Each side is asked privately whether the match works. "It doesn't work" goes to the
coordinators only (never to the other side); a coordinator can then end the pair with
`match release MENTEE`, after which the mentee is proposed again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot import Turn, outbox
from bot.domain import GroupMember, OutboxItem, Pair, PairStatus, Person, Programme
from bot.engine import Outbound
from bot.i18n import _l
from bot.replies import Option, Reply
from bot.services import people

FIT_CHECK = "pair.fit_check"
ANSWERS = (
    Option("good", _l("It works well")),
    Option("unsure", _l("Not sure yet")),
    Option("not_working", _l("It doesn't work")),
)


def schedule_fit_check(session: Session, pair: Pair, now: datetime) -> None:
    programme = session.get(Programme, pair.programme_id)
    days = programme.settings.get("fit_check_days", 7) if programme else 7
    if days:
        outbox.enqueue(
            session,
            FIT_CHECK,
            {"pair": pair.id},
            f"fit-check:{pair.id}",
            now + timedelta(days=days),
            now,
        )


def _name(session: Session, person_id: int) -> str:
    person = session.get(Person, person_id)
    return (person.display_name if person else None) or "?"


def fit_check(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
    pair = session.get(Pair, item.payload["pair"])
    if pair is None or pair.status != PairStatus.ACTIVE:
        return []
    messages = []
    for person_id, other in ((pair.mentor_id, pair.mentee_id), (pair.mentee_id, pair.mentor_id)):
        messages.append(
            Outbound(
                person_id,
                Reply(
                    _l(
                        "A short, private question: how is the match with {other} going? Only the "
                        "coordinators see your answer.",
                        other=_name(session, other),
                    ),
                    choices=ANSWERS,
                    choice_token=f"c:fit:{pair.id}",
                ),
            )
        )
    return messages


def fit(turn: Turn, args: tuple[str, ...]) -> None:
    """The answer to the fit check (`fit <pair> <answer>`, sent by its buttons)."""
    pair = turn.session.get(Pair, int(args[0])) if args and args[0].isdigit() else None
    answer = args[1] if len(args) > 1 else ""
    if (
        pair is None
        or turn.person_id not in (pair.mentor_id, pair.mentee_id)
        or answer not in {o.value for o in ANSWERS}
    ):
        turn.say(_l("That button no longer works. Send me a message to continue."))
        return
    side = "mentor" if turn.person_id == pair.mentor_id else "mentee"
    pair.guide = {**pair.guide, "fit": {**pair.guide.get("fit", {}), side: answer}}
    turn.session.add(pair)
    if answer != "not_working":
        turn.say(_l("Thank you! Good to know."))
        return
    turn.say(
        _l(
            "Thank you for telling me. A coordinator will contact you privately to see "
            "what would help."
        )
    )
    programme = turn.session.get(Programme, pair.programme_id)
    for coordinator in people.coordinators_of(turn.session, pair.programme_id):
        turn.tell(
            coordinator,
            Reply(
                _l(
                    "{name} says the match between {mentor} (mentor) and {mentee} (mentee) in "
                    "{programme} doesn't work. Please get in touch privately; to match the mentee "
                    "again, use 'match release {mentee}'.",
                    name=_name(turn.session, turn.person_id),
                    mentor=_name(turn.session, pair.mentor_id),
                    mentee=_name(turn.session, pair.mentee_id),
                    programme=programme.name if programme else "",
                )
            ),
        )


def release(turn: Turn, pair: Pair) -> None:
    """End a pair: the mentee leaves the group and is proposed again by the next `match`."""
    pair.status = PairStatus.ENDED
    turn.session.add(pair)
    member = turn.session.exec(
        select(GroupMember).where(
            GroupMember.group_id == pair.group_id, GroupMember.person_id == pair.mentee_id
        )
    ).first()
    if member is not None:
        turn.session.delete(member)
    mentor, mentee = _name(turn.session, pair.mentor_id), _name(turn.session, pair.mentee_id)
    turn.tell(
        pair.mentee_id,
        Reply(
            _l(
                "Your coordinator has ended your match with {other}. You will be matched again; "
                "I'll let you know.",
                other=mentor,
            )
        ),
    )
    turn.tell(
        pair.mentor_id,
        Reply(
            _l(
                "Your coordinator has ended your match with {other}. Thank you for your time "
                "together.",
                other=mentee,
            )
        ),
    )
    turn.say(
        _l(
            "The match between {mentor} and {mentee} has ended; {mentee} will be in the "
            "next proposal.",
            mentor=mentor,
            mentee=mentee,
        )
    )
