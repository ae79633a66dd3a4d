"""A programme as the store holds one, for tests that need a programme row and nothing more."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from bot.domain import Programme


def law_programme(session: Session) -> Programme:
    """A Dutch programme on Amsterdam time for the school year 2026-27, written (flushed)."""
    programme = Programme(
        slug="law",
        name="Law",
        language="nl",
        timezone="Europe/Amsterdam",
        start=date(2026, 9, 1),
        end=date(2027, 6, 30),
        meeting_cadence="biweekly",
        meetings=4,
    )
    session.add(programme)
    session.flush()
    return programme
