"""Polls over the store: who is asked, recording a submission, closing, and mixing anonymous
responses so that nothing joins them to a person (docs/polls.md)."""

from __future__ import annotations

import random
import secrets
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, delete, select

from bot.config.programme import MIN_POLL_RESPONSES
from bot.domain import (
    GroupMember,
    IntakeState,
    Membership,
    MentorGroup,
    Person,
    Programme,
    Role,
    RunStatus,
)
from bot.domain.polls import Poll, PollInvite, PollResponse, PollStatus, random_response_id
from bot.engine import runs
from bot.store import read, wipe_after_commit

SUBJECT = "poll:"
MIN_RESPONSES = MIN_POLL_RESPONSES
"""k is never below this (config.toml refuses less; docs/privacy.md)."""
ROLES = (Role.MENTEE.value, Role.MENTOR.value)


def subject(poll_id: int) -> str:
    """The subject of every conversation that answers this poll."""
    return f"{SUBJECT}{poll_id}"


def poll_of_subject(value: str) -> int | None:
    raw = value.removeprefix(SUBJECT)
    return int(raw) if value.startswith(SUBJECT) and raw.isdigit() else None


def min_responses(programme: Programme) -> int:
    """k: results are shown only when at least this many people answered."""
    return max(int(programme.settings.get("poll_min_responses", MIN_RESPONSES)), MIN_RESPONSES)


def audience_people(
    session: Session, programme_id: int, audience: str, roles: Collection[str] = ROLES
) -> list[int]:
    """Participants who finished intake: mentees, mentors, all, or the mentees of group:<id> —
    of them, those in `roles` (the roles a questionnaire has questions for)."""
    query = select(Membership.person_id).where(
        Membership.programme_id == programme_id,
        Membership.intake == IntakeState.COMPLETE,
        col(Membership.role).in_(tuple(roles)),
    )
    if audience in (Role.MENTEE, Role.MENTOR):
        query = query.where(Membership.role == audience)
    elif audience == "all":
        query = query.where(col(Membership.role).in_((Role.MENTEE, Role.MENTOR)))
    elif audience.startswith("group:"):
        members = select(GroupMember.person_id).where(
            GroupMember.group_id == int(audience.removeprefix("group:"))
        )
        query = query.where(Membership.role == Role.MENTEE, col(Membership.person_id).in_(members))
    else:
        raise ValueError(f"unknown audience {audience!r}")
    return sorted(set(session.exec(query).all()))


def find_group(session: Session, programme_id: int, name: str) -> MentorGroup | None:
    """A mentor group by its name, its id, or (the start of) its mentor's display name."""
    wanted = name.lstrip("@").casefold()
    groups = session.exec(select(MentorGroup).where(MentorGroup.programme_id == programme_id)).all()
    for group in groups:
        if group.name.casefold() == wanted or str(group.id) == wanted:
            return group
    by_mentor = [
        g
        for g in groups
        if (mentor := session.get(Person, g.mentor_id))
        and (mentor.display_name or "").casefold().startswith(wanted)
    ]
    return by_mentor[0] if len(by_mentor) == 1 else None


def create(
    session: Session,
    programme: Programme,
    questionnaire: str,
    version: str,
    audience: str,
    anonymous: bool,
    closes_at: datetime | None,
    created_by: int | None,
    now: datetime,
    roles: Collection[str] = ROLES,
) -> tuple[Poll, list[int]]:
    """The poll and an invite per person in the audience (in `roles`)."""
    assert programme.id is not None
    poll = Poll(
        programme_id=programme.id,
        questionnaire=questionnaire,
        questionnaire_version=version,
        audience=audience,
        anonymous=anonymous,
        closes_at=closes_at,
        created_at=now,
        created_by=created_by,
    )
    session.add(poll)
    session.flush()
    assert poll.id is not None
    invited = audience_people(session, programme.id, audience, roles)
    session.add_all(PollInvite(poll_id=poll.id, person_id=pid) for pid in invited)
    session.flush()
    return poll, invited


_ROLES_IN = select(Membership.role).where(  # a participant's role in a programme: every answer
    Membership.programme_id == bindparam("programme"),
    Membership.person_id == bindparam("person"),
    col(Membership.role).in_(ROLES),
)


def role_of(session: Session, poll: Poll, person_id: int) -> str | None:
    """Whether the person answers this poll as a mentee or as a mentor."""
    if poll.audience in ROLES:
        return poll.audience
    if poll.audience.startswith("group:"):
        return Role.MENTEE.value
    roles = read(session, _ROLES_IN, {"programme": poll.programme_id, "person": person_id}).all()
    return roles[0][0] if len(roles) == 1 else None


def invite(session: Session, poll_id: int, person_id: int) -> PollInvite | None:
    return session.get(PollInvite, (poll_id, person_id))


