"""Before and after a confirmed meeting: reminders, the mentor's agenda and the mentee's
reflection questions the day before, and "did you meet?" afterwards.

Everything is an outbox row keyed by meeting and purpose, written when the meeting is
confirmed, so a restart or a second confirmation never sends anything twice. Each job looks at
the meeting again when it runs: a meeting that moved, was cancelled or already started gets no
reminder. In a quiet period nothing is sent; the row moves to the end of the period (08:00 on
the first day after it). A person who paused gets no reminders until their pause ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot import outbox
from bot.domain import Meeting, MeetingStatus, OutboxItem, Pair, PairStatus, Person, Programme
from bot.engine import Outbound
from bot.i18n import Text, _l, _n
from bot.replies import Option, Reply
from bot.services import meetings as store
from bot.services import pairs as pair_store
from bot.services import people, scheduling
from flows.contact import meeting_messages as msg

NUDGE = "meeting.nudge"
PREPARE = "meeting.prepare"
FOLLOWUP = "meeting.followup"
FOLLOWUP_AFTER = timedelta(hours=1)
"""How long after a meeting's planned end Maatje asks whether it took place."""
MET_ANSWERS = (Option("yes", _l("Yes, we met")), Option("no", _l("No, it didn't happen")))


def schedule(session: Session, meeting: Meeting, programme: Programme, now: datetime) -> None:
    """Write the reminders, the preparation and the follow-up of a confirmed meeting."""
    settings = store.MeetingSettings.of(programme)
    zone = programme.timezone

    def at(due: datetime) -> datetime:
        return scheduling.after_quiet(max(due, now), settings.quiet, zone)

    def row(kind: str, purpose: str, due: datetime, **payload: object) -> dict[str, object]:
        return {
            "kind": kind,
            "payload": {"meeting": meeting.id, **payload},
            "idempotency_key": f"meeting:{meeting.id}:{purpose}",
            "due_at": due,
            "created_at": now,
        }

    start = meeting.starts_at
    rows = [
        row(NUDGE, f"nudge:{hours}", at(due), hours=hours)
        for hours in settings.nudge_hours
        if (due := start - timedelta(hours=hours)) > now and at(due) < start
    ]
    if at(start - timedelta(hours=24)) < start:
        rows.append(row(PREPARE, "prepare", at(start - timedelta(hours=24))))
    end = start + timedelta(minutes=meeting.duration_minutes)
    rows.append(row(FOLLOWUP, "followup", at(end + FOLLOWUP_AFTER)))
    outbox.enqueue_many(session, rows)


_MENTOR = aliased(Person)
_MENTEE = aliased(Person)
_LOAD = (
    select(
        Meeting,
        Programme,
        col(Pair.status).label("pair_status"),
        Pair.mentor_id,
        Pair.mentee_id,
        col(_MENTOR.display_name).label("mentor_name"),
        col(_MENTOR.paused_until).label("mentor_paused"),
        col(_MENTEE.display_name).label("mentee_name"),
        col(_MENTEE.paused_until).label("mentee_paused"),
    )
    .join(Pair, col(Pair.id) == Meeting.pair_id)
    .join(Programme, col(Programme.id) == Meeting.programme_id)
    .outerjoin(_MENTOR, col(_MENTOR.id) == Pair.mentor_id)
    .outerjoin(_MENTEE, col(_MENTEE.id) == Pair.mentee_id)
    .where(Meeting.id == bindparam("meeting"))
)


@dataclass(frozen=True)
class _Pair:
    """A meeting's pair as its jobs read it: the members' ids (`mentor_id`, `mentee_id`, as on
    a `Pair`, for `store.other_of`), names and pauses."""

    mentor_id: int
    mentee_id: int
    names: dict[int, str | None]
    paused: dict[int, datetime | None]

    def name(self, person_id: int) -> str:
        return people.shown_name(self.names.get(person_id), person_id)

    def awake(self, person_id: int, now: datetime) -> bool:
        return not people.paused_at(self.paused.get(person_id), now)


def _load(session: Session, item: OutboxItem) -> tuple[Meeting, _Pair, Programme] | None:
    """The confirmed meeting of an active pair, its pair and the programme, in one statement
    (the pair and its members as the few columns the jobs read, not as objects)."""
    row = session.exec(_LOAD, params={"meeting": item.payload["meeting"]}).first()
    if row is None:
        return None
    meeting, programme = row[0], row[1]
    if meeting.status != MeetingStatus.CONFIRMED or row.pair_status != PairStatus.ACTIVE:
        return None
    ids = (row.mentor_id, row.mentee_id)
    pair = _Pair(
        row.mentor_id,
        row.mentee_id,
        dict(zip(ids, (row.mentor_name, row.mentee_name), strict=True)),
        dict(zip(ids, (row.mentor_paused, row.mentee_paused), strict=True)),
    )
    return meeting, pair, programme


