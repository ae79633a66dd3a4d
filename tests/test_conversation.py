"""The engine as a person meets it: bad input, restarts, reminders, buttons, commands mid-flow."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.domain import FlowRun, IntakeAnswer, Membership, Role, RunStatus
from bot.events import Message
from bot.testing import Conversation, build_app, console_adapter


async def start_intake(chat: Conversation, who: str = "anna") -> None:
    await chat.send(who, "hello")
    await chat.send(who, "yes")
    await chat.click(who, "mentee")
    await chat.submit(who, {"programme": "Law", "year": "2"})
    chat.new(who)


async def test_bad_answers_get_a_reason_and_the_question_again(chat: Conversation):
    await start_intake(chat)
    await chat.send("anna", "x" * 5000)
    reason, question = chat.new("anna")
    assert "5000 characters" in reason and "under 1000" in reason
    assert "hope to get out of" in question
    await chat.send("anna", "   ")
    assert "didn't get an answer" in chat.new("anna")[0]
    await chat.send("anna", "أريد أن أتعلم التخطيط 😀")  # right-to-left text and emoji are fine
    assert "Which topics" in chat.last("anna")
    await chat.send("anna", "9")
    assert "I don't know option '9'" in chat.new("anna")[-2]
    await chat.click("anna", "nonsense")
    assert "number from 1 to 8" in chat.new("anna")[-2]
    for answer in ["1", "2", "3"]:
        await chat.send("anna", answer)
    assert "first meeting" in chat.last("anna")
    for bad, reason in [
        ("31-02-2027", "can't read that date"),
        ("someday", "can't read"),
        ("01-01-2020", "already passed"),
    ]:
        await chat.send("anna", bad)
        assert reason in chat.new("anna")[-2], bad
    await chat.send("anna", "tomorrow")
    assert "language" in chat.last("anna")
    run = chat.core.engine
    with chat.core.store.session() as session:
        (active,) = session.exec(select(FlowRun).where(FlowRun.status == RunStatus.ACTIVE))
        assert active.answers["hopes"] == "أريد أن أتعلم التخطيط 😀"
        assert active.answers["available_from"] == "2026-10-06"
        assert active.answers["studies"] == {"programme": "Law", "year": 2}
    assert run is not None


async def test_form_errors_come_back_per_field_and_nothing_is_lost(chat: Conversation):
    await chat.send("anna", "hello")
    await chat.send("anna", "yes")
    await chat.click("anna", "mentee")
    outcome = await chat.submit("anna", {"programme": "", "year": "eleven"})
    assert outcome.form_errors == {
        "programme": "This one is required.",
        "year": "Please answer with a whole number, like 3.",
    }
    outcome = await chat.submit("anna", {"programme": "Law", "year": "11"})
    assert outcome.form_errors == {"year": "Please give a number from 1 to 10."}
    await chat.send("anna", "typing instead of the form")
    assert "please fill it in" in chat.new("anna")[-2]
    outcome = await chat.submit("anna", {"programme": "Law", "year": "1"})
    assert outcome.form_errors is None
    assert "hope to get out of" in chat.last("anna")


async def test_a_restart_continues_at_the_same_question(database_url, clock):
    first_console = console_adapter()
    first = build_app(database_url, clock, adapters={"console": first_console})
    chat = Conversation(first.core, first_console)
    await start_intake(chat)
    await chat.send("anna", "Get organised")
    assert "Which topics" in chat.last("anna")
    first.store.dispose()

    console = console_adapter()
    second = build_app(database_url, clock, adapters={"console": console})
    chat = Conversation(second.core, console)
    await second.core.resume(chat.ref("anna"), chat.space("anna"))
    await second.core.dispatcher.run_due()
    assert "Which topics" in chat.last("anna")
    await chat.send("anna", "2")
    assert "which days" in chat.last("anna")
    with second.store.session() as session:
        run = session.exec(select(FlowRun)).one()
    assert run.answers["hopes"] == "Get organised" and run.answers["topics"] == ["study_skills"]
    second.store.dispose()


async def test_the_same_event_twice_is_processed_once(chat: Conversation):
    await chat.send("anna", "hello", event_id="Ev1")
    await chat.send("anna", "yes", event_id="Ev2")
    first = chat.new("anna")
    outcome = await chat.send("anna", "yes", event_id="Ev2")
    assert outcome.duplicate and chat.new("anna") == []
    assert len(first) == 2


async def test_an_old_button_does_not_answer_a_later_question(chat: Conversation):
    await chat.send("anna", "hello")
    consent_token = chat.last_message("anna").choice_token
    await chat.click("anna", "yes")
    await chat.click("anna", "yes", token=consent_token)
    assert "already been answered" in chat.new("anna")[-2]
    await chat.click("anna", "yes", token="f:99999:consent")
    assert "no longer works" in chat.last("anna")


async def test_reminder_after_two_days_then_expiry_keeps_answers(chat, app, clock):
    await start_intake(chat)
    await chat.send("anna", "Better planning")
    chat.new("anna")
    clock.advance(timedelta(hours=47))
    await app.core.dispatcher.run_due()
    assert chat.new("anna") == []
    clock.advance(timedelta(hours=2))
    await app.core.dispatcher.run_due()
    reminder = chat.new("anna")
    assert "gentle reminder" in reminder[0] and "Which topics" in reminder[1]
    await app.core.dispatcher.run_due()
    assert chat.new("anna") == []  # once only
    clock.advance(timedelta(days=22))
    await app.core.dispatcher.run_due()
    assert "paused your intake" in chat.last("anna")
    await chat.send("anna", "I'm back")
    assert "May I store" in chat.new("anna")[-1]
    with app.store.session() as session:
        runs = session.exec(select(FlowRun).order_by(FlowRun.id)).all()
    assert [r.status for r in runs] == [RunStatus.EXPIRED, RunStatus.ACTIVE]
    assert runs[0].answers["hopes"] == "Better planning"


async def test_an_answered_question_is_not_reminded(chat, app, clock):
    await start_intake(chat)
    await chat.send("anna", "Better planning")
    await chat.send("anna", "1")
    clock.advance(timedelta(hours=49))
    await app.core.dispatcher.run_due()
    texts = chat.new("anna")
    assert len(texts) == 4  # the two questions + the reminder for the open one, asked again
    assert "which days" in texts[-1]


async def test_commands_work_mid_flow_and_the_question_comes_back(chat: Conversation):
    await start_intake(chat)
    await chat.command("anna", "help")
    texts = chat.new("anna")
    assert "privacy" in texts[0] and "status" not in texts[0]
    assert texts[1] == "Back to where we were:" and "hope to get out of" in texts[2]
    await chat.command("anna", "status")
    assert "only the programme's coordinators" in chat.new("anna")[0]
    await chat.command("anna", "frobnicate")
    assert "don't know the command 'frobnicate'" in chat.new("anna")[0]


async def test_language_switch_changes_the_next_question(chat: Conversation):
    await start_intake(chat)
    await chat.command("anna", "language", "nl")
    texts = chat.new("anna")
    assert texts[0] == "Vanaf nu praat ik Nederlands met je."
    assert "Wat hoop je" in texts[2]
    await chat.command("anna", "language", "fr")
    assert chat.last_message("anna").choices[0].label == "Nederlands"


async def test_privacy_export_and_erase(chat, app):
    await start_intake(chat)
    await chat.send("anna", "Plan better")
    chat.new("anna")
    await chat.command("anna", "privacy")
    assert "intake answers" in chat.new("anna")[0]
    await chat.click("anna", "export")
    export = chat.messages("anna")[-3].files[0]
    assert export.filename.endswith(".json") and b'"hopes": "Plan better"' in export.content
    await chat.command("anna", "privacy", "erase")
    assert "cannot be undone" in chat.last("anna")
    await chat.click("anna", "confirm", token="c:privacy:erase")
    assert "erased everything" in chat.last("anna")
    with app.store.session() as session:
        assert session.exec(select(FlowRun)).all() == []
        assert session.exec(select(IntakeAnswer)).all() == []


async def test_status_for_a_coordinator(chat: Conversation):
    await start_intake(chat, "anna")
    await chat.send("cora", "hello")
    await chat.command("cora", "status")
    text = chat.last("cora")
    assert "Mentoraat Test" in text
    assert "Mentees: 1 (1 intake in progress)" in text
    assert "Mentors: 0 (none yet)" in text


async def test_user_text_is_escaped_by_the_adapter(app, chat: Conversation):
    await start_intake(chat)
    console = chat.console
    assert console.escape("a\x1b[31mred") == "a[31mred"
    await chat.command("anna", "nope\x1b[2J")
    assert "\x1b" not in chat.last("anna")


async def test_one_persons_events_arriving_together_are_handled_in_order(app, chat, monkeypatch):
    """On PostgreSQL the store runs events on several threads; one person's still go one at a
    time, in the order they came, so the answers land on the questions they answer."""
    handle, inside, seen = app.core._handle, [], []

    def watched(event):
        inside.append(event.event_id)
        seen.append(list(inside))
        try:
            return handle(event)
        finally:
            inside.remove(event.event_id)

    monkeypatch.setattr(app.core, "_handle", watched)
    ref, space = chat.ref("anna"), chat.space("anna")
    events = [
        Message(person=ref, space=space, event_id=f"e{n}", text=text)
        for n, text in enumerate(["hello", "yes", "mentee", "hello"])
    ]
    await asyncio.gather(*(app.core.handle(event) for event in events))
    assert seen == [["e0"], ["e1"], ["e2"], ["e3"]]
    await app.core.dispatcher.run_due()
    with app.store.session() as session:
        (membership,) = session.exec(select(Membership)).all()
        assert membership.role == Role.MENTEE
        (active,) = session.exec(select(FlowRun).where(FlowRun.status == RunStatus.ACTIVE))
        assert active.answers["consent"] is True and active.step == "studies"
