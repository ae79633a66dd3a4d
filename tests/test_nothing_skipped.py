"""Nothing silently skipped: goals that could not start because a check-in was open start when
it closes, and a "no" to the intake's commitment question can be taken back."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.domain import IntakeAnswer, IntakeState, Membership, OutboxItem, Role
from bot.testing import Conversation
from flows.growth import checkins
from tests.meeting_support import answer, open_meeting
from tests.test_goals import held_meeting
from tests.test_intake import MENTEE_ANSWERS, run_intake
from tests.test_matching_flow import MENTOR, enrol

GOAL = ("Plan one exam week", "a plan for 1 exam", "4", "Less stress", "15-11-2026", "yes", "no")


async def test_goals_wait_for_an_open_check_in_and_start_when_it_closes(
    app, chat: Conversation, clock
):
    pair_id = await held_meeting(app, chat, clock)
    for text in GOAL:
        await chat.send("anna", text)
    assert "Your goals are saved" in chat.last("anna")

    clock.advance(timedelta(days=3, hours=1))  # the check-in starts; Anna leaves it open
    await app.core.dispatcher.run_due()
    assert "Time for a short check-in" in chat.last("anna")
    chat.new("anna")

    await answer(chat, "anna", "yes", "meet")  # meeting 2 is confirmed and held
    await answer(chat, "maarten", "yes", "meet")
    meeting = open_meeting(app, pair_id)
    clock.set(meeting.starts_at + timedelta(hours=2))
    await app.core.dispatcher.run_due()
    await answer(chat, "maarten", "yes", "met")
    assert not any("Let's set a goal" in t for t in chat.new("anna"))  # she is busy

    clock.advance(timedelta(hours=1))
    await app.core.dispatcher.run_due()
    for text in ("I made a plan", "Sticking to it", "3", "no"):
        await chat.send("anna", text)
    texts = chat.new("anna")
    assert any("Thanks for checking in!" in t for t in texts)
    assert "Let's set a goal for the coming weeks (1 of at most 3 open now)" in texts[-1]


async def test_a_no_to_the_commitment_can_be_taken_back(app, chat: Conversation):
    await chat.send("cora", "hello")
    enrol(app, "maarten", Role.MENTOR, {**MENTOR, "language": "either"})
    answers = [(k, "no" if k == "commitment" else v) for k, v in MENTEE_ANSWERS]
    await run_intake(chat, "anna", answers)
    refusal = chat.last_message("anna")
    assert "Without that commitment" in refusal.text
    assert [o.value for o in refusal.choices] == ["yes"]
    await chat.command("cora", "match")
    assert "Nothing to approve" in chat.last("cora")

    await chat.send("anna", "hello again")  # writing later offers the same way back
    assert "Do you commit now?" in chat.last("anna")
    await chat.click("anna", "yes")
    assert "Your intake is complete now" in chat.last("anna")
    assert any("now commits to Mentoraat Test" in t for t in chat.new("cora"))
    with app.store.session() as session:
        membership = session.exec(select(Membership).where(Membership.role == Role.MENTEE)).one()
        commitment = session.exec(
            select(IntakeAnswer).where(IntakeAnswer.key == "commitment")
        ).one()
    assert membership.intake == IntakeState.COMPLETE and commitment.value is True

    await chat.command("cora", "match")
    assert "Group of Maarten" in chat.last("cora")
    await chat.command("anna", "commit")
    assert "already in" in chat.last("anna")


async def test_a_check_in_waits_for_open_goals_without_polling_and_starts_when_they_are_set(
    app, chat: Conversation, clock
):
    await held_meeting(app, chat, clock)
    assert any("Let's set a goal" in t for t in chat.new("anna"))  # she leaves it for ten days
    for _ in range(10 * 4):
        clock.advance(timedelta(hours=6))
        await app.core.dispatcher.run_due()
    assert not any("Time for a short check-in" in t for t in chat.new("anna"))
    with app.store.session() as session:
        tries = session.exec(
            select(OutboxItem).where(OutboxItem.kind == checkins.CHECKIN_DUE)
        ).all()
    assert len(tries) <= 6  # backing off, not every six hours (that was 29)

    for text in GOAL:
        await chat.send("anna", text)
    await app.core.dispatcher.run_due()  # no clock moved: the waiting check-in is due now
    texts = chat.new("anna")
    assert any("Your goals are saved" in t for t in texts)
    assert "Time for a short check-in" in texts[-1]
