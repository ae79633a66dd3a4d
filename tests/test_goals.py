"""A held meeting leads to SMART goals, a check-in midway to the next meeting, and the mentor
seeing both."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.domain import CheckIn, Goal, GoalStatus
from bot.testing import Conversation
from tests.meeting_support import answer, enter_pair, open_meeting, planned_pair


async def held_meeting(app, chat: Conversation, clock) -> int:
    await chat.send("cora", "hello")
    pair_id = await planned_pair(app, clock.now())
    await answer(chat, "anna", "yes")
    await answer(chat, "maarten", "yes")
    meeting = open_meeting(app, pair_id)
    clock.set(meeting.starts_at + timedelta(hours=2))
    await app.core.dispatcher.run_due()
    enter_pair(chat, "anna", "maarten")
    await answer(chat, "maarten", "yes", "met")
    return pair_id


async def test_a_held_meeting_leads_to_a_smart_goal_and_the_mentor_can_comment(
    app, chat: Conversation, clock
):
    pair_id = await held_meeting(app, chat, clock)
    assert any("set a goal for the coming weeks (0 of at most 3" in t for t in chat.new("anna"))
    await chat.send("anna", "Plan my exam weeks")
    await chat.send("anna", "better")  # not measurable
    assert "Make it measurable" in chat.new("anna")[-2]
    await chat.send("anna", "a week plan for 3 exams")
    await chat.send("anna", "2")  # not confident: make it smaller
    assert "a bit smaller" in chat.new("anna")[-2]
    await chat.send("anna", "Plan one exam week")
    await chat.send("anna", "a plan for 1 exam")
    await chat.send("anna", "4")
    await chat.send("anna", "Less stress")
    await chat.send("anna", "01-01-2020")
    assert "already passed" in chat.new("anna")[-2]
    await chat.send("anna", "15-11-2026")
    summary = chat.last("anna")
    assert "• What: Plan one exam week" in summary and "• How you'll know: a plan for 1 exam" in (
        summary
    )
    await chat.send("anna", "yes")
    await chat.send("anna", "no")
    assert "Your goals are saved" in chat.last("anna")
    with app.store.session() as session:
        (goal,) = session.exec(select(Goal)).all()
    assert (goal.what, goal.measure, goal.confidence, goal.why) == (
        "Plan one exam week",
        "a plan for 1 exam",
        4,
        "Less stress",
    )
    assert goal.due.isoformat() == "2026-11-15" and goal.pair_id == pair_id

    note = chat.last_message("maarten")
    assert "Anna set a new goal: Plan one exam week" in note.text
    chat.where.pop("maarten")  # the comment button came in the mentor's direct chat
    await chat.click("maarten", "comment")
    await chat.send("maarten", "Good, small and clear!")
    assert "Your mentor commented on your goal 'Plan one exam week'" in chat.last("anna")

    chat.where.pop("anna")
    await chat.command("anna", "goals")
    assert "1. Plan one exam week (a plan for 1 exam)" in chat.new("anna")[-1]
    await chat.command("anna", "goals", "done", "1")
    with app.store.session() as session:
        assert session.get(Goal, goal.id).status == GoalStatus.DONE


async def test_a_check_in_midway_with_help_needed_now(app, chat: Conversation, clock):
    pair_id = await held_meeting(app, chat, clock)
    for text in (
        "Plan one exam week",
        "a plan for 1 exam",
        "4",
        "Less stress",
        "15-11-2026",
        "yes",
        "yes",
        "Read ahead",
        "3 chapters read",
        "5",
        "Keep up",
        "20-11-2026",
        "yes",
        "no",
    ):
        await chat.send("anna", text)
    assert "Your goals are saved" in chat.last("anna")
    chat.new("maarten")

    clock.advance(timedelta(days=3, hours=1))  # weekly meetings: halfway
    await app.core.dispatcher.run_due()
    assert "Time for a short check-in" in chat.last("anna")
    await chat.send("anna", "I made a plan")
    await chat.send("anna", "Sticking to it")
    assert "How far along are you with 'Plan one exam week'?" in chat.last("anna")
    await chat.send("anna", "3")
    assert "How far along are you with 'Read ahead'?" in chat.last("anna")
    await chat.send("anna", "1")
    await chat.send("anna", "yes")
    to_mentor = chat.new("maarten")
    assert any("could use your help now" in t for t in to_mentor)
    assert any("Check-in from Anna" in t and "Plan one exam week: 3 of 5" in t for t in to_mentor)
    with app.store.session() as session:
        (checkin,) = session.exec(select(CheckIn)).all()
        goals = session.exec(select(Goal).order_by(Goal.id)).all()
    assert checkin.pair_id == pair_id and checkin.help_needed
    assert [g.progress for g in goals] == [3, 1]


async def test_a_goals_conversation_with_three_open_goals_says_so_instead_of_failing(
    app, chat: Conversation, clock
):
    await held_meeting(app, chat, clock)
    for what, measure, another in (
        ("Plan one exam week", "a plan for 1 exam", ("yes",)),
        ("Read ahead for statistics", "3 chapters read", ("yes",)),
        ("Register for the resit", "registered by Friday", ()),
    ):
        for text in (what, measure, "4", "Less stress", "15-12-2026", "yes", *another):
            await chat.send("anna", text)
    assert "Your goals are saved" in chat.last("anna")  # the third: no room for another

    chat.where.pop("anna")
    outcome = await chat.command("anna", "goals", "new")
    assert outcome is not None
    reply = chat.last("anna")
    assert "3 open goals" in reply and "goals done" in reply
    with app.store.session() as session:
        assert len(session.exec(select(Goal)).all()) == 3
