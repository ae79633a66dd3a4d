"""Participants who finished intake, set up directly in the store (as the intake flow would)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import select

from bot.domain import (
    Consent,
    Identity,
    IntakeAnswer,
    IntakeState,
    Meeting,
    MeetingStatus,
    Membership,
    MentorGroup,
    Pair,
    Person,
    Programme,
)
from bot.events import PersonRef
from bot.store import Store


def enrol(
    store: Store, now: datetime, ref: PersonRef, name: str, role: str, answers: dict[str, Any]
) -> int:
    """In the only programme there is."""
    with store.session() as session:
        programme_id = session.exec(select(Programme.id)).one()
    return enrol_in(store, now, ref, name, role, answers, programme_id)


def enrol_in(
    store: Store,
    now: datetime,
    ref: PersonRef | None,
    name: str,
    role: str,
    answers: dict[str, Any],
    programme_id: int,
    person_id: int | None = None,
) -> int:
    """In a given programme; with `person_id`, an existing person joins it too."""
    with store.session() as session:
        person = session.get(Person, person_id) if person_id else None
        if person is None:
            person = Person(display_name=name, created_at=now)
            session.add(person)
            session.flush()
        assert person.id is not None
        if ref is not None:
            session.add(
                Identity(
                    person_id=person.id,
                    platform=ref.platform,
                    workspace=ref.workspace,
                    user_id=ref.user_id,
                )
            )
        session.add(
            Membership(
                programme_id=programme_id,
                person_id=person.id,
                role=role,
                intake=IntakeState.COMPLETE,
                joined_at=now,
            )
        )
        session.add(
            Consent(
                person_id=person.id,
                programme_id=programme_id,
                purpose="intake",
                text_version=1,
                given=True,
                at=now,
            )
        )
        for key, value in answers.items():
            session.add(
                IntakeAnswer(
                    person_id=person.id, programme_id=programme_id, role=role, key=key, value=value
                )
            )
        return person.id


def pair_in_group(store: Store, now: datetime, mentor: str, mentee: str, held: int = 0) -> None:
    """A group of the mentor (by display name) with one pair, in the only programme there is,
    as an approved match would leave them (the spaces not opened), with `held` meetings held in
    the weeks before `now`."""
    with store.session() as session:
        programme_id = session.exec(select(Programme.id)).one()
        ids = {p.display_name: p.id for p in session.exec(select(Person)).all()}
        group = MentorGroup(programme_id=programme_id, mentor_id=ids[mentor], name=mentor)
        session.add(group)
        session.flush()
        pair = Pair(
            programme_id=programme_id,
            group_id=group.id,
            mentor_id=ids[mentor],
            mentee_id=ids[mentee],
            matched_at=now - timedelta(weeks=held),
        )
        session.add(pair)
        session.flush()
        for number in range(1, held + 1):
            session.add(
                Meeting(
                    programme_id=programme_id,
                    pair_id=pair.id,
                    number=number,
                    starts_at=pair.matched_at + timedelta(days=number),
                    status=MeetingStatus.HELD,
                    ics_uid=f"held-{pair.id}-{number}@test",
                    created_at=now,
                )
            )
