"""The safety net, scripted as people would meet it: worrying words at an intake question, in a
direct message outside any conversation, in a check-in in the pair space, and 'hulp' / 'help
now' on request. The person gets the crisis line at once, coordinators are told who and where
(never the words, unless the person agrees), mentors see nothing, and the conversation goes on.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot import outbox
from bot.domain import FlowRun, IntakeAnswer, Role, SafeguardingAlert
from bot.events import PersonRef
from bot.testing import Conversation
from flows.growth import checkins
from tests import participants
from tests.meeting_support import make_pair

CRISIS = "113 Zelfmoordpreventie, 0800-0113"
REFERRAL = "020-1234567"  # in bot.testing's programme


@pytest.fixture
def safe(make_app):
    """A programme with a crisis line; Cora, its coordinator, has written to Maatje."""

    async def start(**settings):
        app, chat = make_app(crisis_line=CRISIS, **settings)
        await chat.send("cora", "hello")
        chat.new("cora")
        return app, chat

    return start


async def to_hopes(chat: Conversation, who: str = "anna") -> None:
    """Intake up to its first free-text question ("What do you hope ...")."""
    await chat.send(who, "hello")
    await chat.send(who, "yes")
    await chat.send(who, "1")
    await chat.submit(who, {"programme": "Law", "year": "1"})
    assert "hope" in chat.last(who) or "hoop" in chat.last(who)
    chat.new(who)


def alerts_in(app) -> list[SafeguardingAlert]:
    with app.store.session() as session:
        return list(session.exec(select(SafeguardingAlert)).all())


def answers_of(app, who_id: str = "anna") -> dict:
    with app.store.session() as session:
        runs = session.exec(select(FlowRun).where(FlowRun.flow == "intake")).all()
        stored = session.exec(select(IntakeAnswer)).all()
    return {**{k: v for r in runs for k, v in r.answers.items()}, **{a.key: a for a in stored}}


async def test_dutch_words_at_an_intake_question_reach_a_coordinator_by_name(safe):
    app, chat = await safe(language="nl")
    await to_hopes(chat)
    await chat.send("anna", "Eerlijk gezegd denk ik aan zelf-moord")

    [told] = chat.new("anna")
    assert CRISIS in told and REFERRAL in told
    assert "coördinatoren" in told and "niet wat je schreef" in told
    asked = chat.last_message("anna")
    assert [o.value for o in asked.choices] == ["yes", "no"]
    assert asked.choice_token and asked.choice_token.startswith("c:concern:")

    [notice] = chat.new("cora")
    assert "console-account anna" in notice and "Mentoraat Test" in notice
    assert "tijdens “Rond je intake af”" in notice
    assert "zelf" not in notice.replace("zelf-", "")  # not the words
    assert "zelfmoord" not in notice.lower() and "moord" not in notice
    assert "hopes" not in answers_of(app)  # the words are not taken as an answer

    await chat.click("anna", "no")
    texts = chat.new("anna")
    assert "liever geen contact" in texts[0]
    assert texts[-2] == "Terug naar waar we gebleven waren:" and "hoop" in texts[-1]
    assert "liever geen contact" in chat.last("cora")

    await chat.send("anna", "Beter leren plannen")
    assert "onderwerpen" in chat.last("anna")  # the intake goes on
    assert answers_of(app)["hopes"] == "Beter leren plannen"
    [alert] = alerts_in(app)
    assert (alert.contact, alert.held_text, alert.flow, alert.space_kind) == (
        False,
        None,
        "intake",
        "direct",
    )


async def test_english_words_in_a_form_and_the_person_agrees_to_share(safe):
    app, chat = await safe()
    await chat.send("anna", "hello")
    await chat.send("anna", "yes")
    await chat.send("anna", "1")
    outcome = await chat.submit(
        "anna", {"programme": "Honestly I want to k1ll myself", "year": "1"}
    )
    assert not outcome.form_errors
    assert "sounds serious" in chat.new("anna")[-1]
    [notice] = chat.new("cora")
    assert "console account anna" in notice and "myself" not in notice

    await chat.send("anna", "yes")  # typed, not clicked: it answers the question just asked
    assert "May I pass on what you wrote" in chat.new("anna")[-1]
    assert "would like a coordinator to contact them" in chat.new("cora")[-1]
    await chat.click("anna", "yes")
    texts = chat.new("anna")
    assert "passed it on" in texts[0] and texts[-2] == "Back to where we were:"
    shared = chat.last("cora")
    assert "agreed to share" in shared and "Honestly I want to k1ll myself" in shared
    [alert] = alerts_in(app)
    assert (alert.contact, alert.share, alert.held_text) == (True, True, None)

    # the form is asked again, and a harmless answer moves the intake on
    outcome = await chat.submit("anna", {"programme": "Law", "year": "1"})
    assert "hope" in chat.last("anna")


async def test_a_matched_mentee_writing_outside_a_conversation(safe):
    app, chat = await safe()
    now = app.core.clock.now()
    for user, name, role in (("maarten", "Maarten", Role.MENTOR), ("anna", "Anna", Role.MENTEE)):
        participants.enrol(app.store, now, PersonRef("console", "test", user), name, role, {})
    participants.pair_in_group(app.store, now, "Maarten", "Anna")
    await chat.send("maarten", "hi")
    chat.new("maarten")

    await chat.send("anna", "I feel suicidal and I need professional help")
    [told] = chat.new("anna")
    assert "intake is done" not in told
    assert CRISIS in told and "May a coordinator contact you?" in told
    [notice] = chat.new("cora")
    assert "Anna (" not in notice and "Anna" in notice  # by name
    assert "in their direct chat with me" in notice and "suicidal" not in notice

    # coordinators see the flag by name, in status, pair and the App Home
    await chat.command("cora", "status")
    assert "Safety net, to follow up ('safeguarding'): Anna (since" in chat.last("cora")
    await chat.command("cora", "pair", "Anna")
    assert "the safety net went off for Anna (open)" in chat.last("cora")
    home = await app.core.home(PersonRef("console", "test", "cora"))
    assert any(t.startswith("Safety net: get in touch with Anna") for t in home.tasks)
    await chat.command("cora", "safeguarding")
    assert "Anna: worrying words on" in chat.last("cora")
    assert "may a coordinator contact them: not answered yet" in chat.last("cora")

    # the mentor never does
    for command in (("status",), ("pair", "Anna"), ("safeguarding",)):
        await chat.command("maarten", *command)
        assert "only the programme's coordinators" in chat.last("maarten")
    home = await app.core.home(PersonRef("console", "test", "maarten"))
    assert not any("Safety net" in t or "Anna" in t for t in home.tasks)
    assert not any("Safety net" in t or "suicidal" in t for t in chat.new("maarten"))

    await chat.command("cora", "safeguarding", "done", "ann")
    assert "Anna is marked as followed up" in chat.last("cora")
    await chat.command("cora", "status")
    assert "Safety net, to follow up ('safeguarding'): no one" in chat.last("cora")
    await chat.command("cora", "pair", "Anna")
    assert "the safety net went off for Anna (followed up)" in chat.last("cora")


async def test_a_check_in_answer_in_the_pair_space(safe):
    app, chat = await safe()
    now = app.core.clock.now()
    with app.store.session() as session:
        pair = make_pair(session, now)
        outbox.enqueue(session, checkins.CHECKIN_DUE, {"pair": pair.id}, "checkin:t", now, now)
    await app.core.dispatcher.run_due()
    chat.enter("anna", "pair-test-")
    assert "Time for a short check-in" in chat.last("anna")
    chat.new("anna")
    chat.console.out.truncate(0)  # type: ignore[attr-defined]
    chat.console.out.seek(0)  # type: ignore[attr-defined]

    await chat.send("anna", "Nothing. I want to end it all.")
    screen = chat.console.out.getvalue()  # type: ignore[attr-defined]
    assert "[Maatje → anna] What you wrote sounds serious" in screen  # their direct chat
    assert "[Maatje in #pair-test-maarten-anna → anna] @Anna: Time for a short check-in" in screen
    assert "sounds serious" not in screen.split("[Maatje in #pair-test-maarten-anna")[1]
    notice = chat.new("cora")[-1]
    assert "Anna" in notice and "in their pair space, during “Answer your check-in”" in notice
    assert "end it all" not in notice

    await chat.send("anna", "I made a plan")  # the check-in goes on
    assert "And what was hard?" in chat.last("anna")
    await chat.send("anna", "Sticking to it")
    await chat.send("anna", "no")
    summary = chat.new("maarten")
    assert any("Check-in from Anna" in t and "I made a plan" in t for t in summary)
    assert not any("end it all" in t or "Safety net" in t for t in summary)


async def test_hulp_and_help_now_on_request_and_the_conversation_goes_on(safe):
    app, chat = await safe(language="nl")
    await to_hopes(chat)
    await chat.command("anna", "hulp")
    [told] = chat.new("anna")
    assert told.startswith("Je vroeg om hulp.") and CRISIS in told
    assert "vroeg om hulp" in chat.new("cora")[-1]

    await chat.send("anna", "ja")  # typed: the answer to "may a coordinator contact you?"
    texts = chat.new("anna")
    assert "een van hen neemt contact met je op" in texts[0]
    assert texts[-2] == "Terug naar waar we gebleven waren:" and "hoop" in texts[-1]
    assert "wil graag dat een coördinator contact opneemt" in chat.new("cora")[-1]

    await chat.send("anna", "hulp")  # typed as a message: the same
    assert chat.new("anna")[0].startswith("Je vroeg om hulp.")
    await chat.click("anna", "no")
    await chat.command("anna", "help", "now")
    assert chat.new("anna")[-1].startswith("Je vroeg om hulp.")
    assert len(alerts_in(app)) == 3

    chat.new("anna")
    await chat.command("anna", "help")  # plain help still lists the commands
    assert "hulp:" in chat.new("anna")[0]


async def test_the_same_words_again_at_the_same_question_are_the_answer(safe):
    app, chat = await safe()
    await to_hopes(chat)
    await chat.send("anna", "Honestly? I want to die")
    await chat.click("anna", "no")
    assert "What do you hope" in chat.last("anna")
    await chat.send("anna", "Honestly? I want to die")
    assert "Which topics" in chat.last("anna")  # no loop: taken as their answer
    assert len(alerts_in(app)) == 1
    assert len([t for t in chat.new("cora") if t.startswith("Safety net")]) == 2  # alert, no


async def test_near_misses_and_coordinators_raise_nothing(safe):
    app, chat = await safe(language="nl")
    await to_hopes(chat)
    await chat.send("anna", "Ik ben dood moe van het plannen, ik ga dood van de stress")
    assert "onderwerpen" in chat.last("anna")
    await chat.send("cora", "Hoe help ik iemand die zegt: ik wil dood?")
    assert alerts_in(app) == []
    assert not any("Veiligheidsnet" in t for t in chat.new("cora"))


async def test_an_anonymous_poll_answer_is_never_flagged(safe):
    app, chat = await safe()
    now = app.core.clock.now()
    for who in ("anna", "bram", "chris", "dana", "eli"):
        participants.enrol(
            app.store, now, PersonRef("console", "test", who), who.title(), Role.MENTEE, {}
        )
    await chat.send("anna", "hi")
    await chat.command("cora", "poll", "send", "final-evaluation", "to", "mentees", "anonymous")
    chat.new("cora")
    for value in ["5", "4", "4", "5", "5", "4", "2", "2", "4", "1"]:
        await chat.send("anna", value)
    assert chat.last("anna").startswith("(11/12)")
    await chat.send("anna", "Honestly I want to die")
    texts = chat.new("anna")
    assert "This poll is anonymous, so I have not told anyone" in texts[-2] and CRISIS in texts[-2]
    assert texts[-1].startswith("(12/12)")  # the poll goes on
    assert alerts_in(app) == []
    assert not any("Safety net" in t for t in chat.new("cora"))


async def test_what_they_wrote_is_forgotten_after_a_week(safe, clock):
    app, chat = await safe()
    await to_hopes(chat)
    await chat.send("anna", "I keep thinking about suicide")
    [alert] = alerts_in(app)
    assert alert.held_text == "I keep thinking about suicide"
    clock.advance(timedelta(days=8))
    await app.core.dispatcher.run_due()
    [alert] = alerts_in(app)
    assert alert.held_text is None and alert.contact is None


async def test_the_intake_support_question_names_the_person_for_coordinators(safe):
    from tests.test_intake import MENTEE_ANSWERS, run_intake

    app, chat = await safe()
    answers = [(k, "yes" if k == "support_check" else v) for k, v in MENTEE_ANSWERS]
    await run_intake(chat, "anna", answers)
    notice = next(t for t in chat.new("cora") if "more help than mentoring" in t)
    assert notice.startswith("console account anna said during the intake")
    await chat.command("cora", "status")
    assert "Asked at intake for more help than mentoring gives: console account anna" in chat.last(
        "cora"
    )
    assert alerts_in(app) == []  # a yes to that question is not the safety net
