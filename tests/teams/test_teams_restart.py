"""A real `maatje run` with Teams, killed with SIGKILL: every activity it answered with 200 is
handled after the restart, its replies arrive once, and the person's intake resumes — their
card from before the kill still works."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.pg_server import free_port
from tests.teams.support import ANNA, CORA, button, card_action, message, text_of, token
from tests.teams.teams_fake import APP_ID, SECRET, TENANT, FakeCloud

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
[teams]
enabled = true
host = "127.0.0.1"
port = {port}
app_id = "{app_id}"
tenant_id = "{tenant}"
openid_metadata_url = "{metadata}"
token_url = "{token_url}"
graph_base_url = "{graph}"

[health]
host = "127.0.0.1"
port = {port}

[scheduler]
tick_seconds = 0.2
claim_lease_seconds = 2

[logging]
level = "WARNING"

[[programmes]]
name = "Mentoraat Herstart"
slug = "herstart"
language = "en"
timezone = "Europe/Amsterdam"
start = "2026-01-01"
end = "2030-12-31"
meeting_cadence = "biweekly"
meetings = 4
coordinators = {{ teams = ["{coordinator}"] }}
"""

# Seconds a started bot may take to answer /healthz: only a failing run waits this long, and
# on a machine running several suites at once a start-up has taken more than 30 s.
STARTUP_TIMEOUT = 120.0


class Bot:
    def __init__(self, tmp: Path, fake: FakeCloud) -> None:
        self.port = free_port()
        self.config = tmp / "teams.toml"
        self.config.write_text(
            CONFIG.format(
                port=self.port,
                app_id=APP_ID,
                tenant=TENANT,
                metadata=fake.metadata_url,
                token_url=fake.token_url,
                graph=fake.graph_url,
                coordinator=CORA,
            )
        )
        self.log = tmp / "bot.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TEAMS_", "SLACK_"))},
            "DATABASE_URL": f"sqlite:///{tmp / 'maatje.db'}",
            "TEAMS_APP_PASSWORD": SECRET,
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run", "--config", str(self.config)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, self.log.read_text()
                try:
                    async with session.get(f"http://127.0.0.1:{self.port}/healthz") as answer:
                        if answer.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"not healthy in time\n{self.log.read_text()}")

    async def post(self, activity: dict) -> int:
        headers = {
            "Authorization": f"Bearer {token(activity['serviceUrl'])}",
            "Content-Type": "application/json",
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{self.port}/api/messages",
                data=json.dumps(activity),
                headers=headers,
            ) as answer,
        ):
            return answer.status

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def posts_to(fake: FakeCloud, aad: str, count: int) -> list[dict]:
    async def enough() -> list[dict]:
        while len(fake.activities(fake.conversation_of(aad))) < count:
            await asyncio.sleep(0.05)
        return fake.activities(fake.conversation_of(aad))

    return await asyncio.wait_for(enough(), 20)


async def outbox_empty(database: Path) -> None:
    """Wait until the bot has nothing left to send."""

    def waiting() -> int:
        with sqlite3.connect(database) as connection:
            query = "SELECT count(*) FROM outbox WHERE done_at IS NULL AND failed_at IS NULL"
            query += " AND kind = 'send'"
            return connection.execute(query).fetchone()[0]

    async def empty() -> None:
        while waiting():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(empty(), 20)


async def test_an_acknowledged_activity_survives_sigkill_and_the_intake_resumes(tmp_path, fake):
    fake.add_user(ANNA, "Anna")
    bot = Bot(tmp_path, fake)
    try:
        await bot.start()
        assert await bot.post(message(fake, ANNA, "hello")) == 200
        [consent] = await posts_to(fake, ANNA, 1)
        fake.fail(r"/svc/v3/conversations/.+/activities", 503, times=1000)
        yes = card_action(fake, ANNA, button(consent, "Yes"))
        assert await bot.post(yes) == 200  # recorded; its reply cannot go out yet
        await fake.wait_for("POST", r"/svc/v3/conversations/.+/activities", count=2)
        bot.kill()
        fake.failures.clear()

        await bot.start()  # a new process on the same database
        posted = await posts_to(fake, ANNA, 2)
        assert "mentee" in text_of(posted[1]).lower()
        assert await bot.post(yes) == 200  # Teams retries what it sent: nothing new
        role = card_action(fake, ANNA, button(posted[1], "As a mentee"))
        assert await bot.post(role) == 200
        posted = await posts_to(fake, ANNA, 3)
        assert "studies" in text_of(posted[2]).lower()
        await outbox_empty(tmp_path / "maatje.db")
        assert len(fake.activities(fake.conversation_of(ANNA))) == 3  # nothing twice
    finally:
        bot.stop()
