"""Real `maatje run` processes for the fault tests: a config file, the environment, start-up
until /healthz says ok, a clean SIGTERM or a SIGKILL, and their logs for failure messages."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.pg_server import free_port
from tests.slack.slack_fake import BOT_TOKEN, TEAM
from tests.slack.support import SECRET

ROOT = Path(__file__).resolve().parents[2]
COORDINATOR = "UCOORD"

CONFIG = """\
[slack]
enabled = true
mode = "http"
host = "127.0.0.1"
port = {port}
path = "/slack/events"
api_base_url = "{api}"

[scheduler]
tick_seconds = {tick}
claim_lease_seconds = {lease}

[logging]
level = "WARNING"

[[programmes]]
name = "Mentoraat Fouten"
slug = "fouten"
language = "en"
timezone = "Europe/Amsterdam"
start = "2026-01-01"
end = "2030-12-31"
meeting_cadence = "biweekly"
meetings = 4
coordinators = {{ slack = ["{coordinator}"] }}
"""


class BotProcess:
    """One `python -m bot.cli run --config ...` on its own port."""

    def __init__(
        self, name: str, tmp: Path, database_url: str, api_base_url: str, **scheduler: float
    ) -> None:
        self.name = name
        self.port = free_port()
        self.config = tmp / f"{name}.toml"
        self.config.write_text(
            CONFIG.format(
                port=self.port,
                api=api_base_url,
                tick=scheduler.get("tick_seconds", 0.2),
                lease=scheduler.get("claim_lease_seconds", 2.0),
                coordinator=COORDINATOR,
            )
        )
        self.log = tmp / f"{name}.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("MAATJE_", "SLACK_"))},
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run", "--config", str(self.config)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} (last {lines} lines) ---\n" + "\n".join(text.splitlines()[-lines:])

    async def wait_healthy(self, timeout: float = 120.0) -> None:
        """Poll /healthz until it answers `ok` (the process may still be migrating)."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(
                        f"{self.name} exited with {self.process.returncode}\n{self.tail()}"
                    )
                try:
                    async with session.get(f"http://127.0.0.1:{self.port}/healthz") as answer:
                        if answer.status == 200 and await answer.text() == "ok":
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} not healthy in {timeout} s\n{self.tail()}")
                await asyncio.sleep(0.05)

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait; SIGKILL when it does not stop in time. Returns the exit code."""
        process = self.process
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def dm_event(user: str, text: str, event_id: str, ts: str) -> dict:
    """A Slack Events API callback for a direct message from `user` (channel D<user>)."""
    return {
        "token": "unused",
        "team_id": TEAM,
        "api_app_id": "A0MAATJE",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}],
        "event": {
            "type": "message",
            "channel": f"D{user}",
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "channel_type": "im",
        },
    }
