"""A pair's state over the store: where it stands (starting, planned, waiting, stalled...),
for one pair, many, or every active pair of a programme as plain rows; and the stalled-pair
rules, with the escalation steps taken since the pair last recovered. Plain functions; the
stalled check's conversations live in `flows/contact/stalled.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, case, type_coerce
from sqlmodel import Session, col, select

from bot.domain import OPEN_MEETING, Escalation, Meeting, MeetingStatus, Pair, PairStatus, Programme
from bot.services.meetings import MeetingSettings, held_count, meetings_of
from bot.store import read


class PairState(StrEnum):
    STARTING = "starting"
    """The kennismakingsgids is not complete yet."""
    PROPOSED = "proposed"
    PLANNED = "planned"
    WAITING = "waiting"
    """A meeting has passed and nobody said yet whether it took place."""
    UNPLANNED = "unplanned"
    STALLED = "stalled"
    FINISHED = "finished"
    ENDED = "ended"


def state_of(session: Session, pair: Pair, now: datetime) -> PairState:
    if pair.status != PairStatus.ACTIVE:
        return PairState.ENDED
    assert pair.id is not None
    programme = session.get(Programme, pair.programme_id)
    return pair_state(pair, meetings_of(session, pair.id), programme, now)


def states_of(
    programme: Programme, pairs: Sequence[Pair], meetings: dict[int, list[Meeting]], now: datetime
) -> dict[int, PairState]:
    """`state_of` for pairs of `programme`, from their meetings (`meetings_of_pairs`)."""
    settings = MeetingSettings.of(programme)
    return {
        pair.id or 0: pair_state(pair, meetings.get(pair.id or 0, []), programme, now, settings)
        for pair in pairs
    }


def pair_state(
    pair: Pair,
    meetings: Sequence[Meeting],
    programme: Programme | None,
    now: datetime,
    settings: MeetingSettings | None = None,
) -> PairState:
    """A pair's state from its meetings (all of them, as `meetings_of` reads them)."""
    if pair.status != PairStatus.ACTIVE:
        return PairState.ENDED
    if programme is not None:
        rules = stalled_rules(pair, meetings, settings or MeetingSettings.of(programme), now)
        if rules:
            return PairState.STALLED
    if "mentor" not in pair.guide or "mentee" not in pair.guide:
        return PairState.STARTING
    current = max(
        (m for m in meetings if m.status in OPEN_MEETING), key=lambda m: m.id or 0, default=None
    )
    if current is not None and current.status == MeetingStatus.PROPOSED:
        return PairState.PROPOSED
    if current is not None:
        return PairState.PLANNED if current.starts_at > now else PairState.WAITING
    if programme is not None and held_count(meetings) >= programme.meetings:
        return PairState.FINISHED
    return PairState.UNPLANNED


_ACTIVE_PAIR_ROWS = (
    select(Pair.id, Pair.mentor_id, Pair.mentee_id, Pair.status, Pair.matched_at, Pair.guide)
    .where(Pair.programme_id == bindparam("programme"), Pair.status == PairStatus.ACTIVE)
    .order_by(col(Pair.id))
)
_ACTIVE_MEETING_ROWS = (
    select(Meeting.id, Meeting.pair_id, Meeting.status, Meeting.starts_at, Meeting.confirmations)
    .join(Pair, col(Pair.id) == Meeting.pair_id)
    .where(Pair.programme_id == bindparam("programme"), Pair.status == PairStatus.ACTIVE)
    .order_by(col(Meeting.starts_at), col(Meeting.id))
)


def active_pair_rows(session: Session, programme_id: int) -> tuple[list[Any], dict[int, list[Any]]]:
    """`active_pairs` and their `meetings_of_pairs` as plain rows, for overviews that only
    read them: each row has the attributes `pair_state`, `stalled_rules`, `open_escalations`
    and `stalled_days` read (a pair's id, members, status, `matched_at` and guide; a
    meeting's id, status, `starts_at` and confirmations), without the cost of loading objects."""
    params = {"programme": programme_id}
    pairs = list(read(session, _ACTIVE_PAIR_ROWS, params))
    meetings: dict[int, list[Any]] = {}
    for meeting in read(session, _ACTIVE_MEETING_ROWS, params):
        meetings.setdefault(meeting.pair_id, []).append(meeting)
    return pairs, meetings


class Rule(StrEnum):
    NO_FIRST_MEETING = "no_first_meeting"
    MISSED_IN_ROW = "missed_in_row"
    SILENCE = "silence"


def _waiting_since(meeting: Meeting) -> datetime | None:
    """Since when Maatje waits for an answer about `meeting` (a proposal not confirmed by both,
    or "did you meet?" unanswered)."""
    answers = meeting.confirmations or {}
    if meeting.status == MeetingStatus.PROPOSED and answers.get("asked_at"):
        return datetime.fromisoformat(answers["asked_at"])
    if (
        meeting.status == MeetingStatus.CONFIRMED
        and answers.get("followup_at")
        and not answers.get("met")
    ):
        return datetime.fromisoformat(answers["followup_at"])
    return None


