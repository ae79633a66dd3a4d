"""After closing: nothing keeps reminding, coordinators still see what the programme did, and
a certificate states only what happened (issue 14, item 3)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.domain import FlowRun, Meeting, MeetingStatus, Programme, RunStatus
from bot.testing import Conversation
from tests.meeting_support import answer, make_pair, open_meeting, planned_pair
from tests.test_certificates import pdf_text
from tests.test_goals import held_meeting

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
GOAL = ("Plan one exam week", "a plan for 1 exam", "4", "Less stress", "15-11-2026", "yes", "no")


async def close(chat: Conversation) -> None:
    await chat.command("cora", "close")
    await chat.click("cora", "yes")
    assert "is closed." in chat.last("cora")


def active_runs(app) -> list[str]:
    with app.store.session() as session:
        runs = session.exec(select(FlowRun).where(FlowRun.status == RunStatus.ACTIVE)).all()
        return [run.flow for run in runs]


async def test_closing_ends_the_goal_conversation_and_its_reminders(app, chat, clock) -> None:
    await held_meeting(app, chat, clock)
    assert any("set a goal for the coming weeks" in t for t in chat.new("anna"))
    assert "goals" in active_runs(app)

    await close(chat)
    chat.new("anna")
    clock.advance(timedelta(days=3))  # the goal conversation reminds after two days
    await app.core.dispatcher.run_due()
    assert not any("gentle reminder" in t for t in chat.new("anna"))
    assert "goals" not in active_runs(app)


async def test_closing_ends_the_check_in_and_its_reminders(app, chat, clock) -> None:
    await held_meeting(app, chat, clock)
    for text in GOAL:
        await chat.send("anna", text)
    assert "Your goals are saved" in chat.last("anna")
    clock.advance(timedelta(days=3, hours=1))  # weekly meetings: the check-in comes halfway
    await app.core.dispatcher.run_due()
    assert "Time for a short check-in" in chat.last("anna")

    await close(chat)
    chat.new("anna")
    clock.advance(timedelta(days=3))
    await app.core.dispatcher.run_due()
    assert not any("gentle reminder" in t for t in chat.new("anna"))
    assert "checkin" not in active_runs(app)


async def test_a_meeting_held_just_before_closing_still_counts_and_starts_nothing(
    app, chat, clock
) -> None:
    await chat.send("cora", "hello")
    pair_id = await planned_pair(app, clock.now())
    await answer(chat, "anna", "yes", "meet")
    await answer(chat, "maarten", "yes", "meet")
    meeting = open_meeting(app, pair_id)
    clock.set(meeting.starts_at + timedelta(hours=2))  # "did you meet?" is asked
    await app.core.dispatcher.run_due()
    assert "Did meeting 1 with Maarten take place?" in chat.last("anna")

    await close(chat)
    clock.advance(timedelta(days=1))  # the daily check cancels only meetings still ahead
    await app.core.dispatcher.run_due()
    chat.new("anna")
    await answer(chat, "anna", "yes", "met")
    replies = chat.new("anna")
    assert "Thank you, I've noted that." in replies[0]
    with app.store.session() as session:
        meetings = session.exec(select(Meeting).where(Meeting.pair_id == pair_id)).all()
        assert [m.status for m in meetings] == [MeetingStatus.HELD]  # no next one proposed
    assert not any("set a goal" in t for t in replies)
    assert "goals" not in active_runs(app)  # only the final evaluation is still open


def _rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


async def test_status_pairs_and_export_show_a_closed_programme(app, chat, clock) -> None:
    await chat.send("cora", "hello")
    first = await planned_pair(app, clock.now())
    with app.store.session() as session:
        make_pair(session, clock.now(), "mila", "bram")
    for who in ("maarten", "anna", "mila", "bram"):
        await chat.send(who, "hi")
    await answer(chat, "anna", "yes", "meet")
    await answer(chat, "maarten", "yes", "meet")
    clock.set(open_meeting(app, first).starts_at + timedelta(hours=2))
    await app.core.dispatcher.run_due()
    await answer(chat, "maarten", "yes", "met")

    await close(chat)
    await answer(chat, "anna", "would_like", "keep-in-touch")
    await answer(chat, "maarten", "yes", "keep-in-touch")
    await answer(chat, "bram", "no", "keep-in-touch")

    await chat.command("cora", "status")
    status = chat.last("cora")
    assert "Pairs: 2 (2 ended when the programme closed)" in status
    assert "none yet" not in status
    assert "Meetings held: 1; did not take place: 0; pairs that met at least once: 1 of 2" in (
        status
    )
    assert "1 yes, 1 no but would like to, 1 no, 1 no answer" in status
    assert "Poll final-evaluation: 0 of 4 answered (open)" in status
    assert "Closed on October 13, 2026" in status

    await chat.command("cora", "pairs")
    pairs = chat.last("cora")
    assert "No pairs" not in pairs
    assert (
        "Maarten and Anna: ended when the programme closed; 1 meeting held; keeping in touch — "
        "Maarten: yes and Anna: no, but would like to"
    ) in pairs
    assert "Mila and Bram: ended when the programme closed; 0 meetings held;" in pairs
    assert "Mila: no answer and Bram: no" in pairs

    await chat.command("cora", "export")
    files = {f.filename: f.content for f in chat.last_message("cora").files}
    rows = {r["mentee"]: r for r in _rows(files["test-pairs.csv"])}
    assert (rows["Anna"]["status"], rows["Anna"]["meetings_held"]) == ("ended", "1")
    assert (rows["Anna"]["keep_in_touch_mentor"], rows["Anna"]["keep_in_touch_mentee"]) == (
        "yes",
        "would_like",
    )
    assert (rows["Bram"]["keep_in_touch_mentor"], rows["Bram"]["keep_in_touch_mentee"]) == (
        "",
        "no",
    )
    (evaluation,) = _rows(files["test-polls.csv"])
    assert (evaluation["questionnaire"], evaluation["invited"]) == ("final-evaluation", "4")


async def test_a_certificate_states_only_what_happened(app, chat, clock) -> None:
    await chat.send("cora", "hello")
    first = await planned_pair(app, clock.now())
    with app.store.session() as session:
        make_pair(session, clock.now(), "mila", "bram")  # matched, never met
        programme = session.exec(select(Programme)).one()
        programme.settings = {
            **programme.settings,
            "certificate_comprised": [{"nl": "een mentortraining", "en": "a mentor training"}],
        }
        session.add(programme)
    await answer(chat, "anna", "yes", "meet")
    await answer(chat, "maarten", "yes", "meet")
    clock.set(open_meeting(app, first).starts_at + timedelta(hours=2))
    await app.core.dispatcher.run_due()
    await answer(chat, "maarten", "yes", "met")
    await close(chat)  # long before the end date, 30 June 2027

    await chat.command("cora", "certificates")
    preview = chat.last_message("cora")
    assert "Ready: Maarten" in preview.text
    assert "Mila: mentored fewer than 1 mentee and held fewer than 1 meeting" in preview.text
    (certificate,) = preview.files
    text = " ".join(pdf_text(certificate.content).split())
    closed_on = clock.now().astimezone(AMSTERDAM).date()
    assert closed_on == datetime(2026, 10, 13).date()
    assert "from September 1, 2026 to October 13, 2026" in text
    assert "June 30, 2027" not in text
    assert "a mentor training" in text
    assert "mentoring 1 student" in text and "1 one-to-one meeting held" in text
    assert "supervision" not in text and "group meeting" not in text
