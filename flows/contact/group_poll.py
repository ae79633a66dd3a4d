"""Planning a group meeting: a slot poll across a mentor group.

The group's mentor (`groupmeeting`) or a coordinator (`groupmeeting GROUPNAME`) starts a poll:
Maatje computes a few candidate slots from the members' intake availability (weekdays and times
of day, each in their own zone; `scheduling.group_slots`), skipping quiet periods, and asks each
member in the group space which of them work (several may be chosen). The poll is a `proposed`
`Meeting` with `group_id`; its `confirmations` hold {"slots": [iso], "votes": {person id:
[slot indexes]}, "deadline": iso, "asked_at": iso}. The answers and the slot chosen when every
member answered, or at the deadline (the `DEADLINE` outbox job), are in `group_poll_votes`.

A poll that moves a chosen meeting (`groupmeeting move`, `group_meeting_changes`) is the same
poll with "replaces": the chosen meeting's id; it keeps that meeting's number and calendar UID
(SEQUENCE + 1).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot import Turn, outbox
from bot.domain import IntakeAnswer, Meeting, MeetingStatus, MentorGroup, Person, Programme
from bot.i18n import _l
from bot.replies import Option, Reply
from bot.services import meetings as store
from bot.services import people, scheduling
from flows.contact.group_members import members_of, pick_group, to_member

DEADLINE = "meeting.group_poll"
POLL_TIME = timedelta(hours=48)
"""How long members have to answer before the best slot is chosen anyway."""
NOTICE = timedelta(days=1)
"""The first candidate slot is at least this long after the deadline."""
SLOTS = 4
NONE = "none"
COUNTED = (MeetingStatus.CONFIRMED, MeetingStatus.HELD)
"""Meetings that took a number; a missed or cancelled one is planned again under its own."""


def _availability(session: Session, person_id: int, programme_id: int) -> scheduling.Availability:
    answers = session.exec(
        select(IntakeAnswer).where(
            IntakeAnswer.person_id == person_id,
            IntakeAnswer.programme_id == programme_id,
            col(IntakeAnswer.key).in_(("weekdays", "dayparts")),
        )
    ).all()
    return scheduling.Availability.from_agreement({a.key: a.value for a in answers})


def _zone(session: Session, person_id: int) -> str:
    person = session.get(Person, person_id)
    return people.timezone_of(session, person) if person else "UTC"


def open_poll(session: Session, group_id: int, now: datetime) -> Meeting | None:
    """A poll still open, or a confirmed group meeting still ahead."""
    return session.exec(
        select(Meeting)
        .where(
            Meeting.group_id == group_id,
            (Meeting.status == MeetingStatus.PROPOSED)
            | ((Meeting.status == MeetingStatus.CONFIRMED) & (col(Meeting.starts_at) > now)),
        )
        .order_by(col(Meeting.id).desc())
    ).first()


def plan(turn: Turn, args: tuple[str, ...]) -> None:
    """`groupmeeting` (a group's mentor) or `groupmeeting GROUPNAME` (a coordinator)."""
    group = pick_group(turn, args)
    if group is None:
        return
    assert group.id is not None
    current = open_poll(turn.session, group.id, turn.now)
    if current is not None and current.status == MeetingStatus.PROPOSED:
        turn.say(_l("A poll for a meeting of {group} is still open.", group=group.name))
        return
    if current is not None:
        turn.say(
            _l(
                "The next meeting of {group} is already planned: {when}. To change it, type "
                "'groupmeeting move' or 'groupmeeting cancel'.",
                group=group.name,
                when=current.starts_at,
            )
        )
        return
    start_poll(turn, group)


def start_poll(turn: Turn, group: MentorGroup, previous: Meeting | None = None) -> None:
    """Ask every member which candidate slots work; `previous` is the chosen meeting this poll
    looks for a new time for (its number and calendar UID are kept)."""
    assert group.id is not None
    session = turn.session
    members = members_of(session, group)
    if len(members) < 2:
        turn.say(_l("The group {group} has no mentees yet.", group=group.name))
        return
    programme = session.get(Programme, group.programme_id)
    assert programme is not None and programme.id is not None
    settings = store.MeetingSettings.of(programme)
    deadline = turn.now + POLL_TIME
    slots = scheduling.group_slots(
        deadline + NOTICE,
        [(_zone(session, m), _availability(session, m, programme.id)) for m in members],
        _zone(session, group.mentor_id),
        SLOTS,
        settings.minutes,
        settings.quiet,
        programme.timezone,
    )
    slots = [
        s
        for s in slots
        if s.date() <= programme.end and (previous is None or s != previous.starts_at)
    ]
    if not slots:
        turn.say(
            _l(
                "I couldn't find times that suit the members of {group} in the next three weeks.",
                group=group.name,
            )
        )
        return
    meeting = Meeting(
        programme_id=programme.id,
        group_id=group.id,
        number=previous.number if previous else _next_number(session, group.id),
        starts_at=slots[0],
        duration_minutes=settings.minutes,
        status=MeetingStatus.PROPOSED,
        confirmations={
            "slots": [s.isoformat() for s in slots],
            "votes": {},
            "deadline": deadline.isoformat(),
            "asked_at": turn.now.isoformat(),
            "started_by": turn.person_id,
            **({"replaces": previous.id} if previous else {}),
        },
        ics_uid="",
        ics_sequence=previous.ics_sequence + 1 if previous else 0,
        created_at=turn.now,
    )
    meeting.ics_uid = previous.ics_uid if previous else _uid(programme, group, meeting, turn.now)
    session.add(meeting)
    session.flush()
    outbox.enqueue(
        session,
        DEADLINE,
        {"meeting": meeting.id},
        f"meeting:{meeting.id}:poll-deadline",
        deadline,
        turn.now,
    )
    for person_id in members:
        choices = (
            *(Option(str(index), _l("{when}", when=slot)) for index, slot in enumerate(slots)),
            Option(NONE, _l("None of these")),
        )
        params = {"number": meeting.number, "group": group.name, "deadline": deadline}
        if previous is None:
            text = _l(
                "Time to plan group meeting {number} of {group}. Which of these times work for "
                "you (your time)? Choose all that fit. I'll pick the time that suits most of you "
                "once everyone has answered, or on {deadline}.",
                **params,
            )
        else:
            text = _l(
                "Group meeting {number} of {group}, now on {when}, needs a new time. Which of "
                "these times work for you (your time)? Choose all that fit. Until I pick the "
                "time that suits most of you, once everyone has answered or on {deadline}, the "
                "meeting stays where it is.",
                **params,
                when=previous.starts_at,
            )
        token = f"c:groupvote:{meeting.id}"
        reply = Reply(text, choices=choices, choice_token=token, multiple=True)
        turn.outbound.append(to_member(session, group, person_id, reply))
    turn.say(
        _l(
            "I've asked the {count} members of {group} which of {slots} times work for them. "
            "I'll choose once everyone has answered, or on {deadline}.",
            count=len(members),
            group=group.name,
            slots=len(slots),
            deadline=deadline,
        )
    )


def _next_number(session: Session, group_id: int) -> int:
    meetings = session.exec(select(Meeting).where(Meeting.group_id == group_id))
    return 1 + sum(1 for m in meetings if m.status in COUNTED)


def _uid(programme: Programme, group: MentorGroup, meeting: Meeting, now: datetime) -> str:
    return f"{programme.slug}-group{group.id}-meeting{meeting.number}-{now:%Y%m%d%H%M%S}@maatje"
