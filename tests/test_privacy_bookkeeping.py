"""The bookkeeping of work done keeps no more than its purpose needs: a sent message keeps only
its idempotency key, and finished outbox rows and platform event ids are purged on a schedule —
except the records of what must happen only once (a closing, a certificate)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select

from bot import outbox
from bot.domain import OutboxItem, ProcessedEvent
from bot.testing import Conversation


async def test_a_sent_message_keeps_only_its_key(app, chat: Conversation):
    await chat.send("anna", "hello", event_id="Ev-hello")
    assert "May I store" in chat.last("anna")
    with app.store.session() as session:
        sent = session.exec(select(OutboxItem).where(OutboxItem.kind == "send")).all()
    assert sent and all(i.done_at is not None for i in sent)
    assert {(i.idempotency_key, str(i.payload), i.lane) for i in sent} == {
        ("msg:console:Ev-hello:0", "{}", None)
    }


async def test_finished_work_is_purged_on_a_schedule(app, chat: Conversation, clock):
    await chat.send("anna", "hello", event_id="Ev-old")
    now = clock.now()
    with app.store.session() as session:
        done = ("closing.certificates:1", "certificate:1:7:0", "something-else:1")
        for key in done:
            outbox.enqueue(session, "noop", {}, key, now, now)
        session.exec(
            update(OutboxItem).values(done_at=now).where(col(OutboxItem.idempotency_key).in_(done))
        )
        outbox.enqueue(session, "noop", {}, "still-to-do", now + timedelta(days=60), now)

    clock.advance(timedelta(days=20))
    await chat.send("anna", "hello again", event_id="Ev-recent")
    clock.advance(timedelta(days=11))  # the first messages are 31 days old, the second 11
    await app.core.dispatcher.run_due()  # the daily retention checks

    with app.store.session() as session:
        keys = set(session.exec(select(OutboxItem.idempotency_key)).all())
        events = set(session.exec(select(ProcessedEvent.event_id)).all())
    assert "msg:console:Ev-old:0" not in keys and "something-else:1" not in keys
    assert {"closing.certificates:1", "certificate:1:7:0", "still-to-do"} <= keys
    assert "msg:console:Ev-recent:0" in keys  # finished 11 days ago: kept a while longer
    assert events == set()  # a week is far longer than any platform retries
