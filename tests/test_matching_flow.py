"""From intakes to a proposal, approval, spaces and a completed kennismakingsgids."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot import spaces
from bot.domain import (
    IntakeAnswer,
    MatchProposal,
    OutboxItem,
    Pair,
    PairStatus,
    Role,
)
from bot.events import Command, PersonRef
from bot.testing import Conversation
from tests import participants

MENTOR = {
    "background": {"field": "Law", "current": "Lawyer"},
    "expertise": ["planning"],
    "capacity": 2,
    "weekdays": ["tue", "thu"],
    "dayparts": ["evening"],
    "language": "nl",
}


def mentee_answers(field: str = "Law", language: str = "nl") -> dict:
    return {
        "studies": {"programme": field, "year": 1},
        "topics": ["planning"],
        "weekdays": ["tue"],
        "dayparts": ["evening"],
        "language": language,
        "hopes": f"secret hopes of a {field} student",
    }


def enrol(app, who: str, role: Role, answers: dict) -> int:
    """Someone who finished intake (as if through the intake flow), in the console."""
    ref = PersonRef("console", "test", who)
    return participants.enrol(app.store, app.core.clock.now(), ref, who.capitalize(), role, answers)


@pytest.fixture
async def people(app, chat: Conversation):
    await chat.send("cora", "hello")
    return {
        "maarten": enrol(app, "maarten", Role.MENTOR, MENTOR),
        "anna": enrol(app, "anna", Role.MENTEE, mentee_answers()),
        "bram": enrol(app, "bram", Role.MENTEE, mentee_answers("Medicine")),
        "eva": enrol(app, "eva", Role.MENTEE, mentee_answers("Law", "en")),
    }


async def fill_guide(
    chat: Conversation,
    who: str,
    cadence: str,
    days: str,
    second: str = "01-12-2026",
    third: str = "",
) -> None:
    """Fill in `who`'s part of the kennismakingsgids (evenings; `second` and `third` are the
    proposed dates for meetings 2 and 3)."""
    space = chat.last_message(who)
    assert space.choices, "expected the first kennismaking question"
    await chat.send(who, "1,2")
    await chat.submit(who, {"phone": "", "email": f"{who}@example.org"})
    await chat.send(who, "1")
    await chat.send(who, cadence)
    await chat.send(who, days)
    await chat.send(who, "3")
    outcome = await chat.submit(who, {"second": second, "third": third})
    assert not outcome.form_errors
    await chat.submit(who, {"thoughts": "freedom", "topics": "planning", "questions": ""})
    await chat.submit(who, {"expectations": "honesty"})
    await chat.submit(
        who, {"reply": "within two days", "cancel": "a day ahead", "private": "everything personal"}
    )


async def test_proposal_approval_spaces_and_guide(app, chat: Conversation, people, clock):
    await chat.command("cora", "match")
    proposal = chat.last("cora")
    assert "Group of Maarten" in proposal
    assert "Anna — fit" in proposal and "same field: Law" in proposal
    assert "Eva: no common language" in proposal
    assert "Bram" in proposal and "secret hopes" not in proposal
    with app.store.session() as session:
        assert session.exec(select(Pair)).all() == []  # nothing before approval

    await chat.click("cora", "all")
    assert "Approved: 2 pairs" in chat.new("cora")[-1]
    with app.store.session() as session:
        pairs = session.exec(select(Pair)).all()
    assert {p.mentee_id for p in pairs} == {people["anna"], people["bram"]}
    assert all(p.space_channel for p in pairs)
    assert any("matched in Mentoraat Test" in t and "Maarten" in t for t in chat.new("anna"))
    group_posts = chat.messages("#group-test-group-maarten")
    assert "Welcome to the group of Maarten" in group_posts[0].text

    for who, cadence, days in (("maarten", "1", "2,4"), ("anna", "2", "2")):
        chat.enter(who, "pair-test-maarten-anna")
        await fill_guide(chat, who, cadence, days)
    guide = chat.messages("#pair-test-maarten-anna")[-1].text
    assert "introduction guide is complete" in guide
    assert "anna@example.org" in guide and "maarten@example.org" in guide
    assert "within two days" in guide
    assert any("Your copy of the introduction guide" in t for t in chat.new("anna"))
    assert "bram" not in guide.lower()
    with app.store.session() as session:
        pair = session.exec(select(Pair).where(Pair.mentee_id == people["anna"])).one()
    assert pair.agreement["cadence"] == "weekly" and not pair.agreement["cadence_agreed"]
    assert pair.agreement["weekdays"] == ["tue"]
    assert pair.agreement["dates"] == ["2026-12-01"]

    # ending the match: the mentee is free again, but never proposed to Maarten again
    await chat.command("cora", "match", "release", "anna")
    with app.store.session() as session:
        pair = session.get(Pair, pair.id)
    assert pair.status == PairStatus.ENDED
    await chat.command("cora", "match")
    assert "Anna — fit" not in chat.last("cora")


async def test_swap_move_and_approving_one_group(app, chat: Conversation, people):
    mila = enrol(app, "mila", Role.MENTOR, {**MENTOR, "background": {"field": "Medicine"}})
    await chat.command("cora", "match")
    text = chat.last("cora")
    assert "Group of Mila" in text and "Group of Maarten" in text
    await chat.command("cora", "match", "swap", "anna", "bram")
    await chat.command("cora", "match", "move", "eva", "none")
    with app.store.session() as session:
        proposal = session.exec(select(MatchProposal).where(MatchProposal.status == "open")).one()
    placed = {a["mentee"]: int(m) for m, group in proposal.groups.items() for a in group}
    assert placed == {people["anna"]: mila, people["bram"]: people["maarten"]}
    await chat.command("cora", "match", "approve", "Mila")
    with app.store.session() as session:
        pairs = session.exec(select(Pair)).all()
    assert [(p.mentor_id, p.mentee_id) for p in pairs] == [(mila, people["anna"])]
    await chat.command("cora", "match", "swap", "anna", "nobody")
    assert "couldn't find both mentees" in chat.last("cora")


async def test_a_later_intake_joins_the_existing_group(app, chat: Conversation, people):
    await chat.command("cora", "match")
    await chat.click("cora", "all")
    chat.new("cora")
    daan = enrol(app, "daan", Role.MENTEE, mentee_answers())
    with app.store.session() as session:  # room for one more
        answer = session.exec(
            select(IntakeAnswer).where(
                IntakeAnswer.person_id == people["maarten"], IntakeAnswer.key == "capacity"
            )
        ).one()
        answer.value = 3
        session.add(answer)
    await chat.command("cora", "match")
    assert "Group of Maarten (already 2 in the group)" in chat.last("cora")
    await chat.click("cora", "all")
    posts = [m.text for m in chat.messages("#group-test-group-maarten")]
    assert posts[-1] == "Welcome to the group, Daan!"
    with app.store.session() as session:
        assert session.exec(select(Pair).where(Pair.mentee_id == daan)).one().space_channel


async def test_matching_without_mentors_answers_clearly(app, chat: Conversation):
    await chat.send("cora", "hello")
    enrol(app, "anna", Role.MENTEE, mentee_answers())
    await chat.command("cora", "match")
    assert "Nothing to approve" in chat.last("cora")
    assert "no mentors to match with" in chat.last("cora")


async def test_match_is_for_coordinators_only(chat: Conversation, people):
    await chat.command("anna", "match")
    assert "only the programme's coordinators" in chat.last("anna")


async def test_status_shows_the_spaces_still_to_open(app, chat: Conversation, people):
    await chat.command("cora", "match")
    await chat.click("cora", "all")
    assert "Under way" not in chat.last("cora")  # everything was opened already
    with app.store.session() as session:
        pair = session.exec(select(Pair)).first()
        spaces.plan_pairs(session, [pair], app.core.clock.now())  # as if still to be opened
        session.exec(update(OutboxItem).where(OutboxItem.kind == "space.open").values(done_at=None))
    await app.core.handle(
        Command(
            name="status",
            args=(),
            person=chat.ref("cora"),
            space=chat.space("cora"),
            event_id="status-1",
        )
    )
    await app.core.dispatcher.run_due()
    assert any("Under way: 3 spaces to open" in t for t in chat.new("cora"))
