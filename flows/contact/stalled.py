"""Stalled pairs: a daily check per programme, and escalation in steps.

Rules (per programme, 0 switches one off): no meeting held N days after matching (unless a
confirmed meeting is still ahead); the last N meetings did not take place; Maatje's questions
unanswered for N days. A pair that meets a rule gets, at most once per `stalled_step_days`,
the next step: 1 a friendly nudge in the pair space, 2 a message to the mentor, 3 the
coordinators. Every step is an `Escalation` row; a meeting held closes the episode, so the
next stall starts again at step 1. A pair still stalled `stalled_step_days` after step 3 goes
into the coordinators' matching review (an end request: `match` proposes a new mentor for the
mentee), once per episode. A pair with a paused member is left alone.

Quiet periods: nothing is checked or sent on a quiet day, and days are counted outside quiet
periods (a two-week holiday neither makes a pair stalled nor brings the next step closer).
Messages name the real number of days.

The check is an outbox job that schedules its own next run (09:00 programme time, keyed by
date), so it survives restarts and moves with the test clock. It also sends a calendar
cancellation for confirmed meetings still ahead of pairs that ended (a meeting already begun
keeps its "did you meet?").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from bot import outbox
from bot.domain import (
    EndSource,
    Escalation,
    Meeting,
    MeetingStatus,
    OutboxItem,
    Pair,
    PairStatus,
    Person,
    Programme,
)
from bot.engine import Outbound
from bot.i18n import Text, _l, _n
from bot.replies import Reply
from bot.services import endings, pair_states, people, scheduling
from bot.services import meetings as store
from bot.services import pairs as pair_store
from flows.contact import meeting_messages as msg
from flows.ending import closing
from flows.evaluation import mentor_reflection

DAILY = "meetings.daily"
RUN_AT = time(9, 0)
TOP_LEVEL = 3
T = TypeVar("T")


def next_run(now: datetime, timezone: str, weekday: int | None = None) -> datetime:
    """The next 09:00 in `timezone` after `now` (on `weekday`, 0 = Monday, when given)."""
    zone = ZoneInfo(timezone)
    day = now.astimezone(zone).date()
    while True:
        moment = datetime.combine(day, RUN_AT, zone)
        if moment > now and (weekday is None or day.weekday() == weekday):
            return moment.astimezone(ZoneInfo("UTC"))
        day += timedelta(days=1)


def ensure_daily(session: Session, programme: Programme, now: datetime) -> None:
    due = next_run(now, programme.timezone)
    key = f"{DAILY}:{programme.id}:{due.astimezone(ZoneInfo(programme.timezone)).date()}"
    outbox.enqueue(session, DAILY, {"programme": programme.id}, key, due, now)
    closing.ensure_scheduled(session, programme, now)  # the end-date job (flows/ending/closing.py)
    mentor_reflection.ensure_scheduled(session, programme, now)  # the mentors' quarterly


def reason(rule: pair_states.Rule, settings: store.MeetingSettings, days: int) -> Text:
    """Why a pair is stalled, in words; `days` is how long the stretch has really lasted."""
    if rule is pair_states.Rule.NO_FIRST_MEETING:
        return _l("no meeting has taken place yet, {days} days after matching", days=days)
    if rule is pair_states.Rule.MISSED_IN_ROW:
        return _n(
            "the last meeting did not take place",
            "the last {count} meetings did not take place",
            settings.missed_in_row,
        )
    return _l("my questions about your meetings have had no answer for {days} days", days=days)


def daily(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
    programme = session.get(Programme, item.payload["programme"])
    if programme is None or not programme.settings.get("configured", True):
        return []
    messages: list[Outbound] = []
    settings = store.MeetingSettings.of(programme)
    if scheduling.quiet_at(now, settings.quiet, programme.timezone) is None:
        # only pairs a rule holds for can take a step (`check`): the others are not loaded
        stalled = pair_states.stalled_pairs(session, programme.id or 0, settings, now)
        pairs = _by_id(session, Pair, stalled)
        meetings = store.meetings_of_pairs(session, stalled)
        ids = sorted({m for p in pairs for m in (p.mentor_id, p.mentee_id)})
        known = {person.id: person for person in _by_id(session, Person, ids)}
        for pair in pairs:
            members = [known.get(pair.mentor_id), known.get(pair.mentee_id)]
            found = meetings.get(pair.id or 0, [])
            messages += check(session, pair, programme, now, found, members, settings)
    messages += _cancel_for_ended_pairs(session, programme, now)
    ensure_daily(session, programme, now)
    return messages


def _by_id(session: Session, model: type[T], ids: list[int]) -> list[T]:
    """Read many rows of `model` by id in a few queries, in the order of `ids` (ascending)."""
    found: list[T] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        key = col(model.id)  # type: ignore[attr-defined]
        found += session.exec(select(model).where(key.in_(chunk)).order_by(key)).all()
    return found


def check(
    session: Session,
    pair: Pair,
    programme: Programme,
    now: datetime,
    meetings: Sequence[Meeting] | None = None,
    members: Sequence[Person | None] | None = None,
    settings: store.MeetingSettings | None = None,
) -> list[Outbound]:
    """Take the next escalation step for `pair` if it is stalled and the last step is old
    enough. `meetings`, `members` (mentor, mentee) and the programme's `settings`: when the
    caller read them for many pairs at once."""
    assert pair.id is not None
    if members is None:
        members = [session.get(Person, p) for p in (pair.mentor_id, pair.mentee_id)]
    if any(people.is_paused(p, now) for p in members):
        return []
    settings = settings or store.MeetingSettings.of(programme)
    if meetings is None:
        meetings = store.meetings_of(session, pair.id)
    rules = pair_states.stalled_rules(pair, meetings, settings, now)
    if not rules:
        return []
    steps = pair_states.open_escalations(session, pair, meetings)
    if steps and settings.elapsed(steps[-1].at, now) < timedelta(days=settings.step_days):
        return []
    level = max((s.level for s in steps), default=0) + 1
    if level > TOP_LEVEL:
        _to_review(session, pair, meetings, now)
        return []
    rule = rules[0]
    session.add(Escalation(pair_id=pair.id, level=level, rule=rule.value, at=now, note=_note(rule)))
    why = reason(rule, settings, pair_states.stalled_days(pair, meetings, rule, now))
    return _messages(session, pair, programme, level, why, settings.step_days)


def _to_review(session: Session, pair: Pair, meetings: Sequence[Meeting], now: datetime) -> None:
    """Past the last step: put the pair in the matching review, once per stalled episode."""
    assert pair.id is not None
    since = pair_states.last_recovery(pair, meetings)
    earlier = endings.requests_of(session, pair.id)
    if not any(r.source == EndSource.STALLED and r.at >= since for r in earlier):
        endings.request(session, pair, EndSource.STALLED, now)


def _note(rule: pair_states.Rule) -> str:
    return {
        pair_states.Rule.NO_FIRST_MEETING: "no first meeting",
        pair_states.Rule.MISSED_IN_ROW: "missed meetings in a row",
        pair_states.Rule.SILENCE: "no answer",
    }[rule]


def _messages(
    session: Session, pair: Pair, programme: Programme, level: int, why: Text, step_days: int
) -> list[Outbound]:
    mentor = people.name(session, pair.mentor_id)
    mentee = people.name(session, pair.mentee_id)
    if level == 1:
        text = _l(
            "A friendly nudge from Maatje: {reason}. Could you two find a moment for your next "
            "meeting? Type 'meeting' to see it or to propose another time.",
            reason=why,
        )
        return msg.to_pair(session, pair, Reply(text))
    if level == 2:
        text = _l(
            "Could you get in touch with {mentee}? I noticed: {reason}. A short message often "
            "helps; type 'meeting' to see or change your next meeting.",
            mentee=mentee,
            reason=why,
        )
        return [Outbound(pair.mentor_id, Reply(text))]
    text = _l(
        "The pair {mentor} and {mentee} in {programme} seems stalled: {reason}. I have "
        "already nudged the pair and the mentor. Type 'pair {mentee}' for their timeline. If "
        "nothing changes in {days} days, the pair goes into the matching review, with a new "
        "mentor proposed for {mentee}.",
        mentor=mentor,
        mentee=mentee,
        programme=programme.name,
        reason=why,
        days=step_days,
    )
    return [
        Outbound(coordinator, Reply(text))
        for coordinator in people.coordinators_of(session, programme.id or 0)
    ]


_OPEN_OF_ENDED = (
    select(Meeting, Pair)
    .join(Pair, col(Pair.id) == Meeting.pair_id)
    .where(
        Meeting.programme_id == bindparam("programme"),
        col(Meeting.status).in_((MeetingStatus.CONFIRMED, MeetingStatus.PROPOSED)),
        Pair.status == PairStatus.ENDED,
    )
)
"""A programme's meetings still open of pairs that ended, with their pairs."""


