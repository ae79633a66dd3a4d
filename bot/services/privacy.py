"""What Maatje stores about a person, as one export, and erasing all of it.

`export` gathers every row about the person: account, programmes, consent, intake answers,
conversations, pairs (their own part of the kennismakingsgids, fit check and keep-in-touch
answers), meetings, goals, check-ins and poll answers given with a name.

`erase` deletes the person and everything that hangs off them, and also the traces elsewhere:
outbox rows addressed to them or about their pairs, conversations of the other side of an
erased pair, the platform event ids that carried their account id, and their place in matching
proposals. The caller's session then wipes the database files once it commits
(`bot.store.wipe_after_commit`). What this means for the people left behind (the other side of
a pair) is for the caller to tell them: `erase` says which pairs ended. See docs/privacy.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, delete, select

from bot import inbox
from bot.domain import (
    CheckIn,
    Consent,
    ConversationReference,
    EndRequest,
    FlowRun,
    Goal,
    GroupMember,
    HeldFile,
    Identity,
    IntakeAnswer,
    MatchProposal,
    Meeting,
    Membership,
    MentorGroup,
    OutboxItem,
    Pair,
    PairStatus,
    Person,
    PollInvite,
    PollResponse,
    ProcessedEvent,
    Programme,
    ProposalStatus,
    Role,
    RunStatus,
)
from bot.engine import runs
from bot.events import PersonRef
from bot.services import safeguarding
from bot.store import wipe_after_commit

SIDES = ("mentor", "mentee")


@dataclass(frozen=True)
class EndedPair:
    """An active pair that ended because one side was erased: who is left, in which role."""

    programme_id: int
    partner_id: int
    partner_role: str


# -- export ------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _row(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: _plain(v) for k, v in obj.model_dump().items() if k not in skip}


def _pairs_of(session: Session, person_id: int) -> list[Pair]:
    return list(
        session.exec(
            select(Pair)
            .where(or_(Pair.mentor_id == person_id, Pair.mentee_id == person_id))
            .order_by(col(Pair.id))
        ).all()
    )


def _pair_part(pair: Pair, person_id: int, programme: str) -> dict[str, Any]:
    """The person's side of a pair: their own answers, never the other side's."""
    side = "mentor" if pair.mentor_id == person_id else "mentee"
    guide = pair.guide or {}
    return {
        "pair": pair.id,
        "programme": programme,
        "role": side,
        "status": pair.status,
        "matched_at": _plain(pair.matched_at),
        "fit": pair.fit,
        "kennismakingsgids": guide.get(side),
        "agreement": pair.agreement,
        "fit_check": (guide.get("fit") or {}).get(side),
        "keep_in_touch": (guide.get("keep_in_touch") or {}).get(side),
    }


def export(session: Session, person: Person) -> dict[str, Any]:
    """Everything stored about a person, as plain JSON-able data."""
    assert person.id is not None
    pid = person.id
    names = {p.id: p.name for p in session.exec(select(Programme))}
    pairs = _pairs_of(session, pid)
    pair_ids = [p.id for p in pairs]
    mentee_pairs = [p.id for p in pairs if p.mentee_id == pid]
    return {
        "person": _row(person),
        "accounts": [
            _row(i) for i in session.exec(select(Identity).where(Identity.person_id == pid))
        ],
        "programmes": [
            {**_row(m, ("id", "person_id")), "programme": names.get(m.programme_id)}
            for m in session.exec(select(Membership).where(Membership.person_id == pid))
        ],
        "consents": [
            _row(c, ("person_id",))
            for c in session.exec(select(Consent).where(Consent.person_id == pid))
        ],
        "intake_answers": [
            _row(a, ("id", "person_id"))
            for a in session.exec(select(IntakeAnswer).where(IntakeAnswer.person_id == pid))
        ],
        "conversations": [
            _row(r, ("person_id",))
            for r in session.exec(select(FlowRun).where(FlowRun.person_id == pid))
        ],
        "pairs": [_pair_part(p, pid, names.get(p.programme_id, "")) for p in pairs],
        "meetings": [
            _row(m, ("programme_id", "confirmations"))
            for m in session.exec(
                select(Meeting).where(col(Meeting.pair_id).in_(pair_ids)).order_by(col(Meeting.id))
            )
        ],
        "goals": [
            _row(g)
            for g in session.exec(
                select(Goal).where(col(Goal.pair_id).in_(pair_ids)).order_by(col(Goal.id))
            )
        ],
        "check_ins": [
            _row(c)
            for c in session.exec(
                select(CheckIn)
                .where(col(CheckIn.pair_id).in_(mentee_pairs))
                .order_by(col(CheckIn.id))
            )
        ],
        "poll_answers": [
            _row(r, ("id", "person_id"))
            for r in session.exec(select(PollResponse).where(PollResponse.person_id == pid))
        ],
        "safeguarding": safeguarding.export(session, pid),
        "end_requests": [
            _row(r, ("person_id",))
            for r in session.exec(select(EndRequest).where(EndRequest.person_id == pid))
        ],
        "poll_invites": [
            _row(i, ("person_id",))
            for i in session.exec(select(PollInvite).where(PollInvite.person_id == pid))
        ],
    }


# -- erasure -----------------------------------------------------------------------------------


def erase(session: Session, person_id: int, now: datetime) -> list[EndedPair]:
    """Delete the person and every trace of them; returns the active pairs that ended."""
    identities = session.exec(select(Identity).where(Identity.person_id == person_id)).all()
    markers = {i.user_id for i in identities} | {
        i.direct_channel for i in identities if i.direct_channel
    }
    person = session.get(Person, person_id)
    pairs = _pairs_of(session, person_id)
    ended = [
        EndedPair(
            p.programme_id,
            p.mentee_id if p.mentor_id == person_id else p.mentor_id,
            Role.MENTEE if p.mentor_id == person_id else Role.MENTOR,
        )
        for p in pairs
        if p.status == PairStatus.ACTIVE
    ]
    run_ids = _end_dependent_runs(session, person_id, pairs, now)
    _forget_in_outbox(session, person_id, pairs, run_ids, markers, person, now)
    _forget_events(session, markers)
    inbox.forget_person(
        session, (PersonRef(i.platform, i.workspace, i.user_id) for i in identities)
    )
    _forget_platform_records(session, identities)
    _leave_proposals(session, person_id)
    _leave_group_meetings(session, person_id)
    for model in (FlowRun, IntakeAnswer, Consent, PollResponse, PollInvite, GroupMember):
        session.exec(delete(model).where(col(model.person_id) == person_id))
    # Pairs and groups go with the person (foreign keys cascade to meetings, goals, check-ins
    # and escalations): they are about both sides.
    session.exec(delete(Pair).where(col(Pair.id).in_([p.id for p in pairs])))
    session.exec(delete(MentorGroup).where(col(MentorGroup.mentor_id) == person_id))
    for model in (Membership, Identity):
        session.exec(delete(model).where(col(model.person_id) == person_id))
    session.exec(delete(Person).where(col(Person.id) == person_id))
    wipe_after_commit(session)
    return ended


def _forget_platform_records(session: Session, identities: Iterable[Identity]) -> None:
    """What adapters keep about the person's accounts: how to reach their direct chat, files
    waiting for their consent (Teams)."""
    for identity in identities:
        for model in (ConversationReference, HeldFile):
            session.exec(
                delete(model).where(
                    col(model.platform) == identity.platform,
                    col(model.workspace) == identity.workspace,
                    col(model.user_id) == identity.user_id,
                )
            )


def _end_dependent_runs(
    session: Session, person_id: int, pairs: list[Pair], now: datetime
) -> list[int]:
    """Ids of the person's runs and of the runs about their pairs; the latter (the other side's
    part of the guide, a check-in in the pair space) are cancelled and emptied."""
    own = list(session.exec(select(FlowRun.id).where(FlowRun.person_id == person_id)).all())
    subjects = [f"pair:{p.id}" for p in pairs]
    channels = [p.space_channel for p in pairs if p.space_channel]
    table = runs.TABLE
    dependent = runs.select_where(
        session,
        table.c.person_id != person_id,
        or_(table.c.subject.in_(subjects), table.c.space_channel.in_(channels)),
    )
    for run in dependent:
        if run.status == RunStatus.ACTIVE:
            run.status = RunStatus.CANCELLED
        run.answers = {}
        run.updated_at = now
    return [*own, *(r.id for r in dependent if r.id is not None)]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _like_any(column: Any, needles: Iterable[str]) -> Any:
    """`column` contains one of the needles (LIKE, with its wildcards escaped)."""
    clauses = [
        column.like(
            "%" + n.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",
            escape="\\",
        )
        for n in needles
    ]
    return or_(*clauses) if clauses else None


def _forget_in_outbox(
    session: Session,
    person_id: int,
    pairs: list[Pair],
    runs: list[int],
    markers: set[str],
    person: Person | None,
    now: datetime,
) -> None:
    """Delete outbox rows addressed to the person, about their pairs, meetings or runs, in
    their pairs' spaces, or carrying their account id or name — done or still to do."""
    payload = col(OutboxItem.payload)
    pair_ids = [p.id for p in pairs if p.id is not None]
    meetings = list(
        session.exec(select(Meeting.id).where(col(Meeting.pair_id).in_(pair_ids))).all()
    )
    lanes = [f"person:{person_id}"] + [
        f"space:{p.space_platform}:{p.space_workspace}:{p.space_channel}"
        for p in pairs
        if p.space_channel
    ]
    conditions = [
        # compared as text: a payload value that is not a number must not break the query
        payload[key].as_string().in_([str(i) for i in ids])
        for key, ids in (
            ("person", [person_id]),
            ("pair", pair_ids),
            ("meeting", meetings),
            ("run", runs),
        )
    ]
    conditions.append(col(OutboxItem.lane).in_(lanes))
    by_key = _like_any(col(OutboxItem.idempotency_key), markers)
    if by_key is not None:  # keys made from a platform event id ("msg:<platform>:<event>:n")
        key = col(OutboxItem.idempotency_key)
        conditions.append(or_(key.startswith("msg:"), key.startswith("err:")) & by_key)
    # A row a dispatcher is carrying out right now (this very job, when it is the erasure)
    # stays: it finishes without content (sends keep none once done; jobs carry ids only).
    idle = or_(
        col(OutboxItem.claimed_until).is_(None),
        col(OutboxItem.claimed_until) < now,
        col(OutboxItem.done_at).is_not(None),
    )
    session.exec(delete(OutboxItem).where(or_(*conditions), idle))
    # What is still to be sent to others may name them (a coordinator's notice): those rows go
    # too. Sent messages keep no content (bot.outbox.complete_sent).
    wanted = markers | ({person.display_name} if person and person.display_name else set())
    if not wanted:
        return
    pending = session.exec(select(OutboxItem).where(col(OutboxItem.done_at).is_(None), idle)).all()
    doomed = [i.id for i in pending if wanted & set(_strings(i.payload))]
    if doomed:
        session.exec(delete(OutboxItem).where(col(OutboxItem.id).in_(doomed)))


