"""Matching against the store: build profiles from intake answers, keep a proposal under review,
apply a coordinator's changes, and on approval create groups and pairs and plan their spaces.

Nothing is created before approval. Mentees already in an active pair are not proposed again;
mentors offer the seats they have left, so a later intake is matched into an existing group.
Pairs that asked to end (bot/services/endings.py) are reviewed with the proposal: their mentees
are proposed again, never to a mentor they were matched with before, and approving ends them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot import spaces
from bot.domain import (
    GroupMember,
    IntakeAnswer,
    IntakeState,
    MatchProposal,
    Membership,
    MentorGroup,
    Pair,
    PairStatus,
    Person,
    Programme,
    ProposalStatus,
    Role,
)
from bot.i18n import Text, _l
from bot.services import endings
from bot.services.assignment import propose
from bot.services.matching import MenteeProfile, MentorProfile, Weights, fit


def _answers(
    session: Session, programme_id: int, people: Collection[int] | None = None
) -> dict[int, dict[str, Any]]:
    """Intake answers by person (of everyone, or of `people`). Their values only, not the
    rows as objects: a programme of 1,000 pairs has 15,000 answers, which as objects took
    23 MB (and 1.6 times as long)."""
    query = select(IntakeAnswer.person_id, IntakeAnswer.key, IntakeAnswer.value).where(
        IntakeAnswer.programme_id == programme_id
    )
    if people is not None:
        query = query.where(col(IntakeAnswer.person_id).in_(people))
    answers: dict[int, dict[str, Any]] = defaultdict(dict)
    for person_id, key, value in session.exec(query):
        answers[person_id][key] = value
    return answers


def _ready(session: Session, programme_id: int, role: Role) -> list[Person]:
    return list(
        session.exec(
            select(Person)
            .join(Membership, col(Membership.person_id) == Person.id)
            .where(
                Membership.programme_id == programme_id,
                Membership.role == role,
                Membership.intake == IntakeState.COMPLETE,
            )
            .order_by(col(Person.id))
        ).all()
    )


def existing_groups(
    session: Session, programme_id: int, leaving: Collection[int] = ()
) -> dict[int, list[int]]:
    """Mentor id → mentee ids in active pairs (not counting the pairs in `leaving`)."""
    groups: dict[int, list[int]] = defaultdict(list)
    for pair in session.exec(
        select(Pair).where(Pair.programme_id == programme_id, Pair.status == PairStatus.ACTIVE)
    ):
        if pair.id not in leaving:
            groups[pair.mentor_id].append(pair.mentee_id)
    return groups


def profiles(
    session: Session, programme: Programme, existing: Mapping[int, Collection[int]] | None = None
) -> tuple[list[MenteeProfile], list[MentorProfile]]:
    """Mentees to match (intake complete, not in `existing`) and every mentor."""
    assert programme.id is not None
    answers = _answers(session, programme.id)
    if existing is None:
        existing = existing_groups(session, programme.id)
    paired = {m for members in existing.values() for m in members}

    def name(person: Person) -> str:
        return person.display_name or f"#{person.id}"

    mentees = [
        MenteeProfile.from_answers(
            p.id, name(p), p.timezone or programme.timezone, answers.get(p.id, {})
        )
        for p in _ready(session, programme.id, Role.MENTEE)
        if p.id not in paired
    ]
    mentors = [
        MentorProfile.from_answers(
            p.id, name(p), p.timezone or programme.timezone, answers.get(p.id, {})
        )
        for p in _ready(session, programme.id, Role.MENTOR)
    ]
    return mentees, mentors


def weights_of(programme: Programme) -> Weights:
    return Weights.from_mapping(programme.settings.get("matching_weights"))


def new_proposal(
    session: Session,
    programme: Programme,
    now: datetime,
    topic_labels: Mapping[str, Any] | None = None,
) -> MatchProposal:
    """Compute a fresh proposal; an open one for the programme is replaced. Pairs that asked
    to end are in it as `endings`, their mentees free to be matched again."""
    assert programme.id is not None
    for old in session.exec(
        select(MatchProposal).where(
            MatchProposal.programme_id == programme.id, MatchProposal.status == ProposalStatus.OPEN
        )
    ):
        old.status = ProposalStatus.REPLACED
        session.add(old)
    requested = endings.open_requests(session, programme.id, now)
    ending = [pair for pair, _ in requested]
    existing = existing_groups(session, programme.id, leaving={p.id for p in ending})
    mentees, mentors = profiles(session, programme, existing)
    quiet = endings.gone_quiet(session, programme.id, requested)
    held_back = sorted(m.name for m in mentors if m.person_id in quiet)
    mentors = [m for m in mentors if m.person_id not in quiet]
    forbidden = endings.ended_pairs(session, programme.id)
    forbidden |= {(p.mentee_id, p.mentor_id) for p in ending}
    result = propose(
        mentees,
        mentors,
        weights_of(programme),
        programme.settings.get("group_size"),
        programme.settings.get("min_fit", 0.2),
        existing=existing,
        week=programme.start,
        topic_labels=topic_labels,
        forbidden=forbidden,
    )
    data = result.to_json()
    notes = [data["note"]] if data["note"] else []
    if held_back:
        notes.append(
            _l(
                "No new mentees for {mentors}: every pair of theirs stalled. If one of them is "
                "back, 'match move MENTEE MENTOR' gives them a mentee.",
                mentors=", ".join(held_back),
            ).to_json()
        )
    proposal = MatchProposal(
        programme_id=programme.id,
        created_at=now,
        groups=data["groups"],
        unmatched=data["unmatched"] + [{"note": note} for note in notes],
        endings=[p.id for p in ending],
    )
    session.add(proposal)
    session.flush()
    return proposal


def open_proposal(session: Session, programme_id: int) -> MatchProposal | None:
    return session.exec(
        select(MatchProposal)
        .where(
            MatchProposal.programme_id == programme_id, MatchProposal.status == ProposalStatus.OPEN
        )
        .order_by(col(MatchProposal.id).desc())
    ).first()


def rescore(
    session: Session,
    programme: Programme,
    mentee_id: int,
    mentor_id: int,
    topic_labels: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """A proposal entry for the mentee with this mentor: fit and reasons."""
    answers = _answers(session, programme.id or 0, (mentee_id, mentor_id))
    mentee_person, mentor_person = session.get(Person, mentee_id), session.get(Person, mentor_id)
    assert mentee_person is not None and mentor_person is not None
    mentee = MenteeProfile.from_answers(
        mentee_id,
        mentee_person.display_name or "",
        mentee_person.timezone or programme.timezone,
        answers.get(mentee_id, {}),
    )
    mentor = MentorProfile.from_answers(
        mentor_id,
        mentor_person.display_name or "",
        mentor_person.timezone or programme.timezone,
        answers.get(mentor_id, {}),
    )
    result = fit(
        mentee, mentor, weights_of(programme), week=programme.start, topic_labels=topic_labels
    )
    return {
        "mentee": mentee_id,
        "fit": result.score,
        "reasons": [r.to_json() for r in result.reasons],
    }


def _take_out(proposal: MatchProposal, mentee_id: int) -> str | None:
    """Remove a mentee wherever they are in the proposal; returns their mentor key or None."""
    groups = {k: [a for a in v if a["mentee"] != mentee_id] for k, v in proposal.groups.items()}
    found = next(
        (k for k, v in proposal.groups.items() if any(a["mentee"] == mentee_id for a in v)), None
    )
    proposal.groups = groups
    proposal.unmatched = [u for u in proposal.unmatched if u.get("mentee") != mentee_id]
    return found


def move(
    session: Session,
    proposal: MatchProposal,
    mentee_id: int,
    mentor_id: int | None,
    reason: Text | None,
    topic_labels: Mapping[str, Any] | None = None,
) -> None:
    """Put a mentee with another mentor (or, with None, among the unmatched)."""
    programme = session.get(Programme, proposal.programme_id)
    assert programme is not None
    _take_out(proposal, mentee_id)
    if mentor_id is None:
        proposal.unmatched = [
            *proposal.unmatched,
            {"mentee": mentee_id, "reason": reason.to_json() if reason else None},
        ]
    else:
        entry = rescore(session, programme, mentee_id, mentor_id, topic_labels)
        groups = dict(proposal.groups)
        groups[str(mentor_id)] = [*groups.get(str(mentor_id), []), entry]
        proposal.groups = groups
    session.add(proposal)


def swap(
    session: Session,
    proposal: MatchProposal,
    first: int,
    second: int,
    topic_labels: Mapping[str, Any] | None = None,
) -> bool:
    """Exchange the mentors of two proposed mentees; False when either is not in a group."""
    mentor_of = {a["mentee"]: int(k) for k, v in proposal.groups.items() for a in v}
    if first not in mentor_of or second not in mentor_of:
        return False
    a, b = mentor_of[first], mentor_of[second]
    move(session, proposal, first, b, None, topic_labels)
    move(session, proposal, second, a, None, topic_labels)
    return True


@dataclass
class Approval:
    created: list[Pair] = field(default_factory=list)
    ended: list[Pair] = field(default_factory=list)
    """Pairs that had asked to end and were ended by this approval."""


def approve(
    session: Session, proposal: MatchProposal, now: datetime, mentor_ids: set[int] | None = None
) -> Approval:
    """Create groups and pairs for the proposal (or only the given mentors' groups) and plan
    their spaces. Approved groups leave the proposal; it closes when none are left.

    The proposal's endings are carried out with the approval of the group their mentee is
    proposed to, and all of them once nothing else is left (or with approving everything)."""
    approval = Approval()
    remaining = {}
    placed_now: set[int] = set()
    for key, entries in proposal.groups.items():
        if mentor_ids is not None and int(key) not in mentor_ids:
            remaining[key] = entries
        elif entries:
            placed_now.update(e["mentee"] for e in entries)
    leaving_all = not any(remaining.values())
    still_ending = []
    for pair_id in proposal.endings:
        pair = session.get(Pair, pair_id)
        if pair is None:
            continue
        if leaving_all or pair.mentee_id in placed_now:
            if endings.end_pair(session, pair, now):
                approval.ended.append(pair)
        else:
            still_ending.append(pair_id)
    session.flush()
    for key, entries in proposal.groups.items():
        if key in remaining or not entries:
            continue
        approval.created.extend(_create_group(session, proposal, int(key), entries, now))
    spaces.plan_pairs(session, approval.created, now)
    proposal.groups = remaining
    proposal.endings = still_ending
    if leaving_all:
        proposal.status = ProposalStatus.APPROVED
    session.add(proposal)
    return approval


def _create_group(
    session: Session, proposal: MatchProposal, mentor_id: int, entries: list[Any], now: datetime
) -> list[Pair]:
    """The mentor's group (found or new) with a pair per entry; its space is planned."""
    group = session.exec(
        select(MentorGroup).where(
            MentorGroup.programme_id == proposal.programme_id,
            MentorGroup.mentor_id == mentor_id,
        )
    ).first()
    if group is None:
        mentor = session.get(Person, mentor_id)
        group = MentorGroup(
            programme_id=proposal.programme_id,
            mentor_id=mentor_id,
            name=(mentor.display_name if mentor else None) or str(mentor_id),
        )
        session.add(group)
        session.flush()
    assert group.id is not None
    created = []
    for entry in entries:
        session.add(GroupMember(group_id=group.id, person_id=entry["mentee"]))
        pair = Pair(
            programme_id=proposal.programme_id,
            group_id=group.id,
            mentor_id=mentor_id,
            mentee_id=entry["mentee"],
            matched_at=now,
            fit=entry["fit"],
            reasons=entry["reasons"],
        )
        session.add(pair)
        created.append(pair)
    session.flush()
    new_members = [entry["mentee"] for entry in entries]
    welcome = new_members if group.space_channel else [mentor_id, *new_members]
    spaces.plan_group(session, group, welcome, now)
    return created
