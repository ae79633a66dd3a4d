"""Group meetings: a slot poll across a mentor group, and the best slot chosen.

The group's mentor (`groupmeeting`) or a coordinator (`groupmeeting GROUPNAME`) starts a poll:
Maatje computes a few candidate slots from the members' intake availability (weekdays and times
of day, each in their own zone; `scheduling.group_slots`), skipping quiet periods, and asks each
member in the group space which of them work (several may be chosen). The poll is a `proposed`
`Meeting` with `group_id`; its `confirmations` hold {"slots": [iso], "votes": {person id:
[slot indexes]}, "deadline": iso, "asked_at": iso}. When every member answered, or at the
deadline (an outbox job), the slot most members can make is chosen (ties: the earliest), the
meeting is `confirmed`, and each member gets the time and an `.ics` in their own zone.
Nobody available for any slot (or nobody answered) → the poll is `cancelled`, and said so.

A poll that moves a chosen meeting (`groupmeeting move`, `group_meeting_changes`) is the same
poll with "replaces": the chosen meeting's id; it keeps that meeting's number and calendar UID
(SEQUENCE + 1), and only once its slot is chosen the old meeting becomes `rescheduled`.
A chosen meeting gets reminders and, after it, "did you meet?" for the mentor
(`group_meeting_changes.followup`): outbox rows keyed by meeting, written here.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot import Turn, outbox
from bot.domain import (
    GroupMember,
    IntakeAnswer,
    Meeting,
    MeetingStatus,
    MentorGroup,
    OutboxItem,
    Person,
    Programme,
)
from bot.engine import Outbound
from bot.events import SpaceKind
from bot.i18n import Text, Translator, _l, _n
from bot.replies import Attachment, Option, Reply
from bot.services import meetings as store
from bot.services import people, scheduling
from bot.spaces import space_of
from flows.contact import meeting_messages as msg
from flows.contact import meeting_nudges

DEADLINE = "meeting.group_poll"
REMIND = "meeting.group_nudge"
FOLLOWUP = "meeting.group_followup"
POLL_TIME = timedelta(hours=48)
"""How long members have to answer before the best slot is chosen anyway."""
NOTICE = timedelta(days=1)
"""The first candidate slot is at least this long after the deadline."""
SLOTS = 4
NONE = "none"
COUNTED = (MeetingStatus.CONFIRMED, MeetingStatus.HELD)
"""Meetings that took a number; a missed or cancelled one is planned again under its own."""
NO_GROUP = {
    "plan": _l(
        "I found no group you can plan a meeting for. Mentors type 'groupmeeting'; "
        "coordinators type 'groupmeeting GROUPNAME'."
    ),
    "move": _l(
        "I found no group whose meeting you can move. Mentors type 'groupmeeting move'; "
        "coordinators type 'groupmeeting move GROUPNAME'."
    ),
    "cancel": _l(
        "I found no group whose meeting you can cancel. Mentors type 'groupmeeting cancel'; "
        "coordinators type 'groupmeeting cancel GROUPNAME'."
    ),
}
WHICH_GROUP = {
    "plan": _l("Which group? Type 'groupmeeting GROUPNAME'; the groups: {names}."),
    "move": _l("Which group? Type 'groupmeeting move GROUPNAME'; the groups: {names}."),
    "cancel": _l("Which group? Type 'groupmeeting cancel GROUPNAME'; the groups: {names}."),
}


def members_of(session: Session, group: MentorGroup) -> list[int]:
    """The mentor first, then the mentees."""
    mentees = session.exec(
        select(GroupMember.person_id)
        .where(GroupMember.group_id == group.id)
        .order_by(col(GroupMember.person_id))
    ).all()
    return [group.mentor_id, *[m for m in mentees if m != group.mentor_id]]


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


def _groups_for(turn: Turn, wanted: str) -> list[MentorGroup]:
    """The groups this person may start a poll for: their own as mentor, and every group of
    a programme they coordinate; narrowed to the name `wanted` when given."""
    session = turn.session
    groups = list(session.exec(select(MentorGroup).where(MentorGroup.mentor_id == turn.person_id)))
    coordinated = [p.id for p in people.coordinated_programmes(session, turn.person_id)]
    if coordinated:
        groups += [
            g
            for g in session.exec(
                select(MentorGroup)
                .where(col(MentorGroup.programme_id).in_(coordinated))
                .order_by(col(MentorGroup.id))
            )
            if g.id not in {own.id for own in groups}
        ]
    if wanted:
        groups = [g for g in groups if g.name.casefold() == wanted.casefold()]
    return groups


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


def to_member(session: Session, group: MentorGroup, person_id: int, reply: Reply) -> Outbound:
    """A message addressed to one member in the group space (their direct chat without one)."""
    space = space_of(group, SpaceKind.GROUP)
    ref = people.ref_on(session, person_id, space.platform) if space else None
    if space is None or ref is None:
        return Outbound(person_id, reply)
    return Outbound(person_id, reply, space, ref)


def pick_group(turn: Turn, args: tuple[str, ...], action: str = "plan") -> MentorGroup | None:
    """The one group `args` names (or the only one this person may plan for); otherwise says
    which groups there are and returns None. `action` is "plan", "move" or "cancel"."""
    groups = _groups_for(turn, " ".join(args).strip())
    if not groups:
        turn.say(NO_GROUP[action])
        return None
    if len(groups) > 1:
        turn.say(Text(WHICH_GROUP[action].msgid, {"names": [g.name for g in groups]}))
        return None
    return groups[0]


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


def _votes(meeting: Meeting) -> dict[str, Any]:
    data = copy.deepcopy(meeting.confirmations or {})
    data.setdefault("slots", [])
    data.setdefault("votes", {})
    return data


def groupvote(turn: Turn, args: tuple[str, ...]) -> None:
    """`groupvote <meeting> <slot index>...|none`: the multi-choice under a poll."""
    session = turn.session
    meeting = session.get(Meeting, int(args[0])) if args and args[0].isdigit() else None
    group = session.get(MentorGroup, meeting.group_id) if meeting and meeting.group_id else None
    if meeting is None or group is None:
        turn.say(_l("That button no longer works. Send me a message to continue."))
        return
    if turn.person_id not in members_of(session, group):
        turn.say(_l("Only members of {group} can answer this poll.", group=group.name))
        return
    if meeting.status == MeetingStatus.CONFIRMED:
        turn.say(
            _l(
                "This poll is closed: the meeting is planned for {when} (your time).",
                when=meeting.starts_at,
            )
        )
        return
    if meeting.status != MeetingStatus.PROPOSED:
        turn.say(_l("This poll is closed."))
        return
    data = _votes(meeting)
    values = args[1:]
    indexes = sorted({int(v) for v in values if v.isdigit() and int(v) < len(data["slots"])})
    if not indexes and NONE not in values:
        turn.say(_l("Please choose at least one time, or 'None of these'."))
        return
    data["votes"][str(turn.person_id)] = indexes
    meeting.confirmations = data
    session.add(meeting)
    members = members_of(session, group)
    if {str(m) for m in members} <= set(data["votes"]):
        turn.say(_l("Thanks! Everyone has answered."))
        turn.outbound.extend(close(session, meeting, turn.now, turn.engine.translator))
        return
    turn.say(
        _n(
            "Thanks! {count} of {total} members has answered; I'll choose once everyone "
            "has, or on {deadline}.",
            "Thanks! {count} of {total} members have answered; I'll choose once everyone "
            "has, or on {deadline}.",
            sum(1 for m in members if str(m) in data["votes"]),
            total=len(members),
            deadline=datetime.fromisoformat(data["deadline"]),
        )
    )


def best_slot(slots: list[datetime], votes: dict[str, list[int]]) -> tuple[int, int] | None:
    """(index, how many can make it) of the slot most can make, the earliest on a tie; None
    when no slot has anyone."""
    tally = [sum(1 for chosen in votes.values() if i in chosen) for i in range(len(slots))]
    ranked = sorted(range(len(slots)), key=lambda i: (-tally[i], slots[i]))
    if not ranked or tally[ranked[0]] == 0:
        return None
    return ranked[0], tally[ranked[0]]


def close(
    session: Session, meeting: Meeting, now: datetime, translator: Translator | None = None
) -> list[Outbound]:
    """Choose the best slot of an open poll and confirm it (or cancel a poll nobody can make).
    A poll for a new time replaces the meeting it was started for only when a slot is chosen."""
    group = session.get(MentorGroup, meeting.group_id) if meeting.group_id else None
    programme = session.get(Programme, meeting.programme_id)
    if group is None or programme is None or meeting.status != MeetingStatus.PROPOSED:
        return []
    data = _votes(meeting)
    replaced = session.get(Meeting, data["replaces"]) if data.get("replaces") else None
    if replaced is not None and replaced.status not in (
        MeetingStatus.CONFIRMED,
        MeetingStatus.MISSED,
    ):
        meeting.status = MeetingStatus.CANCELLED  # held or cancelled meanwhile: nothing to move
        session.add(meeting)
        return []
    slots = [datetime.fromisoformat(s) for s in data["slots"]]
    votes: dict[str, list[int]] = dict(data["votes"])
    ahead = {i for i, s in enumerate(slots) if s > now}
    best = best_slot(slots, {k: [i for i in v if i in ahead] for k, v in votes.items()})
    members = members_of(session, group)
    if best is None:
        meeting.status = MeetingStatus.CANCELLED
        session.add(meeting)
        return [
            to_member(session, group, m, Reply(_nothing_chosen(session, meeting, group, m)))
            for m in members
        ]
    index, count = best
    meeting.starts_at = slots[index]
    meeting.status = MeetingStatus.CONFIRMED
    meeting.confirmations = {**data, "chosen": index, "chosen_at": now.isoformat()}
    session.add(meeting)
    if replaced is not None and replaced.status == MeetingStatus.CONFIRMED:
        replaced.status = MeetingStatus.RESCHEDULED
        session.add(replaced)
    session.flush()
    messages: list[Outbound] = []
    space = space_of(group, SpaceKind.GROUP)
    if space is not None:
        params = {"number": meeting.number, "count": count, "total": len(members)}
        post = (
            _l(
                "Group meeting {number} is planned, at the time that suits most of you ({count} "
                "of {total}). I've sent each of you the time and a calendar invite.",
                **params,
            )
            if replaced is None
            else _l(
                "Group meeting {number} has a new time, the one that suits most of you ({count} "
                "of {total}). I've sent each of you the new time and calendar invite.",
                **params,
            )
        )
        messages.append(Outbound(group.mentor_id, Reply(post), space))
    for person_id in members:
        params = {
            "number": meeting.number,
            "group": group.name,
            "count": count,
            "total": len(members),
            "when": meeting.starts_at,
        }
        chose = index in votes.get(str(person_id), [])
        text = CHOSEN[(replaced is not None, chose)]
        attachment = invite(session, meeting, group, programme, person_id, now, translator)
        text = replace(text, params=params, count=count)  # the plural follows `count`
        messages.append(Outbound(person_id, Reply(text, files=(attachment,))))
    schedule(session, meeting, programme, now)
    return messages


CHOSEN = {
    (False, True): _n(
        "Group meeting {number} of {group} is planned for {when} (your time); {count} of "
        "{total} members can make it. The calendar invite is attached.",
        "Group meeting {number} of {group} is planned for {when} (your time); {count} of "
        "{total} members can make it. The calendar invite is attached.",
        0,
    ),
    (False, False): _l(
        "Group meeting {number} of {group} is planned for {when} (your time), the time that "
        "suits most members ({count} of {total}), though not you, I'm afraid. Join if you can, "
        "or let the group know. The calendar invite is attached."
    ),
    (True, True): _n(
        "Group meeting {number} of {group} has moved to {when} (your time); {count} of {total} "
        "members can make it. The attached invite updates the one in your calendar.",
        "Group meeting {number} of {group} has moved to {when} (your time); {count} of {total} "
        "members can make it. The attached invite updates the one in your calendar.",
        0,
    ),
    (True, False): _l(
        "Group meeting {number} of {group} has moved to {when} (your time), the time that "
        "suits most members ({count} of {total}), though not you, I'm afraid. Join if you can, "
        "or let the group know. The attached invite updates the one in your calendar."
    ),
}
"""What each member hears when a slot is chosen: (a new time for a chosen meeting, they chose
that slot) → the message."""


def _nothing_chosen(session: Session, poll: Meeting, group: MentorGroup, person_id: int) -> Text:
    """No slot of the poll suits anyone: nothing planned, or a moved meeting stays put."""
    replaced = session.get(Meeting, poll.confirmations.get("replaces") or 0)
    if replaced is not None and replaced.status == MeetingStatus.CONFIRMED:
        return _l(
            "None of the new times for group meeting {number} of {group} suits anyone who "
            "answered, so it stays on {when} (your time).",
            number=poll.number,
            group=group.name,
            when=replaced.starts_at,
        )
    return _l(
        "None of the proposed times for group meeting {number} of {group} suits anyone who "
        "answered, so nothing is planned. {mentor} can start a new poll with "
        "'groupmeeting'.",
        number=poll.number,
        group=group.name,
        mentor=store.name(session, group.mentor_id),
    )


def schedule(session: Session, meeting: Meeting, programme: Programme, now: datetime) -> None:
    """Reminders before a chosen group meeting, at the programme's `nudge_hours` (one due in a
    quiet period comes at its end, if that is still before the meeting), and "did you meet?"
    for the mentor after it, as the pairs' follow-up (`meeting_nudges.FOLLOWUP_AFTER`)."""
    settings = store.MeetingSettings.of(programme)
    for hours in settings.nudge_hours:
        due = scheduling.after_quiet(
            meeting.starts_at - timedelta(hours=hours), settings.quiet, programme.timezone
        )
        if now < due < meeting.starts_at:
            outbox.enqueue(
                session,
                REMIND,
                {"meeting": meeting.id},
                f"group-meeting:{meeting.id}:nudge:{hours}",
                due,
                now,
            )
    end = meeting.starts_at + timedelta(minutes=meeting.duration_minutes)
    outbox.enqueue(
        session,
        FOLLOWUP,
        {"meeting": meeting.id},
        f"group-meeting:{meeting.id}:followup",
        scheduling.after_quiet(
            max(end + meeting_nudges.FOLLOWUP_AFTER, now), settings.quiet, programme.timezone
        ),
        now,
    )


def invite(
    session: Session,
    meeting: Meeting,
    group: MentorGroup,
    programme: Programme,
    person_id: int,
    now: datetime,
    translator: Translator | None = None,
    cancel: bool = False,
) -> Attachment:
    """The group meeting's `.ics` in this member's language and zone (a CANCEL with
    `cancel`)."""
    translator = translator or msg.default_translator()
    person = session.get(Person, person_id)
    language, zone = people.reader(session, person) if person else ("en", "UTC")
    summary = _l("Mentoring: group meeting of {group}", group=group.name)
    description = _l(
        "Group meeting {number} of {group} in {programme}, planned with Maatje.",
        number=meeting.number,
        group=group.name,
        programme=programme.name,
    )
    return msg.ics_attachment(
        meeting,
        f"maatje-group-meeting-{meeting.number}.ics",
        summary,
        description,
        translator,
        language,
        zone,
        now,
        cancel,
    )


def deadline(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
    """The poll's deadline: choose with the answers there are (nothing if already chosen)."""
    meeting = session.get(Meeting, item.payload["meeting"])
    if meeting is None:
        return []
    return close(session, meeting, now)


JOBS = {DEADLINE: deadline}
"""The reminders' and the follow-up's jobs are in `group_meeting_changes`."""
