"""Planning meetings: Maatje proposes a time, both confirm with a button, either proposes
another.

When the kennismakingsgids is complete, Maatje proposes meeting 1 in the pair space: one
message to each member, with the time in their own zone and language, and two buttons — "Yes,
that works" and "Propose another time". When both said yes the meeting is confirmed: each gets
a calendar invite in a direct message, and the reminders are scheduled (`meeting_nudges`).
"Propose another time" asks for a date and time (typed, in one's own zone); the other member
is then asked to confirm that. A moved meeting keeps its calendar UID with a higher SEQUENCE.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlmodel import Session

from bot import Turn
from bot.domain import OPEN_MEETING, Meeting, MeetingStatus, Pair, PairStatus, Person, Programme
from bot.engine import Outbound
from bot.events import SpaceRef
from bot.i18n import _l
from bot.replies import Option, Reply
from bot.services import meetings as store
from bot.services import pairs as pair_store
from bot.services import people, scheduling
from bot.spaces import Work
from bot.store import loaded
from flows.contact import meeting_messages as msg
from flows.contact import meeting_nudges, stalled
from flows.coordination import digest
from flows.matchmaking import introductions

FIRST_NOTICE = timedelta(days=2)
"""The first proposal is at least this far ahead, so both can fit it in."""
RESCHEDULE_NOTICE = timedelta(days=1)
CHOICES = (Option("yes", _l("Yes, that works")), Option("other", _l("Propose another time")))
OTHER_TIME = (Option("other", _l("Propose another time")),)


def guide_complete(pair: Pair) -> bool:
    return "mentor" in pair.guide and "mentee" in pair.guide


def start_plan(session: Session, pair: Pair, now: datetime) -> list[Outbound]:
    """Propose the pair's next meeting, unless one is already being planned or all are held."""
    assert pair.id is not None
    if pair.status != PairStatus.ACTIVE or store.open_meeting(session, pair.id) is not None:
        return []
    programme = session.get(Programme, pair.programme_id)
    assert programme is not None
    held = store.held_count(store.meetings_of(session, pair.id))
    if held >= programme.meetings:
        return []
    return propose(session, pair, programme, held + 1, now, earliest=now + FIRST_NOTICE)


def propose(
    session: Session,
    pair: Pair,
    programme: Programme,
    number: int,
    now: datetime,
    *,
    earliest: datetime,
    previous: Meeting | None = None,
    starts_at: datetime | None = None,
    proposer: int | None = None,
) -> list[Outbound]:
    """A new proposed meeting and the messages asking both (or the other) to confirm it.

    `previous` is the meeting this one replaces (same calendar UID, next SEQUENCE); `proposer`
    the member who typed `starts_at` (their yes is implied)."""
    assert pair.id is not None and programme.id is not None
    settings = store.MeetingSettings.of(programme)
    stalled.ensure_daily(session, programme, now)
    digest.ensure_digest(session, programme, now)
    if starts_at is None:
        starts_at = scheduling.next_slot(earliest, slot_rules(session, pair, programme))
    if starts_at is None or starts_at.date() > programme.end:
        text = _l(
            "I couldn't find a time for meeting {number} before the programme ends. Your "
            "coordinator can help you plan it.",
            number=number,
        )
        return msg.to_pair(session, pair, Reply(text))
    meeting = Meeting(
        programme_id=programme.id,
        pair_id=pair.id,
        number=number,
        starts_at=starts_at,
        duration_minutes=settings.minutes,
        status=MeetingStatus.PROPOSED,
        confirmations={
            "confirmed": {str(proposer): now.isoformat()} if proposer else {},
            "met": {},
            "asked_at": now.isoformat(),
        },
        ics_uid=previous.ics_uid if previous else _uid(programme, pair, number, now),
        ics_sequence=previous.ics_sequence + 1 if previous else 0,
        created_at=now,
    )
    session.add(meeting)
    session.flush()
    return [
        msg.in_pair_space(session, pair, person_id, reply)
        for person_id in (pair.mentor_id, pair.mentee_id)
        for reply in [_proposal(session, meeting, pair, programme, person_id, previous, proposer)]
    ]


def _proposal(
    session: Session,
    meeting: Meeting,
    pair: Pair,
    programme: Programme,
    person_id: int,
    previous: Meeting | None,
    proposer: int | None,
) -> Reply:
    params = {
        "number": meeting.number,
        "other": people.name(session, pair_store.other_of(pair, person_id)),
        "when": meeting.starts_at,
    }
    token = f"c:meet:{meeting.id}"
    if person_id == proposer:
        text = _l(
            "Thanks! I've asked {other} whether {when} works for meeting {number}.",
            **params,
        )
        return Reply(text)
    if proposer is not None:
        text = _l(
            "{other} proposes another time for meeting {number}: {when} (your time). "
            "Does that work for you?",
            **params,
        )
    elif previous is not None:
        text = _l(
            "Let's find a new time for meeting {number} with {other}. How about {when} "
            "(your time)?",
            **params,
        )
    else:
        text = _l(
            "Time to plan meeting {number} of {total} with {other}. My proposal: {when} "
            "(your time). Does that work for you?",
            total=programme.meetings,
            **params,
        )
    return Reply(text, choices=CHOICES, choice_token=token)


