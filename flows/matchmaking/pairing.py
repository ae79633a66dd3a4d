"""How the match feels: a check after the first meeting, and ending a match.

Once the pair's first meeting was held (the check asks how the match goes, so not before),
each side is asked privately, `fit_check_days` later, whether the match works — held back in a
quiet period and while either of them has paused. "It doesn't work" goes to the coordinators
only (never to the other side) and puts the pair in the matching review: the next `match` lists
it above a proposal with a new mentor for the mentee, and one approval ends it and re-matches.
A later, more hopeful answer withdraws it. `match release MENTEE` ends a pair at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot import Turn, outbox
from bot.domain import (
    EndSource,
    Meeting,
    MeetingStatus,
    OutboxItem,
    Pair,
    PairStatus,
    Person,
    Programme,
)
from bot.engine import Outbound
from bot.i18n import _l
from bot.replies import Option, Reply
from bot.services import endings, hold, people

FIT_CHECK = "pair.fit_check"
ANSWERS = (
    Option("good", _l("It works well")),
    Option("unsure", _l("Not sure yet")),
    Option("not_working", _l("It doesn't work")),
)


def schedule_fit_check(session: Session, pair: Pair, meeting: Meeting, now: datetime) -> None:
    """After the pair's first meeting was held: the fit check, `fit_check_days` after it."""
    programme = session.get(Programme, pair.programme_id)
    days = programme.settings.get("fit_check_days", 7) if programme else 7
    if days:
        outbox.enqueue(
            session,
            FIT_CHECK,
            {"pair": pair.id},
            f"fit-check:{pair.id}:after-first-meeting",
            max(meeting.starts_at + timedelta(days=days), now),
            now,
        )


def _first_meeting_held(session: Session, pair_id: int) -> bool:
    held = select(Meeting.id).where(
        Meeting.pair_id == pair_id, Meeting.status == MeetingStatus.HELD
    )
    return session.exec(held).first() is not None


def _name(session: Session, person_id: int) -> str:
    person = session.get(Person, person_id)
    return (person.display_name if person else None) or "?"


def fit_check(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
    pair = session.get(Pair, item.payload["pair"])
    if (
        pair is None
        or pair.status != PairStatus.ACTIVE
        or not _first_meeting_held(session, pair.id)
    ):
        return []  # (a check written by an older version, before the first meeting: skipped)
    programme = session.get(Programme, pair.programme_id)
    members = [session.get(Person, p) for p in (pair.mentor_id, pair.mentee_id)]
    if hold.held(session, item, programme, members, now):
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
    assert pair.id is not None
    if answer != "not_working":
        endings.resolve(
            turn.session,
            pair.id,
            endings.WITHDRAWN,
            turn.now,
            person_id=turn.person_id,
            source=EndSource.FIT_CHECK,
        )
        turn.say(_l("Thank you! Good to know."))
        return
    if endings.request(turn.session, pair, EndSource.FIT_CHECK, turn.now, turn.person_id) is None:
        turn.say(_l("Thank you. This match has ended already."))
        return
    turn.say(
        _l(
            "Thank you for telling me. Only the coordinators hear about it; they will look for "
            "a better match and may contact you privately."
        )
    )
    programme = turn.session.get(Programme, pair.programme_id)
    for coordinator in people.coordinators_of(turn.session, pair.programme_id):
        turn.tell(
            coordinator,
            Reply(
                _l(
                    "{name} says the match between {mentor} (mentor) and {mentee} (mentee) in "
                    "{programme} doesn't work. The pair is in the matching review: 'match' "
                    "shows it with a new proposal for {mentee}.",
                    name=_name(turn.session, turn.person_id),
                    mentor=_name(turn.session, pair.mentor_id),
                    mentee=_name(turn.session, pair.mentee_id),
                    programme=programme.name if programme else "",
                )
            ),
        )


def ended_messages(session: Session, pair: Pair) -> list[Outbound]:
    """What the two of a pair that ended are told (never why, nor who asked)."""
    mentor, mentee = _name(session, pair.mentor_id), _name(session, pair.mentee_id)
    return [
        Outbound(
            pair.mentee_id,
            Reply(
                _l(
                    "Your coordinator has ended your match with {other}. You will be matched "
                    "again; I'll let you know.",
                    other=mentor,
                )
            ),
        ),
        Outbound(
            pair.mentor_id,
            Reply(
                _l(
                    "Your coordinator has ended your match with {other}. Thank you for your "
                    "time together.",
                    other=mentee,
                )
            ),
        ),
    ]


def release(turn: Turn, pair: Pair) -> None:
    """`match release`: end a pair now; the mentee is proposed again by the next `match`
    (never to the same mentor)."""
    if not endings.end_pair(turn.session, pair, turn.now):
        turn.say(_l("That mentee has no active match."))
        return
    turn.outbound.extend(ended_messages(turn.session, pair))
    turn.say(
        _l(
            "The match between {mentor} and {mentee} has ended; {mentee} will be in the "
            "next proposal.",
            mentor=_name(turn.session, pair.mentor_id),
            mentee=_name(turn.session, pair.mentee_id),
        )
    )
