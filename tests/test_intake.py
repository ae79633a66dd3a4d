"""The intake, scripted as a mentee and a mentor would go through it."""

from __future__ import annotations

from sqlmodel import select

from bot.domain import Consent, Identity, IntakeAnswer, IntakeState, Membership, Person, Role
from bot.testing import Conversation

MENTEE_ANSWERS = [
    ("consent", "yes"),
    ("role", "1"),
    ("studies", {"programme": "Law", "year": "1"}),
    ("hopes", "Plan my first year better 📅"),
    ("topics", "1,3"),
    ("weekdays", "2,4"),
    ("dayparts", "3"),
    ("available_from", "20-10-2026"),
    ("language", "3"),
    ("channels", "1"),
    ("learning", "1"),
    ("support_check", "no"),
    ("motivation", "4"),
    ("motivation_why", "I want to find my way faster."),
    ("timezone", "1"),
    ("commitment", "yes"),
]


async def run_intake(chat: Conversation, who: str, answers: list) -> None:
    await chat.send(who, "hello")
    for _, answer in answers:
        if isinstance(answer, dict):
            outcome = await chat.submit(who, answer)
            assert not outcome.form_errors
        else:
            await chat.send(who, answer)


async def test_mentee_intake_in_english_stores_structured_answers(chat: Conversation, app):
    await run_intake(chat, "anna", MENTEE_ANSWERS)
    assert "intake is complete" in chat.last("anna")
    with app.store.session() as session:
        answers = {a.key: a.value for a in session.exec(select(IntakeAnswer))}
        membership = session.exec(select(Membership)).one()
    assert answers["studies"] == {"programme": "Law", "year": 1}
    assert answers["topics"] == ["planning", "finding_way"]
    assert answers["weekdays"] == ["tue", "thu"]
    assert answers["available_from"] == "2026-10-20"
    assert answers["motivation"] == 4
    assert answers["hopes"] == "Plan my first year better 📅"
    assert membership.role == Role.MENTEE and membership.intake == IntakeState.COMPLETE


async def test_mentee_intake_in_dutch(chat: Conversation, app):
    await chat.command("anna", "language", "nl")
    assert chat.last("anna") == "Vanaf nu praat ik Nederlands met je."
    await run_intake(
        chat,
        "anna",
        [(k, "ja" if v == "yes" else "nee" if v == "no" else v) for k, v in MENTEE_ANSWERS],
    )
    texts = chat.new("anna")
    assert any("Mag ik je antwoorden" in t for t in texts), texts[:3]
    assert "je intake is compleet" in chat.last("anna")


async def test_mentor_intake_asks_mentor_questions(chat: Conversation, app):
    await chat.send("maria", "hi")
    await chat.send("maria", "yes")
    await chat.click("maria", "mentor")
    assert "background" in chat.last("maria")
    await chat.submit("maria", {"field": "Law", "current": "Lawyer"})
    await chat.send("maria", "1,2")
    assert "How many mentees" in chat.last("maria")
    await chat.send("maria", "12")
    assert "from 1 to 8" in chat.new("maria")[-2]
    for answer in ["3", "1", "1,2", "01-11-2026", "2", "1,4", "Coaching skills", "1", "yes"]:
        await chat.send("maria", answer)
    assert "intake is complete" in chat.last("maria")
    with app.store.session() as session:
        answers = {a.key: a.value for a in session.exec(select(IntakeAnswer))}
    assert answers["capacity"] == 3 and answers["expertise"] == ["planning", "study_skills"]
    assert "hopes" not in answers and answers["learn_wish"] == "Coaching skills"


async def test_nothing_is_stored_before_consent_and_no_means_forgotten(chat, app, clock):
    from datetime import timedelta

    await chat.send("bob", "hello")
    await chat.send("bob", "no")
    assert "not stored" in chat.last("bob")
    with app.store.session() as session:
        assert session.exec(select(Consent)).all() == []
        assert session.exec(select(IntakeAnswer)).all() == []
        assert session.exec(select(Membership)).all() == []
    clock.advance(timedelta(hours=2))
    await app.core.dispatcher.run_due()
    with app.store.session() as session:
        assert session.exec(select(Identity)).all() == []
        assert session.exec(select(Person)).all() == []


async def test_referral_is_shown_and_coordinators_are_told(chat, app):
    await chat.send("cora", "hello")  # the coordinator makes herself known
    assert "coordinate" in chat.last("cora")
    answers = [(k, "yes" if k == "support_check" else v) for k, v in MENTEE_ANSWERS]
    await run_intake(chat, "anna", answers)
    assert any("020-1234567" in t for t in chat.new("anna"))
    assert any("more help than mentoring" in t for t in chat.new("cora"))
    with app.store.session() as session:
        membership = session.exec(select(Membership).where(Membership.role == Role.MENTEE)).one()
    assert membership.needs_referral


async def test_no_commitment_is_recorded(chat, app):
    answers = [(k, "no" if k == "commitment" else v) for k, v in MENTEE_ANSWERS]
    await run_intake(chat, "anna", answers)
    with app.store.session() as session:
        membership = session.exec(select(Membership)).one()
    assert membership.intake == IntakeState.NOT_COMMITTED
