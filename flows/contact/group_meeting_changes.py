"""A chosen group meeting: reminders before it, "did you meet?" after it, and moving or
cancelling it while it is still ahead.

- **Move.** `groupmeeting move` (the group's mentor) or `groupmeeting move GROUPNAME` (a
  coordinator) starts a slot poll for a new time (`group_poll.start_poll` with `previous`).
  The meeting keeps its time until a slot is chosen; then it becomes `rescheduled`, and the new
  row — same number, same calendar UID, SEQUENCE + 1 — is confirmed with new invites. The jobs
  below re-read the meeting when they run, so the old time's reminders and follow-up do nothing.
- **Cancel.** `groupmeeting cancel [GROUPNAME]`: the meeting (and an open poll for a new time)
  is `cancelled`, and each member hears it with an `.ics` CANCEL for its UID.
- **Did you meet?** After the planned end (`meeting_nudges.FOLLOWUP_AFTER`, as for pairs; out
  of a quiet period, not to a paused mentor) the mentor is asked: yes → `held`; no → `missed`,
  which is not cancelled: the next poll plans the same meeting number again. The first answer
  decides; only the mentor or a coordinator may answer.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot import Turn
from bot.domain import Meeting, MeetingStatus, MentorGroup, OutboxItem, Person, Programme
from bot.engine import Outbound
from bot.i18n import Text, _l, _n
from bot.replies import Reply
from bot.services import people
from flows.contact import group_meetings, group_poll, meeting_nudges
from flows.contact.group_members import members_of, pick_group

ANSWERED = {
    MeetingStatus.HELD: _l(
        "I had already noted that group meeting {number} of {group} took place."
    ),
    MeetingStatus.MISSED: _l(
        "I had already noted that group meeting {number} of {group} did not take place."
    ),
    MeetingStatus.RESCHEDULED: _l(
        "Group meeting {number} of {group} has moved to another time since; I'll ask again "
        "after that."
    ),
    MeetingStatus.CANCELLED: _l(
        "Group meeting {number} of {group} was cancelled, so there is nothing to note."
    ),
    MeetingStatus.CONFIRMED: _l(
        "Group meeting {number} of {group} has not taken place yet; I'll ask after it."
    ),
}
"""The reply to an answer that comes too late (or, typed, too early), by the meeting's status."""


def groupmeeting(turn: Turn, args: tuple[str, ...]) -> None:
    """`groupmeeting [GROUPNAME]` plans a group meeting (`group_poll.plan`);
    `groupmeeting move [GROUPNAME]` and `groupmeeting cancel [GROUPNAME]` change the one
    planned."""
    action = args[0].casefold() if args else ""
    if action == "move":
        move(turn, args[1:])
    elif action == "cancel":
        cancel(turn, args[1:])
    else:
        group_poll.plan(turn, args)


def _ahead(session: Session, group_id: int, now: datetime) -> Meeting | None:
    """The group's confirmed meeting still ahead, if any."""
    return session.exec(
        select(Meeting)
        .where(
            Meeting.group_id == group_id,
            Meeting.status == MeetingStatus.CONFIRMED,
            col(Meeting.starts_at) > now,
        )
        .order_by(col(Meeting.starts_at))
    ).first()


def move_poll_of(session: Session, meeting: Meeting) -> Meeting | None:
    """The open poll for a new time of this chosen meeting, if any."""
    polls = session.exec(
        select(Meeting).where(
            Meeting.group_id == meeting.group_id, Meeting.status == MeetingStatus.PROPOSED
        )
    ).all()
    return next((p for p in polls if (p.confirmations or {}).get("replaces") == meeting.id), None)


def _planned(turn: Turn, args: tuple[str, ...], action: str) -> tuple[MentorGroup, Meeting] | None:
    group = pick_group(turn, args, action)
    if group is None:
        return None
    assert group.id is not None
    meeting = _ahead(turn.session, group.id, turn.now)
    if meeting is None:
        turn.say(
            _l(
                "No meeting of {group} is planned ahead, so there is nothing to move or cancel.",
                group=group.name,
            )
        )
        return None
    return group, meeting


def move(turn: Turn, args: tuple[str, ...]) -> None:
    """`groupmeeting move [GROUPNAME]`: a poll for a new time of the meeting planned."""
    found = _planned(turn, args, "move")
    if found is None:
        return
    group, meeting = found
    if move_poll_of(turn.session, meeting) is not None:
        turn.say(_l("A poll for a meeting of {group} is still open.", group=group.name))
        return
    group_poll.start_poll(turn, group, previous=meeting)


def cancel(turn: Turn, args: tuple[str, ...]) -> None:
    """`groupmeeting cancel [GROUPNAME]`: the meeting planned is cancelled, and every member
    gets a calendar cancellation."""
    found = _planned(turn, args, "cancel")
    if found is None:
        return
    group, meeting = found
    session = turn.session
    meeting.status = MeetingStatus.CANCELLED
    meeting.ics_sequence += 1
    session.add(meeting)
    poll = move_poll_of(session, meeting)
    if poll is not None:
        poll.status = MeetingStatus.CANCELLED
        session.add(poll)
    programme = session.get(Programme, meeting.programme_id)
    assert programme is not None
    members = members_of(session, group)
    for person_id in members:
        text = _l(
            "Group meeting {number} of {group} on {when} (your time) is cancelled. The "
            "attached file removes it from your calendar.",
            number=meeting.number,
            group=group.name,
            when=meeting.starts_at,
        )
        attachment = group_meetings.invite(
            session,
            meeting,
            group,
            programme,
            person_id,
            turn.now,
            turn.engine.translator,
            cancel=True,
        )
        turn.tell(person_id, Reply(text, files=(attachment,)))
    turn.say(
        _n(
            "Group meeting {number} of {group} is cancelled; I've let its {count} member know.",
            "Group meeting {number} of {group} is cancelled; I've let its {count} members know.",
            len(members),
            number=meeting.number,
            group=group.name,
        )
    )