def zone_of(session: Session, person_id: int) -> str:
    person = session.get(Person, person_id)
    return people.timezone_of(session, person) if person else "UTC"


def zones_of(session: Session, pair: Pair) -> list[str]:
    """The pair's time zones, the mentor's (the anchor for slots) first."""
    return [zone_of(session, pair.mentor_id), zone_of(session, pair.mentee_id)]


def slot_rules(session: Session, pair: Pair, programme: Programme) -> scheduling.SlotRules:
    """What the pair's meeting times must respect: their agreement, zones, the programme's
    meeting length and quiet periods."""
    settings = store.MeetingSettings.of(programme)
    return scheduling.SlotRules(
        scheduling.Availability.from_agreement(pair.agreement),
        zones_of(session, pair),
        settings.minutes,
        settings.quiet,
        programme.timezone,
    )


def _uid(programme: Programme, pair: Pair, number: int, now: datetime) -> str:
    return f"{programme.slug}-pair{pair.id}-meeting{number}-{now:%Y%m%d%H%M%S}@maatje"


def reschedule(
    session: Session,
    meeting: Meeting,
    now: datetime,
    starts_at: datetime | None = None,
    proposer: int | None = None,
) -> list[Outbound]:
    """Replace `meeting` (proposed, confirmed or missed) by a new proposal for the same number."""
    pair = session.get(Pair, meeting.pair_id)
    programme = session.get(Programme, meeting.programme_id)
    if pair is None or programme is None:
        return []
    if meeting.status in OPEN_MEETING:
        meeting.status = MeetingStatus.RESCHEDULED
        session.add(meeting)
    earliest = now + RESCHEDULE_NOTICE
    return propose(
        session,
        pair,
        programme,
        meeting.number,
        now,
        earliest=earliest,
        previous=meeting,
        starts_at=starts_at,
        proposer=proposer,
    )


# -- the buttons -------------------------------------------------------------------------


_MEETING_T = Meeting.__table__
_PAIR_T = Pair.__table__
_PROGRAMME_T = Programme.__table__
_MENTOR_T = Person.__table__.alias("mentor")
_MENTEE_T = Person.__table__.alias("mentee")
_OF_BUTTON = (  # built once: nearly every meeting button reads all five
    select(*_MEETING_T.c, *_PAIR_T.c, *_PROGRAMME_T.c, *_MENTOR_T.c, *_MENTEE_T.c)
    .select_from(
        _MEETING_T.join(_PAIR_T, _PAIR_T.c.id == _MEETING_T.c.pair_id)
        .join(_PROGRAMME_T, _PROGRAMME_T.c.id == _MEETING_T.c.programme_id)
        .outerjoin(_MENTOR_T, _MENTOR_T.c.id == _PAIR_T.c.mentor_id)
        .outerjoin(_MENTEE_T, _MENTEE_T.c.id == _PAIR_T.c.mentee_id)
    )
    .where(_MEETING_T.c.id == bindparam("meeting"))
)
_OF_BUTTON_KEYS = tuple(
    (cls, tuple(table.c.keys()))
    for cls, table in (
        (Meeting, _MEETING_T),
        (Pair, _PAIR_T),
        (Programme, _PROGRAMME_T),
        (Person, _MENTOR_T),
        (Person, _MENTEE_T),
    )
)
"""`_OF_BUTTON`'s row, in order: each class and its columns."""


def of_button(turn: Turn, args: tuple[str, ...]) -> tuple[Meeting, Pair, Programme] | None:
    """The meeting a button names (its first argument), its pair and programme, read in one
    statement with the pair's members (whom the answer names); None when there is none or
    the one clicking is not in its pair.

    Read as values on the session's connection and made into the session's objects (or the
    ones it holds already: `store.loaded`), as the ORM would give them: its loading of five
    objects cost more than the statement. Nothing the session holds unflushed can change what
    is read by key, so it is not flushed first."""
    if not args or not args[0].isdigit():
        return None
    row = turn.session.connection().execute(_OF_BUTTON, {"meeting": int(args[0])}).first()
    if row is None:
        return None
    values = iter(row)
    columns = [(cls, {key: next(values) for key in keys}) for cls, keys in _OF_BUTTON_KEYS]
    made = [loaded(turn.session, cls, found) for cls, found in columns if found["id"] is not None]
    meeting, pair, programme = made[:3]  # the members, after them, are held by the session
    if pair_store.side_of(pair, turn.person_id) is None:
        return None
    return meeting, pair, programme