def stalled_rules(
    pair: Pair, meetings: Sequence[Meeting], settings: MeetingSettings, now: datetime
) -> list[Rule]:
    """The stalled-pair rules that hold for this pair now (rules set to 0 are off). Days are
    counted outside quiet periods."""
    fired: list[Rule] = []
    upcoming = any(m.status == MeetingStatus.CONFIRMED and m.starts_at > now for m in meetings)
    if (
        settings.first_meeting_days
        and held_count(meetings) == 0
        and not upcoming
        and settings.elapsed(pair.matched_at, now) >= timedelta(days=settings.first_meeting_days)
    ):
        fired.append(Rule.NO_FIRST_MEETING)
    finished = [m for m in meetings if m.status in (MeetingStatus.HELD, MeetingStatus.MISSED)]
    finished.sort(key=lambda m: m.starts_at)
    k = settings.missed_in_row
    if k and len(finished) >= k and all(m.status == MeetingStatus.MISSED for m in finished[-k:]):
        fired.append(Rule.MISSED_IN_ROW)
    if settings.silence_days:
        since = [s for m in meetings if (s := _waiting_since(m)) is not None]
        if since and settings.elapsed(min(since), now) >= timedelta(days=settings.silence_days):
            fired.append(Rule.SILENCE)
    return fired


def stalled_days(pair: Pair, meetings: Sequence[Meeting], rule: Rule, now: datetime) -> int:
    """Days (rounded, on the calendar) the rule's stretch has lasted: since matching, or since
    Maatje has been waiting for an answer."""
    start = pair.matched_at
    if rule is Rule.SILENCE:
        start = min((s for m in meetings if (s := _waiting_since(m)) is not None), default=now)
    return round((now - start).total_seconds() / 86400)


def is_stalled(session: Session, pair: Pair, now: datetime) -> list[Rule]:
    programme = session.get(Programme, pair.programme_id)
    if programme is None or pair.status != PairStatus.ACTIVE or pair.id is None:
        return []
    return stalled_rules(pair, meetings_of(session, pair.id), MeetingSettings.of(programme), now)


_STALLED_FACTS = (
    select(
        col(Pair.id).label("pair_id"),
        Pair.matched_at,
        Meeting.status,
        Meeting.starts_at,
        # only an open meeting's answers count (`_waiting_since`): the others' are not parsed
        type_coerce(
            case((col(Meeting.status).in_(OPEN_MEETING), Meeting.confirmations)),
            Meeting.__table__.c.confirmations.type,  # type: ignore[attr-defined]
        ).label("confirmations"),
    )
    .select_from(Pair)
    .outerjoin(Meeting, col(Meeting.pair_id) == Pair.id)
    .where(Pair.programme_id == bindparam("programme"), Pair.status == PairStatus.ACTIVE)
    .order_by(col(Pair.id), col(Meeting.starts_at), col(Meeting.id))
)
"""Each active pair of a programme with each of its meetings (one row with no meeting for a
pair without any), in `meetings_of`'s order: what `stalled_rules` reads, as plain rows (the
answers of open meetings only)."""


def stalled_pairs(
    session: Session, programme_id: int, settings: MeetingSettings, now: datetime
) -> list[int]:
    """The ids (ascending) of the programme's active pairs for which a stalled rule holds now
    (`stalled_rules`), decided from plain rows read in one statement: the daily check loads
    only these pairs as objects, instead of every pair, meeting and member every day."""
    pairs: dict[int, tuple[Any, list[Any]]] = {}
    for row in read(session, _STALLED_FACTS, {"programme": programme_id}):
        found = pairs.get(row.pair_id)
        if found is None:
            found = pairs[row.pair_id] = (row, [])
        if row.status is not None:  # the outer join's row of a pair without meetings
            found[1].append(row)
    # a row has the attributes `stalled_rules` reads: the pair's `matched_at`, the meeting's
    # `status`, `starts_at` and `confirmations`
    return [
        pair_id
        for pair_id, (pair, meetings) in pairs.items()
        if stalled_rules(pair, meetings, settings, now)
    ]


def escalations_of(session: Session, pair_id: int) -> Sequence[Escalation]:
    return session.exec(
        select(Escalation).where(Escalation.pair_id == pair_id).order_by(col(Escalation.at))
    ).all()


def last_recovery(pair: Pair, meetings: Sequence[Meeting]) -> datetime:
    """Since when the pair's current stretch counts: matching, or the last meeting held."""
    held = [m.starts_at for m in meetings if m.status == MeetingStatus.HELD]
    return max([pair.matched_at, *held])


def open_escalations(session: Session, pair: Pair, meetings: Sequence[Meeting]) -> list[Escalation]:
    """Escalation steps (level ≥ 1) taken since the pair last recovered."""
    since = last_recovery(pair, meetings)
    assert pair.id is not None
    return [e for e in escalations_of(session, pair.id) if e.level >= 1 and e.at >= since]
