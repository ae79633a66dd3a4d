"""What a turn asks about its person more than once: whether they consented, whether they
coordinate, and the language and time zone of the programme they joined last.

`accounts.resolve` reads these with the person's account, in the same statement, and notes them
here (`note`); `people.may_store_profile`, the person's language and zone, and whether they
joined any programme (`people.joined_none`) take them from here (`known`) instead of reading
them again, for as long as the unit of work has changed no consent, membership or programme
through the ORM. Any such change, pending or flushed, and any bulk ORM insert, update or
delete, makes them forgotten: they are read again, as before. A consent or membership written
with a Core statement says what it changed instead (`changed`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from bot.domain import Consent, Membership, Programme

_NOTED = "maatje.people.standing"
_DEPENDS_ON = (Consent, Membership, Programme)


@dataclass(frozen=True)
class Standing:
    consented: bool
    """The person's latest consent is a yes."""
    coordinator: bool
    """They coordinate a programme."""
    settings: tuple[str, str] | None
    """The language and time zone of the programme they joined last (None: none yet)."""


def note(session: Session, person_id: int, standing: Standing) -> None:
    session.info.setdefault(_NOTED, {})[person_id] = standing


def changed(session: Session, person_id: int, **changes: Any) -> None:
    """A consent or membership of the person written with a Core statement, which the session's
    own bookkeeping does not see (`people.join`, `people.give_consent`): their standing, when
    noted, becomes what that write made it (`changes`, of `Standing`'s fields)."""
    noted = session.info.get(_NOTED)
    if noted and person_id in noted:
        noted[person_id] = replace(noted[person_id], **changes)


def known(session: Session, person_id: int) -> Standing | None:
    """The person's standing as noted, while the session's changes leave it so; else None."""
    noted = session.info.get(_NOTED)
    standing = noted.get(person_id) if noted else None
    if standing is None or not _kept(session):
        return None
    return standing


def _kept(session: Session) -> bool:
    """Whether the session's pending changes leave every noted standing as it was; else it
    forgets them."""
    changed = (*session.new, *session.dirty, *session.deleted)
    if not any(isinstance(row, _DEPENDS_ON) for row in changed):
        return True
    session.info.pop(_NOTED, None)
    return False


@event.listens_for(Session, "before_flush")
def _flushing(session: Session, _context: Any, _instances: Any) -> None:
    """Changes about to be flushed are checked while they can be seen (`_kept`)."""
    if _NOTED in session.info:
        _kept(session)


@event.listens_for(Session, "do_orm_execute")
def _writing(state: ORMExecuteState) -> None:
    """Any bulk insert, update or delete through the ORM (erasure's) forgets them all."""
    if _NOTED in state.session.info and not state.is_select:
        state.session.info.pop(_NOTED)