def meet(turn: Turn, args: tuple[str, ...]) -> None:
    """`meet <meeting> yes|other`: the buttons under a proposal (and under `meeting`)."""
    found = of_button(turn, args)
    answer = args[1] if len(args) > 1 else ""
    if found is None or answer not in ("yes", "other"):
        turn.say(_l("That button no longer works. Send me a message to continue."))
        return
    meeting, pair, programme = found
    if meeting.status not in OPEN_MEETING:
        turn.say(
            _l(
                "That proposal has been replaced or is over. Type 'meeting' to see your next "
                "meeting."
            )
        )
        return
    if answer == "other":
        turn.start("meeting_time", programme=programme, answers={"meeting": meeting.id})
        return
    if meeting.status == MeetingStatus.CONFIRMED:
        turn.say(_l("This meeting is already confirmed by both of you."))
        return
    answers = store.confirmations(meeting)
    answers["confirmed"][str(turn.person_id)] = turn.now.isoformat()
    meeting.confirmations = answers
    turn.session.add(meeting)
    if {str(pair.mentor_id), str(pair.mentee_id)} <= set(answers["confirmed"]):
        confirm(turn, meeting, pair, programme)
        return
    other = people.name(turn.session, pair_store.other_of(pair, turn.person_id))
    turn.say(_l("Thanks! Now waiting for {other} to confirm.", other=other))


def confirm(turn: Turn, meeting: Meeting, pair: Pair, programme: Programme) -> None:
    meeting.status = MeetingStatus.CONFIRMED
    turn.session.add(meeting)
    turn.session.flush()
    turn.outbound.extend(
        msg.to_pair(
            turn.session,
            pair,
            Reply(
                _l(
                    "Meeting {number} is confirmed for {when}. See you both then! I've sent "
                    "each of you a calendar invite.",
                    number=meeting.number,
                    when=meeting.starts_at,
                )
            ),
        )
    )
    for person_id in (pair.mentor_id, pair.mentee_id):
        text = _l(
            "Meeting {number} with {other} is confirmed for {when} (your time). The "
            "calendar invite is attached.",
            number=meeting.number,
            other=people.name(turn.session, pair_store.other_of(pair, person_id)),
            when=meeting.starts_at,
        )
        attachment = msg.invite(
            turn.session, meeting, pair, person_id, turn.now, turn.engine.translator
        )
        turn.tell(person_id, Reply(text, files=(attachment,)))
    meeting_nudges.schedule(turn.session, meeting, programme, turn.now)


# -- `meeting`, for participants ------------------------------------------------------------


def meeting_command(turn: Turn, args: tuple[str, ...]) -> None:
    pairs = pair_store.pairs_of(turn.session, turn.person_id)
    if not pairs:
        turn.say(_l("You are not in a mentoring pair yet, so there are no meetings to show."))
        return
    for pair in pairs:
        assert pair.id is not None
        other = people.name(turn.session, pair_store.other_of(pair, turn.person_id))
        current = store.open_meeting(turn.session, pair.id)
        if current is None:
            programme = turn.session.get(Programme, pair.programme_id)
            turn.say(
                _l(
                    "No meeting with {other} is planned right now ({held} of {total} held).",
                    other=other,
                    held=store.held_count(store.meetings_of(turn.session, pair.id)),
                    total=programme.meetings if programme else "?",
                )
            )
            continue
        params = {
            "number": current.number,
            "other": other,
            "when": current.starts_at,
        }
        token = f"c:meet:{current.id}"
        if current.status == MeetingStatus.CONFIRMED:
            turn.say(
                _l(
                    "Your next meeting with {other}: meeting {number}, {when} (your time).",
                    **params,
                ),
                choices=OTHER_TIME,
                choice_token=token,
            )
            continue
        mine = str(turn.person_id) in store.confirmations(current)["confirmed"]
        turn.say(
            _l(
                "Meeting {number} with {other} is proposed for {when} (your time), but "
                "not yet confirmed by both of you.",
                **params,
            ),
            choices=OTHER_TIME if mine else CHOICES,
            choice_token=token,
        )


# -- a pair space opening for a pair whose guide is already complete ---------------------------


def space_opened(work: Work, subject: str, space: SpaceRef, welcome: list[int]) -> None:
    """Introductions as usual; a pair that already completed its kennismakingsgids (moved
    from elsewhere, or seeded in the demo) goes straight to planning its meetings."""
    kind, _, raw_id = subject.partition(":")
    pair = work.session.get(Pair, int(raw_id)) if kind == "pair" else None
    if pair is not None and pair.status == PairStatus.ACTIVE and guide_complete(pair):
        work.outbound.extend(start_plan(work.session, pair, work.now))
        return
    introductions.space_opened(work, subject, space, welcome)
