"""SMART goals judged in Dutch and English alike: specific enough, and measurable."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.domain import Goal
from bot.testing import Conversation
from flows.growth.smart import is_measurable, is_specific
from tests.test_goals import held_meeting


@pytest.mark.parametrize(
    ("text", "specific"),
    [
        ("Tentamen statistiek halen voor 1 maart", True),
        ("Mijn scriptie afmaken", True),
        ("Plan my exam weeks", True),
        ("Read ahead", True),
        ("get better", False),
        ("beter worden", False),
        ("Beter worden in statistiek", False),
        ("work harder", False),
        ("meer doen", False),
    ],
)
def test_specific_in_both_languages(text: str, specific: bool) -> None:
    assert is_specific(text) is specific


@pytest.mark.parametrize(
    ("text", "measurable"),
    [
        ("Tentamen statistiek halen voor 1 maart", True),
        ("Tentamen statistiek gehaald", True),
        ("mijn statistiektentamen ingeleverd", True),
        ("elke week een uur lezen", True),
        ("een planning op papier", True),
        ("3 chapters summarised", True),
        ("exam passed", True),
        ("better", False),
        ("ik voel me beter", False),
        ("feel more confident", False),
    ],
)
def test_measurable_in_both_languages(text: str, measurable: bool) -> None:
    assert is_measurable(text) is measurable


async def test_the_goal_conversation_judges_dutch_like_english(
    app, chat: Conversation, clock
) -> None:
    await held_meeting(app, chat, clock)
    chat.new("anna")
    await chat.send("anna", "get better")
    assert "Make it specific" in chat.new("anna")[-2]
    await chat.send("anna", "Tentamen statistiek halen voor 1 maart")
    assert "How will you know you've done it?" in chat.new("anna")[-1]
    await chat.send("anna", "Tentamen statistiek gehaald")  # no number, but checkable
    assert "How sure are you" in chat.new("anna")[-1]
    for text in ("4", "Dan kan ik door", "01-03-2027", "yes", "no"):
        await chat.send("anna", text)
    assert "Your goals are saved" in chat.last("anna")
    with app.store.session() as session:
        (goal,) = session.exec(select(Goal)).all()
    assert (goal.what, goal.measure) == (
        "Tentamen statistiek halen voor 1 maart",
        "Tentamen statistiek gehaald",
    )
