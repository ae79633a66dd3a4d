"""A question's reminder and expiry: outbox rows that move on with the run.

A step may carry a reminder (`flow.remind`) and an expiry (`flow.expire`), each an outbox row
keyed by run, step and ask number, checked when it comes due (`Engine.remind`/`expire` do
nothing for a question that was answered meanwhile). Most questions are answered long before
either comes due, and rows left behind for them would each be claimed and run for nothing,
two per question asked. So when a run asks its next question, the previous question's rows —
still waiting and not claimed — are re-aimed at the new one (new key, payload and due time) in
one statement; only what that did not cover is written new. When a run ends, its last
question's rows go. A row the dispatcher has claimed already is left alone (it finds the
question answered and does nothing), and so is a reminder held back to a later time
(`bot.services.hold`: its key is another).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, literal_column, update
from sqlmodel import Session

from bot import outbox
from bot.domain import OutboxItem
from bot.domain.types import UTCDateTime

REMIND = "flow.remind"
EXPIRE = "flow.expire"
KINDS = (REMIND, EXPIRE)
_PREFIX = {REMIND: "remind", EXPIRE: "expire"}

_OUTBOX = OutboxItem.__table__
_WAITING = and_(  # not done, not dead, not claimed: nobody is carrying it out
    _OUTBOX.c.idempotency_key.in_(bindparam("old", expanding=True)),
    _OUTBOX.c.done_at.is_(None),
    _OUTBOX.c.failed_at.is_(None),
    _OUTBOX.c.claimed_by.is_(None),
)
_IS_REMIND = _OUTBOX.c.kind == literal_column(f"'{REMIND}'")
_REAIM = (  # built once, on the table: it runs for nearly every answer
    update(_OUTBOX)
    .where(_WAITING)
    .values(
        idempotency_key=case((_IS_REMIND, bindparam("remind_key")), else_=bindparam("expire_key")),
        due_at=case(
            (_IS_REMIND, bindparam("remind_due", type_=UTCDateTime())),
            else_=bindparam("expire_due", type_=UTCDateTime()),
        ),
        payload=bindparam("payload", type_=_OUTBOX.c.payload.type),
        created_at=bindparam("now", type_=UTCDateTime()),
        attempts=0,
        last_error=None,
    )
)
_DROP = delete(_OUTBOX).where(_WAITING)


def key(kind: str, run_id: int, step: str, ask_seq: int) -> str:
    return f"{_PREFIX[kind]}:{run_id}:{step}:{ask_seq}"


def set_for(
    session: Session,
    run_id: int,
    step: str,
    ask_seq: int,
    due: dict[str, timedelta],
    now: datetime,
    previous: tuple[str, int] | None,
    possible: frozenset[str],
) -> None:
    """Give the question (`step`, `ask_seq`) of run `run_id` its reminder and expiry (`due`:
    kind → delay; kinds not in it get none), taking over the rows of the `previous` question
    (step, ask number) of the same run, if any. `possible`: the kinds the run's flow can have
    at all (rows of other kinds are not looked for)."""
    payload: dict[str, Any] = {"run": run_id, "step": step, "ask_seq": ask_seq}
    wanted = {kind: now + after for kind, after in due.items()}
    taken = 0
    if previous is not None:
        old_step, old_seq = previous
        if wanted:
            reaim = {
                "old": [key(kind, run_id, old_step, old_seq) for kind in wanted],
                "remind_key": key(REMIND, run_id, step, ask_seq),
                "expire_key": key(EXPIRE, run_id, step, ask_seq),
                "remind_due": wanted.get(REMIND, now),
                "expire_due": wanted.get(EXPIRE, now),
                "payload": payload,
                "now": now,
            }
            taken = session.connection().execute(_REAIM, reaim).rowcount
        unwanted = [key(k, run_id, old_step, old_seq) for k in possible if k not in wanted]
        if unwanted:
            session.connection().execute(_DROP, {"old": unwanted})
    if taken < len(wanted):  # the first question, or rows claimed or done meanwhile
        outbox.enqueue_many(
            session,
            [
                {
                    "kind": kind,
                    "payload": payload,
                    "idempotency_key": key(kind, run_id, step, ask_seq),
                    "due_at": due_at,
                    "created_at": now,
                }
                for kind, due_at in wanted.items()
            ],
        )


def drop(session: Session, run_id: int, step: str, ask_seq: int, possible: frozenset[str]) -> None:
    """The run ended at question (`step`, `ask_seq`): its waiting rows go."""
    if possible:
        old = [key(kind, run_id, step, ask_seq) for kind in KINDS if kind in possible]
        session.connection().execute(_DROP, {"old": old})
