"""No acknowledged event is lost: Slack gets its 200 (or its Socket Mode ack) only once the event
is in the inbox; an event the database could not take in time is not acknowledged, so Slack
sends it again; an acknowledged event whose handling never finished is handled after a restart.
(The same with real processes killed with SIGKILL: tests/test_faults_inbox.py.)"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from sqlmodel import select

from adapters.slack import SlackAdapter
from bot.core import Outcome
from bot.domain import InboxEvent
from bot.events import Choice, Command, FormSubmitted, Message, PersonRef, SpaceKind, SpaceRef
from bot.inbox import from_json, to_json
from tests.slack.support import RecordingCore, SlackPoster, slack_config
from tests.slack.test_slack_with_core import Bot, dm, start_bot

CONSENT = "May I store your answers"
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}


def consent_questions(bot: Bot) -> int:
    return sum(CONSENT in text for text in bot.texts())


def inbox_rows(bot: Bot) -> list[InboxEvent]:
    with bot.core.store.session() as session:
        return list(session.exec(select(InboxEvent)).all())


async def test_an_acknowledged_event_is_answered_after_a_restart(fake_slack, core_factory, clock):
    first = await start_bot(fake_slack, core_factory)

    async def died_before_handling(event: Any) -> Outcome:  # the process is gone by now
        return Outcome()

    first.core.handle = died_before_handling  # type: ignore[method-assign]
    assert (await first.post.event(dm("hello", "EvLOST1"))).status == 200
    await first.settle()
    await first.adapter.stop()
    assert first.texts() == [] and [r.event_id for r in inbox_rows(first)] == ["EvLOST1"]

    second = await start_bot(fake_slack, core_factory)  # a new process on the same database
    try:
        clock.advance(timedelta(seconds=31))  # the first process's lease (30 s) ran out
        assert await second.core.redrive() == 1
        await second.settle()
        assert consent_questions(second) == 1
        assert inbox_rows(second) == []
        assert await second.core.redrive() == 0
        await second.post.event(dm("hello", "EvLOST1"), headers=RETRY)  # Slack retries anyway
        await second.settle()
        assert consent_questions(second) == 1
    finally:
        await second.adapter.stop()


class Locked:
    """Another connection holds the database's write lock (SQLite) or the inbox table
    (PostgreSQL) until `release`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.holder: Any = None

    def __enter__(self) -> Locked:
        if self.url.startswith("sqlite"):
            self.holder = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            self.holder.execute("BEGIN IMMEDIATE")
        else:
            dsn = self.url.replace("postgresql+psycopg://", "postgresql://")
            self.holder = psycopg.connect(dsn)
            self.holder.execute("LOCK TABLE inbox IN ACCESS EXCLUSIVE MODE")
        return self

    def release(self) -> None:
        if self.holder is None:
            return
        if isinstance(self.holder, psycopg.Connection):
            self.holder.rollback()
        self.holder.close()
        self.holder = None

    def __exit__(self, *_exc: object) -> None:
        self.release()


async def test_an_event_the_database_cannot_take_is_not_acknowledged(
    fake_slack, core_factory, database_url, caplog
):
    bot = await start_bot(fake_slack, core_factory)
    try:
        with Locked(database_url) as lock:
            answer = await asyncio.wait_for(bot.post.event(dm("hello", "EvBUSY1")), 3)
            assert answer.status == 503  # Slack will send it again
            lock.release()
        assert "EvBUSY1 not acknowledged" in caplog.text
        answer = await bot.post.event(dm("hello", "EvBUSY1"), headers=RETRY)
        assert answer.status == 200
        await bot.settle()
        assert consent_questions(bot) == 1
        assert inbox_rows(bot) == []
    finally:
        await bot.adapter.stop()


async def test_slack_is_acknowledged_only_after_the_event_is_recorded(fake_slack, payload):
    adapter = SlackAdapter(slack_config(fake_slack))
    core = RecordingCore()
    entered, gate = asyncio.Event(), asyncio.Event()

    async def slow_accept(event: Any) -> None:
        entered.set()
        await gate.wait()
        core.accepted.append(event)

    core.accept = slow_accept  # type: ignore[method-assign]
    await adapter.start(core)
    try:
        post = SlackPoster(f"http://127.0.0.1:{adapter.port}/slack/events")
        answer = asyncio.create_task(post.event(payload("event_message_im.json")))
        await asyncio.wait_for(entered.wait(), 5)
        assert not answer.done() and core.events == []  # no answer while recording
        gate.set()
        assert (await answer).status == 200
        assert [e.event_id for e in core.accepted] == ["Ev0MESSAGE1"]
    finally:
        await adapter.stop()


async def test_socket_mode_does_not_ack_what_it_could_not_record(fake_slack, payload):
    adapter = SlackAdapter(slack_config(fake_slack, mode="socket", signing_secret=None))
    core = RecordingCore()
    failing = {"Ev0MESSAGE1"}

    async def accept(event: Any) -> None:
        if event.event_id in failing:
            failing.discard(event.event_id)
            raise OSError("database unreachable")
        core.accepted.append(event)

    core.accept = accept  # type: ignore[method-assign]
    await adapter.start(core)
    try:
        await fake_slack.wait_for_socket()
        envelope = {
            "envelope_id": "env-1",
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": payload("event_message_im.json"),
        }
        await fake_slack.push(envelope)
        command = {
            "envelope_id": "env-2",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": payload("command_pair.json"),
        }
        await fake_slack.push(command)
        await fake_slack.wait_for_ack("env-2")
        await adapter.idle()
        assert [a["envelope_id"] for a in fake_slack.socket_acks] == ["env-2"]
        await fake_slack.push({**envelope, "envelope_id": "env-3", "retry_attempt": 1})
        await fake_slack.wait_for_ack("env-3")
        await adapter.idle()
        assert [e.event_id for e in core.events if isinstance(e, Message)] == ["Ev0MESSAGE1"]
    finally:
        await adapter.stop()


@pytest.mark.parametrize(
    "event",
    [
        Message(
            person=PersonRef("slack", "T1", "U1"),
            space=SpaceRef("slack", "T1", "D1"),
            event_id="e1",
            text="hoi",
            display_name="Anna",
            locale="nl",
        ),
        Command(
            person=PersonRef("discord", "A", "1"),
            space=SpaceRef("discord", "A", "9", SpaceKind.GROUP),
            event_id="e2",
            name="pair",
            args=("@anna", "now"),
            coordinator=True,
        ),
        Choice(
            person=PersonRef("slack", "T1", "U1"),
            space=SpaceRef("slack", "T1", "C1", SpaceKind.PAIR),
            event_id="e3",
            token="f:12:role",
            values=("mentee",),
        ),
        FormSubmitted(
            person=PersonRef("slack", "T1", "U1"),
            space=SpaceRef("slack", "T1", "D1"),
            event_id="e4",
            form_id="f:3:studies",
            values={"programme": "Law", "year": "2"},
        ),
    ],
)
def test_an_event_survives_the_inbox_unchanged(event) -> None:
    import json

    assert from_json(json.loads(json.dumps(to_json(event)))) == event
