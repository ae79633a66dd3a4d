"""Anonymous means unlinkable, also on disk: once an anonymous poll's answers are mixed, the
only copy of an answer is the response without a name — not in a conversation row, not in the
SQLite write-ahead log, not in the free space of the database file. The final evaluation at
closing is anonymous unless the programme says otherwise, and k is never below 5."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.config import ConfigError, parse_config
from bot.domain.polls import Poll
from bot.testing import Conversation
from tests.test_closing import _programme_with_pairs
from tests.test_config import example
from tests.test_polls import ANSWERS, SECRET, answer, mentees  # noqa: F401 (a fixture)
from tests.test_privacy_erasure import file_bytes, table_texts


async def test_mixed_anonymous_answers_leave_no_trace_in_the_files(
    app,
    chat: Conversation,
    mentees,  # noqa: F811 (the fixture)
    clock,
):
    await chat.command("cora", "poll", "send", "final-evaluation", "to", "mentees", "anonymous")
    await chat.click("eli", "1")
    for who, values in ANSWERS.items():
        await answer(chat, who, values)
        assert "Many thanks for taking part" in chat.last(who)
    clock.advance(timedelta(minutes=11))
    await app.core.dispatcher.run_due()  # the mix after the last answers

    stored = table_texts(app)
    assert stored.count(SECRET) == 1
    assert next(line for line in stored.splitlines() if SECRET in line).startswith("poll_response")
    if app.store.dialect == "sqlite":
        files = file_bytes(app)
        assert files["maatje.db"].count(SECRET.encode()) == 1  # the response, nothing else
        assert files["maatje.db-wal"] == b""  # checkpointed and truncated
        assert SECRET.encode() not in files["maatje.db-shm"]


async def test_the_final_evaluation_is_anonymous_by_default(app, chat: Conversation, clock):
    await _programme_with_pairs(app, chat, clock)
    await chat.command("cora", "close")
    await chat.click("cora", "yes")
    assert any("Your answers are anonymous" in t for t in chat.new("anna"))
    with app.store.session() as session:
        assert session.exec(select(Poll)).one().anonymous


async def test_a_programme_can_ask_the_final_evaluation_with_names(make_app, clock):
    app, chat = make_app(final_evaluation_anonymous=False)
    await _programme_with_pairs(app, chat, clock)
    await chat.command("cora", "close")
    await chat.click("cora", "yes")
    assert any("stored with your name" in t for t in chat.new("anna"))
    with app.store.session() as session:
        assert not session.exec(select(Poll)).one().anonymous


@pytest.mark.parametrize("k", [1, 4])
def test_fewer_than_five_responses_for_results_is_refused(k: int) -> None:
    data = example()
    data["programmes"][0]["poll_min_responses"] = k
    with pytest.raises(ConfigError) as caught:
        parse_config(data, env={})
    assert caught.value.key == "programmes[0].poll_min_responses"
    assert "at least 5" in caught.value.problem
    data["programmes"][0]["poll_min_responses"] = 5
    assert parse_config(data, env={}).programmes[0].poll_min_responses == 5
