"""The members' answers to a group meeting poll (`groupvote`), and the slot chosen.

When every member answered, or at the poll's deadline (an outbox job), the slot most members
can make is chosen (ties: the earliest), the meeting is `confirmed`, and each member gets the
time and an `.ics` in their own zone (`group_meetings`). Nobody available for any slot (or
nobody answered) → the poll is `cancelled`, and said so. A poll for a new time of a chosen
meeting (its "replaces") makes that meeting `rescheduled` only once its slot is chosen.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot import Turn
from bot.domain import Meeting, MeetingStatus, MentorGroup, OutboxItem, Programme
from bot.engine import Outbound
from bot.events import SpaceKind
from bot.i18n import Text, Translator, _l, _n
from bot.replies import Reply
from bot.services import people
from bot.spaces import space_of
from flows.contact.group_meetings import invite, schedule
from flows.contact.group_members import members_of, to_member
from flows.contact.group_poll import DEADLINE, NONE


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
        mentor=people.name(session, group.mentor_id),
    )


def deadline(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
    """The poll's deadline: choose with the answers there are (nothing if already chosen)."""
    meeting = session.get(Meeting, item.payload["meeting"])
    if meeting is None:
        return []
    return close(session, meeting, now)


JOBS = {DEADLINE: deadline}
"""The reminders' and the follow-up's jobs are in `group_meeting_changes`."""
