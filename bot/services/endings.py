"""Ending pairs: requests to end one, what the coordinators' review sees, and the ending itself.

A request comes from the fit check ("it doesn't work"), from the stalled check (a pair still
stalled after the last escalation step) or from a participant (`end pair`). It waits for the
coordinators' review: the next `match` lists the pairs that asked to end above a proposal in
which their mentees are free again, and approving it ends them all. A coordinator can keep a
pair instead (`match keep`). A stalled pair's request lapses when the pair meets again; a person
who answers the fit check more hopefully later withdraws theirs.

An ended pair is remembered (the row stays, `ended`): matching never proposes that mentee to
that mentor again. A mentor whose pairs all stalled has gone quiet: matching gives them no new
mentees (`gone_quiet`), or the mentees they leave would be handed to one another's silence.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from bot.domain import (
    EndRequest,
    EndSource,
    GroupMember,
    Meeting,
    MeetingStatus,
    Pair,
    PairStatus,
)

ENDED = "ended"
KEPT = "kept"
WITHDRAWN = "withdrawn"
RECOVERED = "recovered"


def request(
    session: Session,
    pair: Pair,
    source: EndSource,
    now: datetime,
    person_id: int | None = None,
    reason: str | None = None,
) -> EndRequest | None:
    """Record a request to end `pair` (None when the pair is no longer active). One open
    request per pair, source and person: asking again replaces the reason."""
    assert pair.id is not None
    if pair.status != PairStatus.ACTIVE:
        return None
    row = session.exec(
        select(EndRequest).where(
            EndRequest.pair_id == pair.id,
            EndRequest.source == source,
            EndRequest.person_id == person_id,
            col(EndRequest.resolved_at).is_(None),
        )
    ).first() or EndRequest(
        programme_id=pair.programme_id, pair_id=pair.id, person_id=person_id, source=source, at=now
    )
    if reason is not None:
        row.reason = reason[:1000]
    session.add(row)
    session.flush()
    return row


def requests_of(session: Session, pair_id: int) -> Sequence[EndRequest]:
    """Every request about a pair, oldest first (for its timeline)."""
    return session.exec(
        select(EndRequest).where(EndRequest.pair_id == pair_id).order_by(col(EndRequest.at))
    ).all()


_OPEN_REQUESTS = (
    select(EndRequest, Pair)
    .join(Pair, col(Pair.id) == EndRequest.pair_id)
    .where(
        EndRequest.programme_id == bindparam("programme"),
        col(EndRequest.resolved_at).is_(None),
        Pair.status == PairStatus.ACTIVE,
    )
    .order_by(col(Pair.id), col(EndRequest.at))
)


def open_requests(
    session: Session, programme_id: int, now: datetime
) -> list[tuple[Pair, list[EndRequest]]]:
    """Active pairs of the programme with open requests, in pair order, with their requests.
    A stalled pair that held a meeting after it was put forward is no longer asked about."""
    rows = session.exec(_OPEN_REQUESTS, params={"programme": programme_id}).all()
    found: dict[int, tuple[Pair, list[EndRequest]]] = {}
    for row, pair in rows:
        if row.source == EndSource.STALLED and _met_since(session, pair, row.at):
            _close(session, row, RECOVERED, now)
            continue
        found.setdefault(row.pair_id, (pair, []))[1].append(row)
    return list(found.values())


def _met_since(session: Session, pair: Pair, moment: datetime) -> bool:
    return (
        session.exec(
            select(Meeting.id).where(
                Meeting.pair_id == pair.id,
                Meeting.status == MeetingStatus.HELD,
                col(Meeting.starts_at) > moment,
            )
        ).first()
        is not None
    )


def _close(session: Session, row: EndRequest, outcome: str, now: datetime) -> None:
    row.resolved_at, row.outcome = now, outcome
    session.add(row)


def resolve(
    session: Session,
    pair_id: int,
    outcome: str,
    now: datetime,
    *,
    person_id: int | None = None,
    source: EndSource | None = None,
) -> int:
    """Close the open requests of a pair (only one person's, or one source's, when given);
    returns how many were open."""
    query = select(EndRequest).where(
        EndRequest.pair_id == pair_id, col(EndRequest.resolved_at).is_(None)
    )
    if person_id is not None:
        query = query.where(EndRequest.person_id == person_id)
    if source is not None:
        query = query.where(EndRequest.source == source)
    rows = session.exec(query).all()
    for row in rows:
        _close(session, row, outcome, now)
    return len(rows)


def end_pair(session: Session, pair: Pair, now: datetime) -> bool:
    """End an active pair: the mentee leaves the mentor's group and open requests are resolved.
    False when the pair had ended already."""
    assert pair.id is not None
    if pair.status != PairStatus.ACTIVE:
        return False
    pair.status = PairStatus.ENDED
    session.add(pair)
    member = session.exec(
        select(GroupMember).where(
            GroupMember.group_id == pair.group_id, GroupMember.person_id == pair.mentee_id
        )
    ).first()
    if member is not None:
        session.delete(member)
    resolve(session, pair.id, ENDED, now)
    return True


def gone_quiet(
    session: Session, programme_id: int, ending: Sequence[tuple[Pair, Sequence[EndRequest]]]
) -> set[int]:
    """Mentors to give no new mentees: every active pair of theirs asks to end because it
    stalled (`ending`: the pairs in the review, with their requests), or they have no active
    pair left and the last of theirs to end ended that way. A coordinator who knows they are
    back gives them a mentee with `match move`."""
    stalled = {
        pair.id for pair, requests in ending if any(r.source == EndSource.STALLED for r in requests)
    }
    active: dict[int, list[int | None]] = {}
    for pair_id, mentor_id in session.exec(
        select(Pair.id, Pair.mentor_id).where(
            Pair.programme_id == programme_id, Pair.status == PairStatus.ACTIVE
        )
    ):
        active.setdefault(mentor_id, []).append(pair_id)
    quiet = {mentor for mentor, pairs in active.items() if all(p in stalled for p in pairs)}
    last_ending: dict[int, str] = {}
    for mentor_id, source in session.exec(
        select(Pair.mentor_id, EndRequest.source)
        .join(Pair, col(Pair.id) == EndRequest.pair_id)
        .where(
            EndRequest.programme_id == programme_id,
            EndRequest.outcome == ENDED,
            Pair.status == PairStatus.ENDED,
        )
        .order_by(col(EndRequest.resolved_at), col(EndRequest.id))
    ):
        last_ending[mentor_id] = source
    quiet |= {
        mentor
        for mentor, source in last_ending.items()
        if mentor not in active and source == EndSource.STALLED
    }
    return quiet


def ended_pairs(session: Session, programme_id: int) -> set[tuple[int, int]]:
    """(mentee, mentor) of every pair of the programme that has ended: never proposed again."""
    return {
        (mentee, mentor)
        for mentee, mentor in session.exec(
            select(Pair.mentee_id, Pair.mentor_id).where(
                Pair.programme_id == programme_id, Pair.status != PairStatus.ACTIVE
            )
        ).all()
    }


def were_matched(session: Session, programme_id: int, mentee_id: int, mentor_id: int) -> bool:
    """Whether this mentee and mentor were a pair in the programme before (any status)."""
    return (
        session.exec(
            select(Pair.id).where(
                Pair.programme_id == programme_id,
                Pair.mentee_id == mentee_id,
                Pair.mentor_id == mentor_id,
            )
        ).first()
        is not None
    )