def _cancel_for_ended_pairs(
    session: Session, programme: Programme, now: datetime
) -> list[Outbound]:
    rows = session.exec(_OPEN_OF_ENDED, params={"programme": programme.id}).all()
    # a confirmed meeting that has begun stays: "did you meet?" may still be answered
    rows = [(m, p) for m, p in rows if m.status == MeetingStatus.PROPOSED or m.starts_at > now]
    messages: list[Outbound] = []
    for meeting, pair in rows:
        was_confirmed = meeting.status == MeetingStatus.CONFIRMED
        meeting.status = MeetingStatus.CANCELLED
        meeting.ics_sequence += 1
        session.add(meeting)
        if not was_confirmed or meeting.starts_at <= now:
            continue
        for person_id in (pair.mentor_id, pair.mentee_id):
            text = _l(
                "Your match with {other} has ended, so meeting {number} on {when} is "
                "cancelled. The attached file removes it from your calendar.",
                other=people.name(session, pair_store.other_of(pair, person_id)),
                number=meeting.number,
                when=meeting.starts_at,
            )
            attachment = msg.invite(session, meeting, pair, person_id, now, cancel=True)
            messages.append(Outbound(person_id, Reply(text, files=(attachment,))))
    return messages


def coordinator_reminder(session: Session, pair: Pair, now: datetime) -> list[Outbound]:
    """`remind`: a coordinator's nudge to a pair, recorded on its timeline (level 0)."""
    assert pair.id is not None
    session.add(Escalation(pair_id=pair.id, level=0, rule="coordinator", at=now, note="remind"))
    text = _l(
        "A reminder from your coordinator: how are your meetings going? Type 'meeting' to see "
        "your next meeting or to propose another time."
    )
    return msg.to_pair(session, pair, Reply(text))
