"""Pairs over the store: a programme's active pairs and a person's, and a member's side in one."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from bot.domain import Pair, PairStatus
from bot.store import read

_ANY_ACTIVE = (
    select(Pair.id)
    .where(Pair.programme_id == bindparam("programme"), Pair.status == PairStatus.ACTIVE)
    .limit(1)
)


def has_active_pairs(session: Session, programme_id: int) -> bool:
    """Whether the programme has an active pair (`active_pairs` without reading them)."""
    found = read(session, _ANY_ACTIVE, {"programme": programme_id}).first()
    return found is not None


def active_pairs(session: Session, programme_id: int) -> Sequence[Pair]:
    return session.exec(
        select(Pair)
        .where(Pair.programme_id == programme_id, Pair.status == PairStatus.ACTIVE)
        .order_by(col(Pair.id))
    ).all()


def pairs_of(session: Session, person_id: int) -> Sequence[Pair]:
    """The active pairs a person is in, as mentor or mentee."""
    return session.exec(
        select(Pair)
        .where(
            (Pair.mentor_id == person_id) | (Pair.mentee_id == person_id),
            Pair.status == PairStatus.ACTIVE,
        )
        .order_by(col(Pair.id))
    ).all()


def side_of(pair: Pair, person_id: int) -> str | None:
    if person_id == pair.mentor_id:
        return "mentor"
    if person_id == pair.mentee_id:
        return "mentee"
    return None


def other_of(pair: Pair, person_id: int) -> int:
    return pair.mentee_id if person_id == pair.mentor_id else pair.mentor_id
