"""A question's reminder and expiry move on with the run: answered questions leave no work."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot import claims
from bot.domain import FlowRun, OutboxItem
from bot.engine import EXPIRE, REMIND
from bot.testing import Conversation


def waiting(app) -> list[tuple[str, str, dict]]:
    """The flow reminders and expiries not done yet: (kind, key, payload)."""
    with app.store.session() as session:
        rows = session.exec(
            select(OutboxItem)
            .where(col(OutboxItem.kind).in_([REMIND, EXPIRE]), col(OutboxItem.done_at).is_(None))
            .order_by(OutboxItem.kind)
        ).all()
        return [(r.kind, r.idempotency_key, r.payload) for r in rows]


def the_run(app) -> FlowRun:
    with app.store.session() as session:
        return session.exec(select(FlowRun)).one()


async def test_only_the_open_question_has_a_reminder_and_an_expiry(chat: Conversation, app):
    await chat.send("anna", "hello")
    await chat.send("anna", "yes")
    await chat.click("anna", "mentee")
    run = the_run(app)
    assert run.ask_seq == 3
    step = {"run": run.id, "step": run.step, "ask_seq": 3}
    assert waiting(app) == [
        (EXPIRE, f"expire:{run.id}:{run.step}:3", step),
        (REMIND, f"remind:{run.id}:{run.step}:3", step),
    ]


async def test_a_conversation_that_ends_leaves_no_reminder(chat: Conversation, app, clock):
    await chat.send("anna", "hello")
    assert len(waiting(app)) == 2
    await chat.send("anna", "no")  # no consent: the intake ends
    assert "not stored your answers" in chat.last("anna")
    assert waiting(app) == []
    clock.advance(timedelta(days=30))
    await app.core.dispatcher.run_due()
    assert "gentle reminder" not in " ".join(chat.new("anna"))


async def test_a_reminder_already_taken_is_left_and_the_next_question_gets_its_own(
    chat: Conversation, app, clock
):
    await chat.send("anna", "hello")
    run = the_run(app)
    with app.store.session() as session:  # the dispatcher has just claimed the reminder
        later = clock.now() + timedelta(days=2)
        (taken,) = claims.claim(
            session, "other", later, timedelta(minutes=5), 10, jobs=[REMIND], jobs_limit=1
        )
    assert taken.idempotency_key == f"remind:{run.id}:consent:1"
    await chat.send("anna", "yes")
    keys = [key for _, key, _ in waiting(app)]
    step = the_run(app).step
    assert keys == [
        f"expire:{run.id}:{step}:2",
        f"remind:{run.id}:consent:1",  # claimed: its job finds the question answered
        f"remind:{run.id}:{step}:2",
    ]
    chat.new("anna")
    clock.advance(timedelta(hours=49))
    await app.core.dispatcher.run_due()
    reminder = chat.new("anna")
    assert "gentle reminder" in reminder[0] and len(reminder) == 2  # once, for the open question