# -- the jobs: reminders before, "did you meet?" after ---------------------------------------


def _chosen(session: Session, item: OutboxItem) -> tuple[Meeting, MentorGroup] | None:
    """The job's meeting and group, if the meeting is still confirmed (not moved, cancelled or
    answered)."""
    meeting = session.get(Meeting, item.payload["meeting"])
    if meeting is None or meeting.group_id is None or meeting.status != MeetingStatus.CONFIRMED:
        return None
    group = session.get(MentorGroup, meeting.group_id)
    return (meeting, group) if group is not None else None


def remind(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
    """A reminder to every member who has not paused, unless the meeting moved or passed."""
    found = _chosen(session, item)
    if found is None or now >= found[0].starts_at:
        return []
    meeting, group = found
    hours = max(1, round((meeting.starts_at - now).total_seconds() / 3600))
    return [
        Outbound(
            person_id,
            Reply(
                _n(
                    "A reminder: group meeting {number} of {group} starts in {count} hour, on "
                    "{when}.",
                    "A reminder: group meeting {number} of {group} starts in {count} hours, on "
                    "{when}.",
                    hours,
                    number=meeting.number,
                    group=group.name,
                    when=meeting.starts_at,
                )
            ),
        )
        for person_id in members_of(session, group)
        if not people.is_paused(session.get(Person, person_id), now)
    ]


def followup(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
    """Ask the mentor whether the meeting took place (in a quiet period: at its end)."""
    found = _chosen(session, item)
    programme = session.get(Programme, found[0].programme_id) if found else None
    if found is None or programme is None:
        return []
    if meeting_nudges.postponed(session, item, programme, now):
        return []
    meeting, group = found
    meeting.confirmations = {**(meeting.confirmations or {}), "followup_at": now.isoformat()}
    session.add(meeting)
    if people.is_paused(session.get(Person, group.mentor_id), now):
        return []
    text = _l(
        "Did group meeting {number} of {group} on {when} (your time) take place?",
        number=meeting.number,
        group=group.name,
        when=meeting.starts_at,
    )
    reply = Reply(text, choices=meeting_nudges.MET_ANSWERS, choice_token=f"c:groupmet:{meeting.id}")
    return [Outbound(group.mentor_id, reply)]


def groupmet(turn: Turn, args: tuple[str, ...]) -> None:
    """`groupmet <meeting> yes|no`: the buttons under "did you meet?"."""
    session = turn.session
    meeting = session.get(Meeting, int(args[0])) if args and args[0].isdigit() else None
    group = session.get(MentorGroup, meeting.group_id) if meeting and meeting.group_id else None
    answer = args[1] if len(args) > 1 else ""
    if meeting is None or group is None or answer not in ("yes", "no"):
        turn.say(_l("That button no longer works. Send me a message to continue."))
        return
    if turn.person_id != group.mentor_id and not people.is_coordinator(
        session, turn.person_id, meeting.programme_id
    ):
        turn.say(
            _l("Only the mentor of {group} or a coordinator can answer this.", group=group.name)
        )
        return
    params = {"number": meeting.number, "group": group.name}
    if meeting.status != MeetingStatus.CONFIRMED or turn.now < meeting.starts_at:
        stale = ANSWERED.get(MeetingStatus(meeting.status))
        turn.say(
            Text(stale.msgid, params)
            if stale
            else _l("That button no longer works. Send me a message to continue.")
        )
        return
    meeting.confirmations = {
        **(meeting.confirmations or {}),
        "met": {str(turn.person_id): answer == "yes"},
        "met_at": turn.now.isoformat(),
    }
    poll = move_poll_of(session, meeting)
    if answer == "yes":
        meeting.status = MeetingStatus.HELD
        if poll is not None:  # it took place after all: no new time needed
            poll.status = MeetingStatus.CANCELLED
            session.add(poll)
        turn.say(
            _l(
                "Good to hear group meeting {number} of {group} took place! I've noted it.",
                **params,
            )
        )
    else:
        meeting.status = MeetingStatus.MISSED
        if poll is not None:
            text = _l(
                "Thanks for letting me know — that happens. Group meeting {number} of {group} "
                "is not cancelled: the poll for a new time is still open.",
                **params,
            )
        else:
            text = _l(
                "Thanks for letting me know — that happens. Group meeting {number} of {group} "
                "is not cancelled: type 'groupmeeting' (coordinators: 'groupmeeting {group}') "
                "to find a new time for it.",
                **params,
            )
        turn.say(text)
    session.add(meeting)


JOBS = {group_meetings.REMIND: remind, group_meetings.FOLLOWUP: followup}
