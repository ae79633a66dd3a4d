"""What a coordinator should know before changing a proposal by hand (`match move`, `match
swap`): the mentor would get more mentees than they said they can take (or than the programme's
group size allows), the fit is 0 %, or the two share no language. These are warnings: the
coordinator sees them and confirms or leaves the proposal as it was. A mentee and mentor whose
match ended are never paired again: that is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from bot.domain import IntakeAnswer, MatchProposal, Pair, PairStatus, Person, Programme
from bot.i18n import Text, _l, _n
from bot.services import endings, matchmaking
from bot.services.matching import languages_compatible


@dataclass(frozen=True)
class Placement:
    """A mentee with a mentor as the proposal would hold it, and what speaks against it."""

    entry: dict[str, Any]
    warnings: tuple[Text, ...]
    refused: Text | None = None


def _name(session: Session, person_id: int) -> str:
    person = session.get(Person, person_id)
    return (person.display_name if person else None) or f"#{person_id}"


def _answer(session: Session, programme_id: int, person_id: int, key: str) -> Any:
    return session.exec(
        select(IntakeAnswer.value).where(
            IntakeAnswer.programme_id == programme_id,
            IntakeAnswer.person_id == person_id,
            IntakeAnswer.key == key,
        )
    ).first()


def _capacity(session: Session, programme_id: int, mentor_id: int) -> int | None:
    value = _answer(session, programme_id, mentor_id, "capacity")
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def group_count(session: Session, proposal: MatchProposal, mentor_id: int, mentee_id: int) -> int:
    """How many mentees the mentor would have with `mentee` added: active pairs (not those the
    proposal ends) and the proposal's other mentees for them."""
    active = session.exec(
        select(Pair.id).where(
            Pair.programme_id == proposal.programme_id,
            Pair.mentor_id == mentor_id,
            Pair.status == PairStatus.ACTIVE,
        )
    ).all()
    staying = [p for p in active if p not in proposal.endings]
    proposed = [e for e in proposal.groups.get(str(mentor_id), []) if e["mentee"] != mentee_id]
    return len(staying) + len(proposed) + 1


def check(
    session: Session,
    programme: Programme,
    proposal: MatchProposal,
    mentee_id: int,
    mentor_id: int,
    topic_labels: Mapping[str, Any] | None = None,
    *,
    seats: bool = True,
) -> Placement:
    """Score the mentee with the mentor and collect the warnings (`seats=False`: leave the
    group size out, as a swap does not change it)."""
    assert programme.id is not None
    mentee, mentor = _name(session, mentee_id), _name(session, mentor_id)
    entry = matchmaking.rescore(session, programme, mentee_id, mentor_id, topic_labels)
    if endings.were_matched(session, programme.id, mentee_id, mentor_id):
        refused = _l(
            "{mentee} and {mentor} were matched before and that match ended, so I won't pair "
            "them again.",
            mentee=mentee,
            mentor=mentor,
        )
        return Placement(entry, (), refused)
    warnings: list[Text] = []
    if seats:
        total = group_count(session, proposal, mentor_id, mentee_id)
        capacity = _capacity(session, programme.id, mentor_id)
        size = programme.settings.get("group_size")
        if capacity is not None and total > capacity:
            warnings.append(
                _n(
                    "{mentor} said they can take {count} mentee; with {mentee} they would "
                    "have {total}.",
                    "{mentor} said they can take {count} mentees; with {mentee} they would "
                    "have {total}.",
                    capacity,
                    mentor=mentor,
                    mentee=mentee,
                    total=total,
                )
            )
        elif size and total > size:
            warnings.append(
                _n(
                    "Groups in this programme have at most {count} mentee; with {mentee}, the "
                    "group of {mentor} would have {total}.",
                    "Groups in this programme have at most {count} mentees; with {mentee}, the "
                    "group of {mentor} would have {total}.",
                    size,
                    mentor=mentor,
                    mentee=mentee,
                    total=total,
                )
            )
    languages = (_answer(session, programme.id, p, "language") for p in (mentee_id, mentor_id))
    if not languages_compatible(*languages):
        warnings.append(
            _l("{mentee} and {mentor} have no language in common.", mentee=mentee, mentor=mentor)
        )
    if round(entry["fit"] * 100) == 0:
        warnings.append(
            _l("The fit of {mentee} with {mentor} is 0%.", mentee=mentee, mentor=mentor)
        )
    return Placement(entry, tuple(warnings))
