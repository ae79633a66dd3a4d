"""Participants who finished intake, set up directly in the store (as the intake flow would)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select

from bot.domain import Consent, Identity, IntakeAnswer, IntakeState, Membership, Person, Programme
from bot.events import PersonRef
from bot.store import Store


def enrol(
    store: Store, now: datetime, ref: PersonRef, name: str, role: str, answers: dict[str, Any]
) -> int:
    with store.session() as session:
        programme = session.exec(select(Programme)).one()
        person = Person(display_name=name, created_at=now)
        session.add(person)
        session.flush()
        assert person.id is not None
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
                programme_id=programme.id,
                person_id=person.id,
                role=role,
                intake=IntakeState.COMPLETE,
                joined_at=now,
            )
        )
        session.add(
            Consent(
                person_id=person.id,
                programme_id=programme.id,
                purpose="intake",
                text_version=1,
                given=True,
                at=now,
            )
        )
        for key, value in answers.items():
            session.add(
                IntakeAnswer(
                    person_id=person.id, programme_id=programme.id, role=role, key=key, value=value
                )
            )
        return person.id