def postponed(session: Session, item: OutboxItem, programme: Programme, now: datetime) -> bool:
    """In a quiet period: schedule this action again at its end and do nothing now (the group
    meetings' follow-up uses it too)."""
    quiet = store.MeetingSettings.of(programme).quiet
    if scheduling.quiet_at(now, quiet, programme.timezone) is None:
        return False
    later = scheduling.after_quiet(now, quiet, programme.timezone)
    outbox.enqueue(
        session, item.kind, item.payload, f"{item.idempotency_key}:after-quiet", later, now
    )
    return True


def _overtaken(meeting: Meeting, programme: Programme, item: OutboxItem, now: datetime) -> bool:
    """A late reminder (the process was down, or the clock jumped) whose shorter successor is
    due as well: only the successor is sent."""
    hours = item.payload.get("hours", 0)
    shorter = [h for h in store.MeetingSettings.of(programme).nudge_hours if h < hours]
    return any(now >= meeting.starts_at - timedelta(hours=h) for h in shorter)


def nudge(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
    loaded = _load(session, item)
    if loaded is None or now >= loaded[0].starts_at:
        return []
    meeting, pair, programme = loaded
    if postponed(session, item, programme, now) or _overtaken(meeting, programme, item, now):
        return []
    hours = max(1, round((meeting.starts_at - now).total_seconds() / 3600))
    messages = []
    for person_id in (pair.mentor_id, pair.mentee_id):
        if not pair.awake(person_id, now):
            continue
        text = _n(
            "A reminder: meeting {number} with {other} starts in {count} hour, on {when}.",
            "A reminder: meeting {number} with {other} starts in {count} hours, on {when}.",
            hours,
            number=meeting.number,
            other=pair.name(pair_store.other_of(pair, person_id)),
            when=meeting.starts_at,
        )
        messages.append(Outbound(person_id, Reply(text)))
    return messages


def prepare(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
    """The mentor's agenda and the mentee's reflection questions, the day before."""
    loaded = _load(session, item)
    if loaded is None or now >= loaded[0].starts_at:
        return []
    meeting, pair, programme = loaded
    if postponed(session, item, programme, now):
        return []
    theme, exercise = msg.agenda(programme, meeting.number)
    messages = []
    if pair.awake(pair.mentor_id, now):
        text = _l(
            "For meeting {number} with {mentee} on {when}, a suggested agenda.\n"
            "Theme: {theme}\nExercise: {exercise}\n"
            "You know best what fits; use as much of it as helps.",
            number=meeting.number,
            mentee=pair.name(pair.mentee_id),
            theme=theme,
            exercise=exercise,
            when=meeting.starts_at,
        )
        messages.append(Outbound(pair.mentor_id, Reply(text)))
    if pair.awake(pair.mentee_id, now):
        messages.append(Outbound(pair.mentee_id, Reply(_reflection(meeting, pair))))
    return messages


def _reflection(meeting: Meeting, pair: _Pair) -> Text:
    """The mentee's questions the day before; the first meeting has no "last time" yet."""
    params = {
        "number": meeting.number,
        "mentor": pair.name(pair.mentor_id),
        "when": meeting.starts_at,
    }
    if meeting.number == 1:
        return _l(
            "To prepare for your first meeting with {mentor} on {when}, three short questions "
            "to think about (no need to send me your answers):\n"
            "• What do you hope to get out of this mentorship?\n"
            "• What would you like to know about {mentor}?\n"
            "• What would you most like to talk about this first time?",
            **params,
        )
    return _l(
        "To prepare for meeting {number} with {mentor} on {when}, three short "
        "questions to think about (no need to send me your answers):\n"
        "• What went well since you last spoke?\n"
        "• What was difficult or surprising?\n"
        "• What would you most like to talk about this time?",
        **params,
    )


def followup(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
    """Ask both whether the meeting took place."""
    loaded = _load(session, item)
    if loaded is None:
        return []
    meeting, pair, programme = loaded
    if postponed(session, item, programme, now):
        return []
    answers = store.confirmations(meeting)
    answers["followup_at"] = now.isoformat()
    meeting.confirmations = answers
    session.add(meeting)
    messages = []
    for person_id in (pair.mentor_id, pair.mentee_id):
        if not pair.awake(person_id, now):
            continue
        text = _l(
            "Did meeting {number} with {other} take place?",
            number=meeting.number,
            other=pair.name(pair_store.other_of(pair, person_id)),
        )
        reply = Reply(text, choices=MET_ANSWERS, choice_token=f"c:met:{meeting.id}")
        messages.append(Outbound(person_id, reply))
    return messages


JOBS = {NUDGE: nudge, PREPARE: prepare, FOLLOWUP: followup}
