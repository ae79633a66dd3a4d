"""A poll from `poll send` to the report: invites, answers through the conversation,
reminders, closing, the k threshold, and anonymity checked in the store itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, inspect, text
from sqlmodel import SQLModel, select

from bot.domain import FlowRun, Identity, OutboxItem, Role, RunStatus
from bot.domain.polls import Poll, PollInvite, PollResponse, PollStatus
from bot.events import PersonRef
from bot.testing import Conversation
from tests import participants

MENTEES = ("anna", "bram", "chris", "dana", "eli", "fay")
SECRET = "the-zebra-knows-my-answer"

# final-evaluation: 6 likert, duration, time, recommend, keep in touch, 2 open (optional)
ANSWERS = {
    "anna": ["5", "4", "4", "5", "5", "4", "2", "2", "4", "1", SECRET, "-"],
    "bram": ["4", "4", "3", "4", "4", "4", "1", "2", "3", "1", "the group", "more meetings"],
    "chris": ["3", "2", "3", "3", "2", "3", "1", "3", "2", "3", "-", "-"],
    "dana": ["4", "5", "4", "5", "5", "5", "2", "1", "4", "2", "my mentor", "-"],
    "eli": ["2", "3", "2", "4", "3", "2", "3", "3", "3", "2", "-", "longer"],
}


def enrol(app, who: str, role: Role = Role.MENTEE) -> int:
    ref = PersonRef("console", "test", who)
    return participants.enrol(app.store, app.core.clock.now(), ref, who.capitalize(), role, {})


async def answer(chat: Conversation, who: str, answers: list[str]) -> None:
    for index, value in enumerate(answers):
        choices = chat.last_message(who).choices
        if choices and value.isdigit() and index % 2 == 0:  # buttons for some, typing for others
            await chat.click(who, choices[int(value) - 1].value)
        else:
            await chat.send(who, value)


def _table_texts(app) -> str:
    """Every stored value of every table, as one text."""
    parts = []
    with app.store.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                parts.append(f"{table}: {tuple(row)}")
    return "\n".join(parts)


@pytest.fixture
async def mentees(app, chat: Conversation) -> dict[str, int]:
    await chat.send("cora", "hello")
    ids = {who: enrol(app, who) for who in MENTEES}
    for who in MENTEES:
        if who != "eli":  # eli never wrote to Maatje directly: he gets a Start button
            await chat.send(who, "hi")
    return ids


async def test_anonymous_poll_from_send_to_report(app, chat: Conversation, mentees, clock):
    await chat.command(
        "cora",
        "poll",
        "send",
        "final-evaluation",
        "to",
        "mentees",
        "anonymous",
        "closes",
        "19-10-2026",
    )
    sent = chat.last("cora")
    assert "Poll 1 is on its way" in sent and "(6 people)" in sent and "anonymous" in sent
    assert "October 19, 2026" in sent

    first = chat.new("anna")
    assert any("asks you to fill in “Final evaluation” (12 questions)" in t for t in first)
    assert any("Your answers are anonymous" in t for t in first)
    assert first[-1].startswith("(1/12) Thanks to the programme I know better")
    assert chat.last_message("eli").choices[0].label == "Start"

    await chat.click("eli", "1")
    assert chat.last("eli").startswith("(1/12)")
    for who, values in ANSWERS.items():
        await answer(chat, who, values)
        assert "Many thanks for taking part" in chat.last(who)

    await chat.command("cora", "poll", "results", "final-evaluation")
    assert "5 of 6 people answered" in chat.last("cora")
    assert "shown once it has closed" in chat.last("cora")

    # anonymity, before anything is reported: the answers are nowhere but in the responses
    await app.core.dispatcher.run_due()
    clock.advance(timedelta(minutes=11))
    await app.core.dispatcher.run_due()  # the mix after the last answers
    stored = _table_texts(app)
    assert stored.count(SECRET) == 1
    assert next(line for line in stored.splitlines() if SECRET in line).startswith("poll_response")
    with app.store.session() as session:
        responses = session.exec(select(PollResponse)).all()
        assert len(responses) == 5
        assert all(r.person_id is None and r.submitted_at is None for r in responses)
        runs = session.exec(select(FlowRun).where(FlowRun.subject == "poll:1")).all()
        assert all(r.answers == {} for r in runs if r.status == RunStatus.DONE)
    assert set(PollResponse.model_fields) == {
        "id",
        "poll_id",
        "person_id",
        "submitted_at",
        "answers",
    }
    with app.store.engine.connect() as connection:
        if app.store.dialect == "sqlite":  # the random id is the rowid: no hidden sequence
            rows = connection.execute(text("SELECT rowid, id FROM poll_response")).all()
            assert all(rowid == id_ for rowid, id_ in rows)
        else:  # one transaction wrote all responses, and it touched no invite
            written = {x for (x,) in connection.execute(text("SELECT xmin FROM poll_response"))}
            invites = {x for (x,) in connection.execute(text("SELECT xmin FROM poll_invite"))}
            assert len(written) == 1 and not written & invites

    # a reminder three days on, to fay only
    for who in MENTEES:
        chat.new(who)
    clock.advance(timedelta(days=3))
    await app.core.dispatcher.run_due()
    assert any("A reminder: Mentoraat Test would still like" in t for t in chat.new("fay"))
    assert all(not chat.new(who) for who in ANSWERS)
    with app.store.session() as session:
        invite = session.get(PollInvite, (1, mentees["fay"]))
        assert invite is not None and invite.reminded_at is not None and not invite.answered_at

    # closing at the end of the 19th (Amsterdam)
    clock.advance(timedelta(days=12))
    await app.core.dispatcher.run_due()
    assert "Poll 1 (final-evaluation) has closed: 5 of 6 people answered" in chat.last("cora")
    with app.store.session() as session:
        poll = session.get(Poll, 1)
        assert poll is not None and poll.status == PollStatus.CLOSED
        fay_run = session.exec(
            select(FlowRun).where(FlowRun.person_id == mentees["fay"], FlowRun.subject == "poll:1")
        ).one()
        assert fay_run.status == RunStatus.CANCELLED and fay_run.answers == {}
    await chat.send("fay", "5")
    assert "Poll" not in chat.last("fay")  # her conversation is over: a plain hello

    await chat.command("cora", "poll", "results", "1")
    report = chat.last_message("cora")
    assert "Final evaluation: 5 responses" in report.text
    assert "(n = 5)" in report.text
    assert "certainly: 40% (2)" in report.text  # recommend: anna and dana
    assert "probably: 40% (2)" in report.text and "maybe: 20% (1)" in report.text
    assert "mean 3.6 (scale 1–5)" in report.text  # goals_clearer: 5 4 3 4 2
    assert SECRET in report.text and "Anna" not in report.text
    names = [f.filename for f in report.files]
    assert "poll-1-final-evaluation-summary.csv" in names
    assert "poll-1-final-evaluation-responses.csv" in names
    pngs = [f for f in report.files if f.mimetype == "image/png"]
    assert len(pngs) == 10 and all(f.content.startswith(b"\x89PNG\r\n\x1a\n") for f in pngs)
    responses_csv = next(f for f in report.files if f.filename.endswith("responses.csv"))
    assert "person" not in responses_csv.content.decode("utf-8-sig").splitlines()[0]


async def test_k_threshold_on_a_poll_with_names(app, chat: Conversation, mentees):
    await chat.command("cora", "poll", "send", "midterm", "to", "all")
    assert "(6 people)" in chat.last("cora") and "with names" in chat.last("cora")
    for index, who in enumerate(("anna", "bram", "chris", "dana")):
        await answer(chat, who, [str(index + 2), "4", "3", "1,3", "-"])
    await chat.command("cora", "poll", "results", "midterm")
    assert "Results are shown from 5 answers on" in chat.last("cora")
    assert not chat.last_message("cora").files

    await chat.click("eli", "1")
    await answer(chat, "eli", ["6", "2", "3", "-", "Can we meet online?"])
    await chat.command("cora", "poll", "results", "midterm")
    report = chat.last_message("cora")
    assert "Halfway check: 5 responses" in report.text
    assert "mean 4.0" in report.text  # meetings so far: 2 3 4 5 6
    assert "Eli: Can we meet online?" in report.text  # attributed: the poll has names
    assert "exams or deadlines: 100% (4)" in report.text  # eli skipped: n = 4
    assert "4. What makes it hard to meet? (choose what applies) (n = 4)" in report.text
    responses = next(f for f in report.files if f.filename.endswith("responses.csv"))
    assert responses.content.decode("utf-8-sig").splitlines()[0].startswith("person,")
    with app.store.session() as session:
        rows = session.exec(select(PollResponse)).all()
        assert {r.person_id for r in rows} == {
            mentees[w] for w in ("anna", "bram", "chris", "dana", "eli")
        }


async def test_poll_close_command_and_busy_people(app, chat: Conversation, mentees, clock):
    await chat.command("bram", "language")  # no conversation: a question, not a flow
    await chat.command("cora", "poll", "send", "relationship", "to", "group", "nobody")
    assert "couldn't find the group" in chat.last("cora")
    await chat.command("cora", "poll", "send", "nonsense", "to", "mentees")
    assert "I don't know the questionnaire 'nonsense'" in chat.last("cora")
    await chat.command("anna", "poll", "send", "midterm", "to", "mentees")
    assert "only the programme's coordinators" in chat.last("anna")

    with app.store.session() as session:  # anna is in the middle of something else
        identity = session.exec(select(Identity).where(Identity.person_id == mentees["anna"])).one()
        session.add(
            FlowRun(
                flow="intake",
                version=1,
                subject=f"person:{mentees['anna']}",
                person_id=mentees["anna"],
                space_platform="console",
                space_workspace="test",
                space_channel=identity.direct_channel,
                space_kind="direct",
                step="consent",
                started_at=clock.now(),
                updated_at=clock.now(),
            )
        )
    chat.new("anna")
    await chat.command("cora", "poll", "send", "midterm", "to", "mentees")
    assert not any("Halfway check" in t for t in chat.new("anna"))
    with app.store.session() as session:
        retry = session.exec(
            select(OutboxItem).where(OutboxItem.kind == "poll.invite", OutboxItem.done_at.is_(None))
        ).all()
        assert [r.payload["person"] for r in retry] == [mentees["anna"]]

    await chat.command("cora", "poll", "close", "midterm")
    assert "Poll 1 is closed" in chat.last("cora")
    await chat.command("cora", "poll")
    assert "1: midterm to the mentees — 0 of 6 answered, closed" in chat.last("cora")
    clock.advance(timedelta(hours=7))
    await app.core.dispatcher.run_due()
    assert not any("Halfway check" in t for t in chat.new("anna"))


def test_poll_tables_are_known_to_the_metadata() -> None:
    assert {"poll", "poll_invite", "poll_response"} <= set(SQLModel.metadata.tables)


async def test_a_mentor_hears_only_the_topics_their_own_low_answers_point_to(
    app, chat: Conversation
) -> None:
    await chat.send("cora", "hello")
    for who in ("maarten", "mila"):
        enrol(app, who, Role.MENTOR)
        await chat.send(who, "hi")
    await chat.command("cora", "poll", "send", "mentorscan", "to", "mentors")
    # mentorscan: 7 items "how often" (1-5), 4 yes/no, an optional open question
    await answer(chat, "maarten", ["5"] * 7 + ["yes"] * 4 + ["-"])
    assert "Thank you! The coordinator uses the results" in chat.last("maarten")
    assert not any("could help you most" in t for t in chat.new("maarten"))

    await answer(chat, "mila", ["5"] * 6 + ["1"] + ["yes", "yes", "no", "yes"] + ["-"])
    told = chat.last("mila")
    assert "these topics could help you most in a training" in told
    assert "Boundaries: referring on" in told and "Peer reflection" in told
    assert "Guidance skills" not in told


async def _relationship_poll_to_all(app, chat: Conversation) -> None:
    """A mentee and a mentor enrolled, and the coordinator sends the relationship poll to all."""
    await chat.send("cora", "hello")
    enrol(app, "anna")
    enrol(app, "maarten", Role.MENTOR)
    for who in ("anna", "maarten"):
        await chat.send(who, "hi")
    await chat.command("cora", "poll", "send", "relationship", "to", "all")


async def test_sent_to_all_mentors_answer_only_mentor_questions(app, chat: Conversation) -> None:
    await _relationship_poll_to_all(app, chat)
    assert "(2 people)" in chat.last("cora")
    maarten, anna = chat.new("maarten"), chat.new("anna")
    assert any("“Evaluation: the contact in your pair” (10 questions)" in t for t in maarten)
    assert maarten[-1] == "(1/10) I take the initiative to meet my mentee regularly."
    assert anna[-1] == "(1/10) My mentor takes the initiative to meet regularly."
    for value in ["4"] * 8 + ["yes", "-"]:
        await chat.send("maarten", value)
        assert "my mentor" not in chat.last("maarten").lower()
    assert "Thank you! Your answers help us" in chat.last("maarten")
    with app.store.session() as session:
        (response,) = session.exec(select(PollResponse)).all()
    asked = {key for key, value in response.answers.items() if value is not None}
    assert "initiative_to_meet" in asked and "mentor_takes_initiative" not in asked

    await chat.command("cora", "poll", "send", "midterm", "to", "all")  # a mentees' questionnaire
    assert "(1 person)" in chat.last("cora")
    assert not any("Halfway check" in t for t in chat.new("maarten"))


async def test_an_anonymous_poll_hides_one_role_items_below_k(
    app, chat: Conversation, mentees
) -> None:
    for who in ("maarten", "mila"):
        enrol(app, who, Role.MENTOR)
        await chat.send(who, "hi")
    await chat.command("cora", "poll", "send", "relationship", "to", "all", "anonymous")
    assert "(8 people)" in chat.last("cora")
    await chat.click("eli", "1")  # his Start button
    for who in ("anna", "bram", "chris", "dana", "eli", "maarten", "mila"):
        await answer(chat, who, ["4"] * 8 + ["yes", "-"])
    await chat.command("cora", "poll", "close", "1")
    await chat.command("cora", "poll", "results", "1")
    report = chat.last_message("cora")
    assert "Evaluation: the contact in your pair: 7 responses" in report.text
    assert "My mentor takes the initiative to meet regularly. (n = 5)" in report.text
    assert "All in all I am satisfied with the mentoring programme. (n = 7)" in report.text
    assert "my mentee" not in report.text  # two mentors' answers could be singled out
    files = {f.filename: f.content.decode("utf-8-sig") for f in report.files if "csv" in f.mimetype}
    header = files["poll-1-relationship-responses.csv"].splitlines()[0]
    assert "mentor_takes_initiative" in header and "initiative_to_meet" not in header
    assert "initiative_to_meet" not in files["poll-1-relationship-summary.csv"]


async def test_an_answer_looks_up_the_persons_role_once(app, chat: Conversation) -> None:
    """A poll sent to all asks each person their role's items: every step and every item it
    may skip needs the role, which is read once per answer, not once per question."""
    await _relationship_poll_to_all(app, chat)
    assert chat.new("maarten")[-1] == "(1/10) I take the initiative to meet my mentee regularly."
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_rest) -> None:
        if "membership.role" in statement and "membership.person_id" in statement:
            seen.append(statement)

    event.listen(app.store.engine, "before_cursor_execute", record)
    await chat.send("maarten", "4")
    assert chat.last("maarten").startswith("(2/10) ")
    assert len(seen) == 1
