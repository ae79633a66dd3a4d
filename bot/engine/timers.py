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

from sqlmodel import Session

from bot import outbox

REMIND = "flow.remind"
EXPIRE = "flow.expire"
KINDS = (REMIND, EXPIRE)
_PREFIX = {REMIND: "remind", EXPIRE: "expire"}


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
        moves = {
            key(kind, run_id, old_step, old_seq): (key(kind, run_id, step, ask_seq), due_at)
            for kind, due_at in wanted.items()
        }
        taken = outbox.move(session, moves, payload, now)
        unwanted = [key(k, run_id, old_step, old_seq) for k in possible if k not in wanted]
        outbox.cancel(session, unwanted)
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
    outbox.cancel(session, [key(kind, run_id, step, ask_seq) for kind in KINDS if kind in possible])
