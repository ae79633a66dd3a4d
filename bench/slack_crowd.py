"""The people and the systems under test of bench.slack_surge.

- `Driver`: simulated people who write signed Slack HTTP events (bench.slack_http's) and
  answer each reply as it reaches the fake Slack (closed loop), noting how long they waited;
  and a coordinator's slash command.
- `System`: one system under test in its own process — `maatje run` or the bare slack-bolt
  echo of bench.slack_http (its `--serve` modes), pointed at the fake.
- `seed_participants`: participants who finished intake, for the bulk case.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from bench.common import free_port, process_tree_cpu
from bench.slack_http import (
    SCRIPTS,
    SECRET,
    TEAM,
    Load,
    config_toml,
    event_body,
    post,
    sign,
    stop_process,
    wait_healthy,
)
from tests.slack.limited_fake import LimitedSlack
from tests.slack.slack_fake import BOT_TOKEN


@dataclass
class Crowd:
    """What the simulated people saw."""

    latencies: list[float] = field(default_factory=list)  # event sent -> reply arrived
    lost: int = 0  # replies that never came (and the turns not taken after them)
    sent: list[float] = field(default_factory=list)  # when each event left
    load: Load = field(default_factory=Load)


class Driver:
    """People writing to one system under test through `url`. `keyed`: the system marks its
    messages with Maatje's idempotency keys, so a reply is told apart from other messages in
    the same chat (a poll's, say)."""

    def __init__(self, fake: LimitedSlack, url: str, keyed: bool, reply_timeout: float) -> None:
        self.fake, self.url, self.keyed = fake, url, keyed
        self.reply_timeout = reply_timeout
        self._counter = 0
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Driver:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use the driver in `async with`"
        return self._session

    def _number(self) -> int:
        self._counter += 1
        return self._counter

    async def person(
        self, crowd: Crowd, user: str, script: tuple[str, ...], start: float, think: float
    ) -> None:
        """Write, wait for the reply, answer it: one person's closed loop."""
        await asyncio.sleep(start)
        for turn, text in enumerate(script):
            n = self._number()
            event_id = f"Ev{user}{n:07d}"
            reply = self.fake.expect(f"D{user}", f"msg:slack:{event_id}:" if self.keyed else None)
            left = time.perf_counter()
            crowd.sent.append(left)
            await post(self.session, self.url, event_body(event_id, user, text, n), crowd.load)
            try:
                arrived = await asyncio.wait_for(reply, self.reply_timeout)
            except TimeoutError:
                crowd.lost += len(script) - turn
                return
            crowd.latencies.append(arrived - left)
            if think:
                await asyncio.sleep(think)

    def _people(self, prefix: str, people: int, turns: int) -> list[tuple[str, tuple[str, ...]]]:
        """People with Slack accounts (the bot looks their profiles up after their first
        message, as it would in a real workspace), each with their part of the script."""
        users = [f"U{prefix}{i:05d}" for i in range(people)]
        for user in users:
            self.fake.add_user(user, f"Person {user}")
        return [(user, tuple(SCRIPTS[i % len(SCRIPTS)][:turns])) for i, user in enumerate(users)]

    async def crowd(
        self, prefix: str, people: int, turns: int, ramp: float, think: float, seed: int
    ) -> Crowd:
        """`people` people starting at random moments within `ramp` seconds."""
        crowd = Crowd()
        chance = random.Random(seed)
        await asyncio.gather(
            *(
                self.person(crowd, user, script, chance.uniform(0, ramp), think)
                for user, script in self._people(prefix, people, turns)
            )
        )
        return crowd

    async def one_by_one(self, prefix: str, people: int, turns: int) -> Crowd:
        """`people` people, each starting when the one before had all their replies."""
        crowd = Crowd()
        for user, script in self._people(prefix, people, turns):
            await self.person(crowd, user, script, 0, 0)
        return crowd

    async def command(self, user: str, text: str) -> None:
        """`user`, a member of the workspace, types `/maatje <text>` in their direct chat."""
        self.fake.add_user(user, f"Person {user}")
        body = urlencode(
            {
                "token": "bench",
                "team_id": TEAM,
                "user_id": user,
                "command": "/maatje",
                "text": text,
                "channel_id": f"D{user}",
                "trigger_id": f"{self._number()}.1.trigger",
                "response_url": "https://hooks.slack.com/commands/bench",
            }
        ).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": sign(body, timestamp),
        }
        async with self.session.post(self.url, data=body, headers=headers) as response:
            await response.read()


