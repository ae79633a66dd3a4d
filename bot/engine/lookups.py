"""Finding runs: a button's or form's run by its id, a person's active run in a space.

Every message, click and form looks a run up, and each comes with its programme, which the step
reads next (one statement instead of two). Both are read as values on the session's
connection: the run's columns for `bot.engine.runs`, the programme's made into the session's
object (`store.loaded`; the ORM's loading cost more than the statement).

When a turn knows which run it will look for before it reads the person (`run_along`,
`active_along`), the run is read in the person's statement (`accounts.Along`): a statement less
for nearly every event. The run is then held (`runs.held`), and the active run found noted
(`runs.note_active`), so that the lookup that follows costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, bindparam, select
from sqlmodel import Session

from bot.domain import Person, Programme, RunStatus
from bot.engine import runs
from bot.engine.runs import TABLE, Run
from bot.events import SpaceRef
from bot.prepared import Prepared
from bot.services import accounts
from bot.store import loaded

_PROGRAMME = Programme.__table__
_PROGRAMME_COLUMNS = tuple(_PROGRAMME.c)
_COLUMNS = (*runs.SELECTED, *_PROGRAMME_COLUMNS)
_RUN_AND_PROGRAMME = select(*_COLUMNS).select_from(
    TABLE.outerjoin(_PROGRAMME, _PROGRAMME.c.id == TABLE.c.programme_id)
)
_SPLIT = len(runs.SELECTED)
_ACTIVE_RUNS = Prepared(
    _RUN_AND_PROGRAMME.where(
        TABLE.c.person_id == bindparam("person"),
        TABLE.c.space_platform == bindparam("platform"),
        TABLE.c.space_workspace == bindparam("workspace"),
        TABLE.c.space_channel == bindparam("channel"),
        runs.IS_ACTIVE,
    )
)
_RUN = Prepared(_RUN_AND_PROGRAMME.where(TABLE.c.id == bindparam("run")))


def _with_programme(statement: Select) -> Select:
    return statement.outerjoin(_PROGRAMME, _PROGRAMME.c.id == TABLE.c.programme_id)


# The same lookups joined to the person's account (`accounts.reading_along`, prepared); the
# active run in the space is one at most (the unique partial index of active runs).
_ALONG_RUN = accounts.reading_along(
    _COLUMNS,
    lambda statement: _with_programme(
        statement.outerjoin(TABLE, TABLE.c.id == bindparam("along_run"))
    ),
)
_ALONG_ACTIVE = accounts.reading_along(
    _COLUMNS,
    lambda statement: _with_programme(
        statement.outerjoin(
            TABLE,
            and_(
                TABLE.c.person_id == Person.__table__.c.id,
                TABLE.c.space_platform == bindparam("along_platform"),
                TABLE.c.space_workspace == bindparam("along_workspace"),
                TABLE.c.space_channel == bindparam("along_channel"),
                runs.IS_ACTIVE,
            ),
        )
    ),
)


def _adopt(session: Session, row: Sequence[Any]) -> Run:
    """The run of a `_RUN_AND_PROGRAMME` row; its programme, if it has one, held by the
    session as the object the step will read (`session.get`)."""
    if row[_SPLIT] is not None:
        values = zip(_PROGRAMME_COLUMNS, row[_SPLIT:], strict=True)
        loaded(session, Programme, {column.key: value for column, value in values})
    return runs.adopt(session, row[:_SPLIT])


def _read_runs(
    session: Session, statement: Prepared, params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """`_RUN_AND_PROGRAMME`'s rows (prepared: `bot.prepared`), without flushing the session
    first (`store.read` does): nothing the session holds unflushed can change them. The runs'
    changes are held by `bot.engine.runs`, not the session, and the programme is joined by its
    key and taken as the object the session holds, if it holds one (`store.loaded`). So what a
    turn changed before (the person's account, a meeting) is flushed with its later changes,
    in one flush instead of two."""
    return statement.execute(session.connection(), params).rows


def _key(person_id: int, space: SpaceRef) -> tuple[Any, ...]:
    return person_id, space.platform, space.workspace, space.channel_id


def active_runs(session: Session, person_id: int, space: SpaceRef) -> list[Run]:
    """The person's active runs in `space` (at most one), as this unit of work left them."""
    known = runs.known_active(session, _key(person_id, space))
    if known is not None:
        return known
    rows = _read_runs(
        session,
        _ACTIVE_RUNS,
        {
            "person": person_id,
            "platform": space.platform,
            "workspace": space.workspace,
            "channel": space.channel_id,
        },
    )
    found = [_adopt(session, row) for row in rows]
    return [run for run in found if run.status == RunStatus.ACTIVE]


def find_run(session: Session, run_id: int) -> Run | None:
    """The run `run_id` (a button's or form's), with its programme read in passing."""
    run = runs.held(session).get(run_id)
    if run is not None:
        return run
    rows = _read_runs(session, _RUN, {"run": run_id})
    return _adopt(session, rows[0]) if rows else None


def run_along(run_id: int) -> accounts.Along:
    """Read the run `run_id` with the person (`find_run` then finds it held)."""
    return accounts.Along(_ALONG_RUN, {"along_run": run_id}, _take_run)


def _take_run(session: Session, _person: Person, row: Sequence[Any]) -> None:
    if row[0] is not None:
        _adopt(session, row)


def active_along(space: SpaceRef) -> accounts.Along:
    """Read the person's active run in `space` with the person (`active_runs` then knows it)."""
    params = {
        "along_platform": space.platform,
        "along_workspace": space.workspace,
        "along_channel": space.channel_id,
    }

    def take(session: Session, person: Person, row: Sequence[Any]) -> None:
        assert person.id is not None
        found = [] if row[0] is None else [_adopt(session, row)]
        runs.note_active(session, _key(person.id, space), found)

    return accounts.Along(_ALONG_ACTIVE, params, take)