def waiting(session: Session, poll_id: int) -> list[int]:
    """Who has not answered yet."""
    return list(
        session.exec(
            select(PollInvite.person_id).where(
                PollInvite.poll_id == poll_id, col(PollInvite.answered_at).is_(None)
            )
        ).all()
    )


def counts(session: Session, poll_id: int) -> tuple[int, int]:
    """(invited, answered)."""
    invites = session.exec(select(PollInvite).where(PollInvite.poll_id == poll_id)).all()
    return len(invites), sum(1 for i in invites if i.answered_at is not None)


def submit(
    session: Session, poll: Poll, person_id: int, answers: dict[str, Any], now: datetime
) -> bool:
    """Store one person's answers; False when the poll is closed, they were not invited or
    they answered before (the first answer counts: an anonymous one cannot be found again)."""
    assert poll.id is not None
    row = invite(session, poll.id, person_id)
    if poll.status != PollStatus.OPEN or row is None or row.answered_at is not None:
        return False
    row.answered_at = now
    session.add(row)
    if poll.anonymous:
        session.add(PollResponse(poll_id=poll.id, answers=answers))
    else:
        session.add(
            PollResponse(poll_id=poll.id, person_id=person_id, submitted_at=now, answers=answers)
        )
    session.flush()
    return True


def mix(session: Session, poll_id: int) -> int:
    """Rewrite a poll's anonymous responses in one transaction, in random order, with new
    random ids: afterwards they share one writing transaction and their physical order says
    nothing about who answered when; once it commits the database files are wiped of the
    earlier rows (and of the answers that sat in the answering conversations). Returns how
    many were rewritten."""
    rows = session.exec(
        select(PollResponse).where(
            PollResponse.poll_id == poll_id, col(PollResponse.person_id).is_(None)
        )
    ).all()
    answers = [dict(r.answers) for r in rows]
    session.exec(
        delete(PollResponse).where(
            col(PollResponse.poll_id) == poll_id, col(PollResponse.person_id).is_(None)
        )
    )
    session.flush()
    random.Random(secrets.randbits(64)).shuffle(answers)
    session.add_all(
        PollResponse(id=random_response_id(), poll_id=poll_id, answers=a) for a in answers
    )
    session.flush()
    if answers:
        wipe_after_commit(session)
    return len(answers)


def forget_unfinished(session: Session, poll_id: int, now: datetime) -> None:
    """End the conversations of people still answering, and drop their partial answers."""
    for run in runs.select_where(session, runs.TABLE.c.subject == subject(poll_id)):
        if run.status == RunStatus.DONE:
            continue  # finished: an anonymous run's answers were dropped when it finished
        if run.status == RunStatus.ACTIVE:
            run.status = RunStatus.CANCELLED
            run.updated_at = now
        if run.answers:
            run.answers = {}
            wipe_after_commit(session)


def close(session: Session, poll: Poll, now: datetime) -> bool:
    """Close an open poll; False when it was closed already."""
    assert poll.id is not None
    if poll.status != PollStatus.OPEN:
        return False
    poll.status = PollStatus.CLOSED
    poll.closed_at = now
    session.add(poll)
    forget_unfinished(session, poll.id, now)
    if poll.anonymous:
        mix(session, poll.id)
    session.flush()
    return True


def responses(session: Session, poll_id: int) -> Sequence[PollResponse]:
    """The responses in id order: random for anonymous ones, so in no telling order."""
    return session.exec(
        select(PollResponse).where(PollResponse.poll_id == poll_id).order_by(col(PollResponse.id))
    ).all()


def find(session: Session, programme_id: int, wanted: str) -> Poll | None:
    """A poll by id, or the most recent poll of a questionnaire."""
    query = select(Poll).where(Poll.programme_id == programme_id)
    if wanted.isdigit():
        return session.exec(query.where(Poll.id == int(wanted))).first()
    return session.exec(
        query.where(Poll.questionnaire == wanted.lower()).order_by(col(Poll.id).desc())
    ).first()


def of_programme(session: Session, programme_id: int) -> Sequence[Poll]:
    return session.exec(
        select(Poll).where(Poll.programme_id == programme_id).order_by(col(Poll.id))
    ).all()


def submitted(session: Session, programme_id: int, questionnaire: str) -> set[int]:
    """Who answered a poll of this questionnaire in the programme (anonymous polls included:
    that someone answered is known, for reminders; what they answered is not)."""
    rows = session.exec(
        select(PollInvite.person_id)
        .join(Poll, col(Poll.id) == PollInvite.poll_id)
        .where(
            Poll.programme_id == programme_id,
            Poll.questionnaire == questionnaire,
            col(PollInvite.answered_at).is_not(None),
        )
    ).all()
    return set(rows)