def _forget_events(session: Session, markers: set[str]) -> None:
    """Platform event ids that carry the person's account or channel id."""
    where = _like_any(col(ProcessedEvent.event_id), markers)
    if where is not None:
        session.exec(delete(ProcessedEvent).where(where))


def _leave_proposals(session: Session, person_id: int) -> None:
    """Take the person out of matching proposals; an open one that held them is replaced (the
    next `match` makes a fresh one)."""
    for proposal in session.exec(select(MatchProposal)).all():
        groups = {
            mentor: [a for a in mentees if a.get("mentee") != person_id]
            for mentor, mentees in proposal.groups.items()
            if mentor != str(person_id)
        }
        unmatched = [u for u in proposal.unmatched if u.get("mentee") != person_id]
        if groups == proposal.groups and unmatched == proposal.unmatched:
            continue
        proposal.groups, proposal.unmatched = groups, unmatched
        if proposal.status == ProposalStatus.OPEN:
            proposal.status = ProposalStatus.REPLACED
        session.add(proposal)


def _leave_group_meetings(session: Session, person_id: int) -> None:
    """Drop the person's votes and answers from their group's meetings."""
    groups = session.exec(
        select(GroupMember.group_id).where(GroupMember.person_id == person_id)
    ).all()
    key = str(person_id)
    for meeting in session.exec(select(Meeting).where(col(Meeting.group_id).in_(groups))).all():
        data = meeting.confirmations or {}
        if not any(isinstance(v, dict) and key in v for v in data.values()):
            continue
        meeting.confirmations = {
            k: ({kk: vv for kk, vv in v.items() if kk != key} if isinstance(v, dict) else v)
            for k, v in data.items()
        }
        session.add(meeting)
