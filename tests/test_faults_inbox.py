"""No acknowledged event is lost: real `maatje run` processes, a locked database, SIGKILL.

Slack's side is played as Slack plays it: a signed Events API callback that is not answered
200 within three seconds is sent again later (with `X-Slack-Retry-Num`); one answered 200 is
never sent again. Each test locks the database the way an outage or a long transaction would,
posts a person's first message, kills the process with SIGKILL while the event is stuck,
unlocks, starts a new process and plays Slack's retry if one is due. Then the person must have
been answered, exactly once.

- the whole database locked (SQLite's write lock; every table on PostgreSQL): the event cannot
  be recorded, so it is not acknowledged and Slack's retry brings it to the new process;
- PostgreSQL, only the person locked (the advisory lock the core takes per person): the event is
  recorded and acknowledged, the core waits, the process dies; the new process finds the event
  in the inbox and handles it without any retry from Slack.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest
import pytest_asyncio
from sqlalchemy import func
from sqlmodel import select

from bot.domain import InboxEvent
from bot.store import Store
from tests.faults.processes import BotProcess, dm_event
from tests.faults.slack import FaultySlack
from tests.faults.unsent import unsent_messages
from tests.pg_server import PostgresServer
from tests.slack.slack_fake import TEAM
from tests.slack.support import sign

SLACK_PATIENCE = 3.0  # seconds Slack waits for an acknowledgement
ANSWER_TIMEOUT = 40.0
USER = "U0KILLED"
CONSENT = "May I store your answers"


@dataclass
class Setting:
    url: str
    tmp: Path
    slack: FaultySlack

    def bot(self, name: str) -> BotProcess:
        return BotProcess(name, self.tmp, self.url, self.slack.base_url)

    def settled(self) -> bool:
        """Nothing left to do: the inbox is empty and every due message was sent."""
        store = Store(self.url)
        try:
            with store.session() as session:
                waiting = session.exec(select(func.count()).select_from(InboxEvent)).one()
                unsent = unsent_messages(session)
            return waiting == 0 and unsent == 0
        finally:
            store.dispose()


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[FaultySlack]:
    fake = FaultySlack()
    await fake.start()
    yield fake
    await fake.stop()


async def post_as_slack(bot: BotProcess, body: dict[str, Any], retry: int = 0) -> int | None:
    """The HTTP status Slack got within its patience, or None (no answer in time)."""
    text = json.dumps(body)
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": sign(text, stamp),
    }
    if retry:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_error"}
    timeout = aiohttp.ClientTimeout(total=SLACK_PATIENCE)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(bot.events_url, data=text, headers=headers) as answer,
        ):
            return answer.status
    except (TimeoutError, aiohttp.ClientError):
        return None


def answers(slack: FaultySlack, event_id: str) -> list[str]:
    """Texts posted in answer to `event_id` (replies and apologies), as often as posted."""
    return [
        p["text"]
        for p in slack.posted_to(f"D{USER}")
        if slack.key(p).startswith((f"msg:slack:{event_id}:", f"err:slack:{event_id}:"))
    ]


async def until(condition: Callable[[], bool], what: str, bot: BotProcess) -> None:
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while not condition():
        assert bot.process and bot.process.poll() is None, f"{bot.name} died\n{bot.tail()}"
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {ANSWER_TIMEOUT} s: {what}\n{bot.tail()}")
        await asyncio.sleep(0.05)


async def kill_restart_and_check(
    setting: Setting, first: BotProcess, status: int | None, unlock: Callable[[], None]
) -> None:
    """SIGKILL `first`, unlock, start a new process, play Slack's retry when the first answer
    was not 200, and check the person got exactly one answer."""
    first.kill()
    unlock()
    second = setting.bot("second")
    second.start()
    try:
        await second.wait_healthy()
        retries = 0
        while status != 200:  # Slack sends the event again (up to three times)
            retries += 1
            assert retries <= 3, "Slack gave up: every retry went unacknowledged"
            status = await post_as_slack(second, dm_event(USER, "hello", "EvKILL1", "1.1"), retries)
        await until(lambda: bool(answers(setting.slack, "EvKILL1")), "an answer", second)
        await until(setting.settled, "nothing left to do", second)
        got = answers(setting.slack, "EvKILL1")
        assert len(got) == 1 and CONSENT in got[0], got
    finally:
        second.terminate()


def lock_everything(url: str) -> Callable[[], None]:
    """Hold the whole database until the returned function is called."""
    if url.startswith("sqlite"):
        holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        return holder.close
    connection = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    tables = connection.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    ).fetchall()
    connection.execute(
        "LOCK TABLE " + ", ".join(f'"{t}"' for (t,) in tables) + " IN ACCESS EXCLUSIVE MODE"
    )
    return connection.close


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_killed_while_the_database_is_locked_the_person_is_answered_once(
    kind: str, slack: FaultySlack, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'maatje.db'}"
    else:
        url = request.getfixturevalue("postgres").fresh_database()
    setting = Setting(url, tmp_path, slack)
    first = setting.bot("first")
    first.start()
    try:
        await first.wait_healthy()
        unlock = lock_everything(url)
        try:
            status = await post_as_slack(first, dm_event(USER, "hello", "EvKILL1", "1.1"))
            assert status in (200, 503, None)
        except BaseException:
            unlock()
            raise
        await kill_restart_and_check(setting, first, status, unlock)
    finally:
        first.kill()


async def test_killed_while_the_core_waits_for_the_person_the_inbox_answers(
    postgres: PostgresServer, slack: FaultySlack, tmp_path: Path
) -> None:
    url = postgres.fresh_database()
    setting = Setting(url, tmp_path, slack)
    first = setting.bot("first")
    first.start()
    holder = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        await first.wait_healthy()
        key = f"person:slack:{TEAM}:{USER}"
        holder.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (key,))
        status = await post_as_slack(first, dm_event(USER, "hello", "EvKILL1", "1.1"))
        assert status == 200  # recorded, so acknowledged: Slack will not send it again
        name = url.rsplit("/", 1)[1]

        def core_waits() -> bool:  # the core's transaction waits for the person's lock
            with psycopg.connect(postgres.url().replace("+psycopg", ""), autocommit=True) as watch:
                row = watch.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                    "AND wait_event = 'advisory'",
                    (name,),
                ).fetchone()
            return bool(row and row[0])

        await until(core_waits, "the core waiting for the person", first)
        await kill_restart_and_check(setting, first, status, holder.close)
    finally:
        holder.close()
        first.kill()