class System:
    """One system under test in its own process: `maatje run` on SQLite with the adapter's
    own pacing (as deployed), or the bare echo with slack-sdk's defaults."""

    def __init__(self, fake: LimitedSlack, tmp: Path, name: str, bare: bool) -> None:
        self.name = name
        stem = "".join(c if c.isalnum() else "-" for c in name)
        self.port = free_port()
        self.database_url = f"sqlite:///{tmp / (stem + '.db')}"
        self.config = tmp / f"{stem}.toml"
        self.config.write_text(config_toml(self.database_url, fake.base_url, self.port))
        me = [sys.executable, "-m", "bench.slack_http"]
        if bare:
            self.command = [*me, "--serve", "bare", "--fake-url", fake.base_url]
            self.command += ["--port", str(self.port)]
        else:
            self.command = [*me, "--serve", "full", "--paced", "--config", str(self.config)]
        self.log = tmp / f"{stem}.log"
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> System:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET)
        with self.log.open("wb") as log:
            self._process = await asyncio.create_subprocess_exec(
                *self.command, stdout=log, stderr=log, env=env
            )
        await wait_healthy(self.url, self._process, 120)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._process is not None:
            await stop_process(self._process)

    def cpu(self) -> float:
        """CPU seconds the system's processes used so far."""
        assert self._process is not None
        return process_tree_cpu(self._process.pid)

    def errors(self) -> int:
        """ERROR records and tracebacks in its log."""
        return len(self.error_lines())

    def error_lines(self) -> list[str]:
        lines = self.log.read_text(errors="replace").splitlines()
        return [line for line in lines if " ERROR " in line or "Traceback" in line]


def seed_participants(system: System, count: int) -> None:
    """`count` mentees who finished intake, each with a direct chat, written straight into the
    full bot's database before it starts: the bulk case's set-up (a poll needs people who
    finished intake, and a thousand intakes would take longer than the case itself)."""
    from sqlmodel import select

    from bot.config import load_config
    from bot.domain import Consent, Identity, Membership, Person, Programme
    from bot.domain.programmes import IntakeState, Role
    from bot.services import programmes
    from bot.store import Store

    config = load_config(
        system.config, {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET}
    )
    store = Store(system.database_url)
    store.upgrade()
    now = datetime.now(UTC)
    with store.session() as session:
        programmes.sync(session, config.programmes)
        programme = session.exec(select(Programme)).one()
        assert programme.id is not None
        for i in range(count):
            person = Person(created_at=now, language="en", timezone="Europe/Amsterdam")
            session.add(person)
            session.flush()
            assert person.id is not None
            user = f"UP{i:05d}"
            session.add_all(
                [
                    Identity(
                        person_id=person.id,
                        platform="slack",
                        workspace=TEAM,
                        user_id=user,
                        direct_channel=f"D{user}",
                        last_seen_at=now,
                    ),
                    Consent(
                        person_id=person.id,
                        programme_id=programme.id,
                        purpose="programme",
                        text_version=1,
                        given=True,
                        at=now,
                    ),
                    Membership(
                        programme_id=programme.id,
                        person_id=person.id,
                        role=Role.MENTEE,
                        intake=IntakeState.COMPLETE,
                        joined_at=now,
                    ),
                ]
            )
    store.dispose()
