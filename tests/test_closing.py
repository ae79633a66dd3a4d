"""Closing a programme: `close` with its confirmation, the final evaluation as a poll, the
keep-in-touch question per side, thanks, ended pairs, certificates when the evaluation closes,
and the end-date job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.domain import OutboxItem, Pair, PairStatus, Programme
from bot.domain.polls import Poll, PollInvite
from bot.services import closing as closing_store
from bot.services import programmes
from bot.testing import Conversation, programme_config
from flows.ending import closing
from tests import meeting_support
from tests.test_certificates import pdf_text
from tests.test_polls import ANSWERS, answer

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


async def _programme_with_pairs(app, chat: Conversation, clock) -> dict[str, int]:
    """Two pairs; the certificate needs a mentee and the final evaluation."""
    await chat.send("cora", "hello")
    now = clock.now()
    with app.store.session() as session:
        first = meeting_support.make_pair(session, now, "maarten", "anna")
        second = meeting_support.make_pair(session, now, "mila", "bram")
        meeting_support.held(session, first, now - timedelta(days=1))  # Mila and Bram never met
        programme = session.exec(select(Programme)).one()
        programme.settings = {
            **programme.settings,
            "certificate_criteria": {"mentees": 1, "evaluation": "final-evaluation"},
            "certificate_signer": "Dr. Jansen",
        }
        session.add(programme)
        ids = {
            "maarten": first.mentor_id,
            "anna": first.mentee_id,
            "mila": second.mentor_id,
            "bram": second.mentee_id,
            "pair1": first.id,
            "pair2": second.id,
        }
    for who in ("maarten", "anna", "mila", "bram"):
        await chat.send(who, "hi")  # a direct chat: the evaluation starts there
    return ids


def _keep_in_touch_token(chat: Conversation, who: str) -> str:
    message = next(
        m
        for m in reversed(chat.messages(who))
        if m.choice_token and m.choice_token.startswith("c:keep-in-touch:")
    )
    return message.choice_token


async def test_close_confirms_runs_once_and_certificates_follow_the_evaluation(
    app, chat: Conversation, clock
) -> None:
    ids = await _programme_with_pairs(app, chat, clock)

    await chat.command("cora", "close")
    question = chat.last_message("cora")
    assert "Close Mentoraat Test now?" in question.text
    assert question.choice_token.startswith("c:close:")
    with app.store.session() as session:  # asking changes nothing
        assert not closing_store.is_closed(session, session.exec(select(Programme)).one())
        assert session.exec(select(Poll)).all() == []

    await chat.click("cora", "no")
    assert "the programme goes on" in chat.last("cora")
    await chat.command("cora", "close")
    await chat.click("cora", "yes")
    summary = chat.last("cora")
    assert "Mentoraat Test is closed." in summary
    assert "The final evaluation (poll 1) went to 4 people." in summary
    assert "2 pairs were asked whether they keep in touch, and have ended." in summary

    with app.store.session() as session:
        programme = session.exec(select(Programme)).one()
        assert programme.settings["closed_at"] == clock.now().isoformat()
        assert programmes.open_programmes(session, clock.now().date()) == []
        (poll,) = session.exec(select(Poll)).all()
        assert (poll.questionnaire, poll.audience) == ("final-evaluation", "all")
        assert poll.closes_at == datetime(2026, 10, 20, tzinfo=AMSTERDAM)  # 14 days, whole
        invited = session.exec(select(PollInvite.person_id)).all()
        assert sorted(invited) == sorted(ids[w] for w in ("maarten", "anna", "mila", "bram"))
        pairs = session.exec(select(Pair)).all()
        assert {p.status for p in pairs} == {PairStatus.ENDED}
        job = session.exec(select(OutboxItem).where(OutboxItem.kind == closing.CERTIFICATES)).one()
        assert job.due_at == poll.closes_at

    anna = chat.new("anna")
    assert any("has come to an end. Thank you for taking part" in t for t in anna)
    assert any("will you and Maarten keep in touch" in t for t in anna)
    assert any("asks you to fill in “Final evaluation”" in t for t in anna)
    assert any("get their certificate from me after" in t for t in chat.new("maarten"))

    await chat.click("anna", "would_like", token=_keep_in_touch_token(chat, "anna"))
    replies = chat.new("anna")
    assert "you can always send Maarten a message yourself" in replies[0]
    assert replies[1].startswith("Back to where we were")  # then the evaluation's question
    await chat.click("maarten", "yes", token=_keep_in_touch_token(chat, "maarten"))
    assert "you keep in touch" in chat.new("maarten")[0]
    chat.new("bram")
    await chat.click("bram", "maybe", token=_keep_in_touch_token(chat, "bram"))
    assert "That button no longer works" in chat.new("bram")[0]
    with app.store.session() as session:
        pair = session.get(Pair, ids["pair1"])
        assert pair.guide["keep_in_touch"] == {"mentee": "would_like", "mentor": "yes"}
        assert "keep_in_touch" not in session.get(Pair, ids["pair2"]).guide

    # a second close does nothing
    await chat.command("cora", "close")
    assert "was closed on October 5, 2026; there is nothing left to close" in chat.last("cora")
    await chat.command("cora", "close", str(1), "yes")
    assert "nothing left to close" in chat.last("cora")
    with app.store.session() as session:
        assert len(session.exec(select(Poll)).all()) == 1
    await chat.command("cora", "status")
    assert "Closed on October 5, 2026" in chat.last("cora")

    # Maarten answers the final evaluation (his conversation is waiting); Mila does not
    await answer(chat, "maarten", ANSWERS["anna"])
    assert "Many thanks for taking part" in chat.last("maarten")

    clock.advance(timedelta(days=14, hours=16))  # past the evaluation's last day
    await app.core.dispatcher.run_due()
    certificates = [f for m in chat.messages("maarten") for f in m.files]
    assert [f.filename for f in certificates] == ["certificate-test-maarten.pdf"]
    assert "Maarten" in pdf_text(certificates[0].content)
    assert not any(m.files for m in chat.messages("mila"))
    told = chat.last("cora")
    assert "The final evaluation of Mentoraat Test has closed. I sent 1 certificate." in told
    assert "1 mentor does not meet the criteria yet" in told

    await chat.command("cora", "certificates", "send")  # the same key: not sent twice
    assert "I'm sending 0 certificates (1 sent earlier)." in chat.last("cora")


async def test_the_end_date_closes_the_programme_and_survives_a_config_sync(
    app, chat: Conversation, clock
) -> None:
    await chat.send("cora", "hello")
    pair_id = await meeting_support.planned_pair(app, clock.now())  # starts the daily job
    due = datetime(2027, 7, 1, 9, 0, tzinfo=AMSTERDAM)  # the morning after 30-06-2027
    with app.store.session() as session:
        (job,) = session.exec(select(OutboxItem).where(OutboxItem.kind == closing.DUE)).all()
        assert job.due_at == due.astimezone(UTC)
        assert job.payload["end"] == "2027-06-30"

    clock.set(due - timedelta(minutes=1))
    await app.core.dispatcher.run_due()
    with app.store.session() as session:
        assert not closing_store.is_closed(session, session.exec(select(Programme)).one())

    clock.set(due)
    await app.core.dispatcher.run_due()
    assert "Mentoraat Test is closed." in chat.last("cora")
    assert any("keep in touch" in t for t in chat.new("anna"))
    with app.store.session() as session:
        assert session.get(Pair, pair_id).status == PairStatus.ENDED
        # config.toml is synced at every start and rewrites the settings: still closed
        programmes.sync(session, (programme_config(),))
        programme = session.exec(select(Programme)).one()
        assert "closed_at" not in programme.settings
        assert closing_store.closed_at(session, programme) == due.astimezone(UTC)
        assert programmes.open_programmes(session, due.date()) == []
        assert len(session.exec(select(Poll)).all()) == 1


async def test_a_moved_end_date_gets_its_own_job(app, chat: Conversation, clock) -> None:
    await chat.send("cora", "hello")
    await meeting_support.planned_pair(app, clock.now())
    with app.store.session() as session:
        programme = session.exec(select(Programme)).one()
        programme.end = programme.end + timedelta(days=10)
        session.add(programme)
    clock.set(datetime(2027, 7, 1, 9, 0, tzinfo=AMSTERDAM))
    await app.core.dispatcher.run_due()  # the old date's job does nothing
    with app.store.session() as session:
        programme = session.exec(select(Programme)).one()
        assert not closing_store.is_closed(session, programme)
        keys = session.exec(
            select(OutboxItem.idempotency_key).where(OutboxItem.kind == closing.DUE)
        ).all()
        assert f"{closing.DUE}:{programme.id}:2027-07-10" in keys  # written by the daily check
    clock.set(datetime(2027, 7, 11, 9, 0, tzinfo=AMSTERDAM))
    await app.core.dispatcher.run_due()
    with app.store.session() as session:
        assert closing_store.is_closed(session, session.exec(select(Programme)).one())


async def test_only_coordinators_close(app, chat: Conversation, clock) -> None:
    await _programme_with_pairs(app, chat, clock)
    await chat.command("anna", "close")
    assert "only the programme's coordinators can use 'close'" in chat.last("anna")
    await chat.click("anna", "yes", token="c:close:1")
    assert "only the programme's coordinators" in chat.last("anna")
    with app.store.session() as session:
        assert not closing_store.is_closed(session, session.exec(select(Programme)).one())
