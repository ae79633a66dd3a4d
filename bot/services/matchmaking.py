"""Matching against the store: build profiles from intake answers, keep a proposal under review,
apply a coordinator's changes, and on approval create groups and pairs and plan their spaces.

Nothing is created before approval. Mentees already in an active pair are not proposed again;
mentors offer the seats they have left, so a later intake is matched into an existing group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
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
from bot.i18n import Text
from bot.services.assignment import propose
from bot.services.matching import MenteeProfile, MentorProfile, Weights, fit


def _answers(session: Session, programme_id: int) -> dict[int, dict[str, Any]]:
    answers: dict[int, dict[str, Any]] = defaultdict(dict)
    for row in session.exec(select(IntakeAnswer).where(IntakeAnswer.programme_id == programme_id)):
        answers[row.person_id][row.key] = row.value
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


def existing_groups(session: Session, programme_id: int) -> dict[int, list[int]]:
    """Mentor id → mentee ids in active pairs."""
    groups: dict[int, list[int]] = defaultdict(list)
    for pair in session.exec(
        select(Pair).where(Pair.programme_id == programme_id, Pair.status == PairStatus.ACTIVE)
    ):
        groups[pair.mentor_id].append(pair.mentee_id)
    return groups


def profiles(
    session: Session, programme: Programme
) -> tuple[list[MenteeProfile], list[MentorProfile]]:
    assert programme.id is not None
    answers = _answers(session, programme.id)
    paired = {m for members in existing_groups(session, programme.id).values() for m in members}

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
    """Compute a fresh proposal; an open one for the programme is replaced."""
    assert programme.id is not None
    for old in session.exec(
        select(MatchProposal).where(
            MatchProposal.programme_id == programme.id, MatchProposal.status == ProposalStatus.OPEN
        )
    ):
        old.status = ProposalStatus.REPLACED
        session.add(old)
    mentees, mentors = profiles(session, programme)
    result = propose(
        mentees,
        mentors,
        weights_of(programme),
        programme.settings.get("group_size"),
        programme.settings.get("min_fit", 0.2),
        existing=existing_groups(session, programme.id),
        week=programme.start,
        topic_labels=topic_labels,
    )
    data = result.to_json()
    proposal = MatchProposal(
        programme_id=programme.id,
        created_at=now,
        groups=data["groups"],
        unmatched=data["unmatched"] + ([{"note": data["note"]}] if data["note"] else []),
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


def _rescore(
    session: Session,
    programme: Programme,
    mentee_id: int,
    mentor_id: int,
    topic_labels: Mapping[str, Any] | None,
) -> dict[str, Any]:
    answers = _answers(session, programme.id or 0)
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
        entry = _rescore(session, programme, mentee_id, mentor_id, topic_labels)
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


def approve(
    session: Session, proposal: MatchProposal, now: datetime, mentor_ids: set[int] | None = None
) -> list[Pair]:
    """Create groups and pairs for the proposal (or only the given mentors' groups) and plan
    their spaces. Approved groups leave the proposal; it closes when none are left."""
    created: list[Pair] = []
    remaining = {}
    for key, entries in proposal.groups.items():
        mentor_id = int(key)
        if mentor_ids is not None and mentor_id not in mentor_ids:
            remaining[key] = entries
            continue
        if not entries:
            continue
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
        new_members = []
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
            new_members.append(entry["mentee"])
        session.flush()
        welcome = new_members if group.space_channel else [mentor_id, *new_members]
        spaces.plan_group(session, group, welcome, now)
    spaces.plan_pairs(session, created, now)
    proposal.groups = remaining
    if not any(remaining.values()):
        proposal.status = ProposalStatus.APPROVED
    session.add(proposal)
    return created
