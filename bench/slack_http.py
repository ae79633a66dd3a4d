"""Slack HTTP endpoint under load: the whole bot beside a bare slack-bolt echo app.

    python -m bench.slack_http [--rate 200] [--seconds 10] [--users 500] [--paced]
                               [--postgres [--processes 2]] [--profile-server FILE]

A fake Slack Web API (tests/slack/slack_fake.py) runs on 127.0.0.1 in this process, next to an
aiohttp client that posts signed `event_callback` / `message.im` events (distinct event ids) at a
fixed rate, open loop (each request leaves on schedule, whatever the answers before it). Every
simulated user writes "hello", then answers the intake ("yes" to consent, "mentee" or "mentor",
then free text the form step refuses), so each event runs a flow step and writes a reply.

The systems under test each run in their own process (one core each on a 2-core machine):

- bare: a slack-bolt `AsyncApp` on the same aiohttp server code that only echoes: `ack()` and a
  `chat.postMessage` of the text, through the same fake;
- full: `maatje run` itself (`bot.cli.main`, config file, SQLite file in a temp dir, or a
  throwaway PostgreSQL 15 with `--postgres`): the adapter, the core, the flow engine, the
  outbox and the dispatcher, with the APScheduler tick. With `--processes N` the PostgreSQL
  run is repeated with N such processes behind a round-robin spread of the events, as behind
  a load balancer.

Measured: events accepted per second (HTTP 200), ack latency (the HTTP response time seen by
the client) p50/p99/max, replies (chat.postMessage calls the fake received) per second and the
time until the last one arrived, the processing throughput (events / time from the first event
to the last reply), and the server's CPU per event. Full/bare is the ratio of processing
throughputs.

The Slack adapter paces chat.postMessage within Slack's limits (adapters/slack/limits.py: one
message per second per channel, a workspace-wide rate that starts at 100/s and learns from
429s). The fake here enforces no limits, so by default the full run lifts the adapter's pacing
to measure the engine and the store; `--paced` keeps it. bench.slack_surge measures the bot
against a fake that enforces Slack's limits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import functools
import hashlib
import hmac
import json
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import (
    free_port,
    percentile,
    postgres_server,
    postmaster_pid,
    print_machine,
    process_tree_cpu,
    verdict,
)
from tests.slack.slack_fake import BOT_TOKEN, FakeSlack

SECRET = "bench-signing-secret"
PATH = "/slack/events"
TEAM = "T0BENCH"
ACK_P99_TARGET_MS = 50.0
RATIO_TARGET = 0.5
SCRIPTS = (
    ("hello", "yes", "mentee", "Law, second year", "I would like help with planning"),
    ("hello", "yes", "mentor", "History, now a teacher", "Planning and writing"),
)


# -- the systems under test (child processes) ---------------------------------------------


def _bare_app(fake_url: str) -> Any:
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake_url)
    app = AsyncApp(client=client, signing_secret=SECRET)

    @app.event("message")
    async def echo(ack: Any, event: dict[str, Any], client: Any) -> None:
        await ack()
        await client.chat_postMessage(channel=event["channel"], text=event.get("text") or "")

    return app


async def _serve_bare(fake_url: str, port: int) -> None:
    from adapters.slack.http import HttpServer

    server = HttpServer(
        _bare_app(fake_url), path=PATH, host="127.0.0.1", port=port, healthy=lambda: True
    )
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


def config_toml(database_url: str, fake_url: str, port: int) -> str:
    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=30), today + timedelta(days=200)
    return f"""
[database]
url = "{database_url}"

[logging]
level = "WARNING"

[slack]
enabled = true
mode = "http"
host = "127.0.0.1"
port = {port}
path = "{PATH}"
api_base_url = "{fake_url}"

[[programmes]]
name = "Bench Programme"
slug = "bench"
language = "en"
timezone = "Europe/Amsterdam"
start = "{start.isoformat()}"
end = "{end.isoformat()}"
meeting_cadence = "biweekly"
meetings = 4
coordinators = {{ slack = ["UCOORD"] }}
"""


def _serve_full(config_path: str, paced: bool, profile: str | None) -> int:
    if not paced:  # measure the engine and the store, not Slack's limits
        from adapters.slack import client, limits

        plenty = 10**9
        client.SlackLimits = functools.partial(  # type: ignore[misc]
            limits.SlackLimits,
            channel_rate=plenty,
            channel_burst=plenty,
            workspace_ceiling=plenty,
            workspace_burst=plenty,
        )
    from bot.cli import main

    if not profile:
        return main(["run", "--config", config_path])
    profiler = cProfile.Profile()
    try:
        return profiler.runcall(main, ["run", "--config", config_path])
    finally:
        profiler.dump_stats(profile)


# -- the driver ---------------------------------------------------------------------------


class TimedFake(FakeSlack):
    """The fake Slack, noting when each chat.postMessage arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.post_times: list[float] = []
        self.keys: dict[str, int] = {}  # Maatje's idempotency key (message metadata) → posts

    def _chat_postMessage(self, p: dict) -> dict:
        self.post_times.append(time.perf_counter())
        metadata = p.get("metadata") if isinstance(p.get("metadata"), dict) else {}
        key = (metadata.get("event_payload") or {}).get("key")
        if key:
            self.keys[key] = self.keys.get(key, 0) + 1
        return super()._chat_postMessage(p)

    def _users_info(self, p: dict) -> dict:
        """Every simulated person is a member of the workspace (Maatje looks each one up)."""
        self.add_user(p["user"], f"Person {p['user']}")
        return super()._users_info(p)

    def duplicates(self) -> int:
        return sum(count - 1 for count in self.keys.values())

    def reset(self) -> None:
        self.calls.clear()
        self.post_times.clear()
        self.keys.clear()


def sign(body: bytes, timestamp: int) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()


def event_body(event_id: str, user: str, text: str, n: int) -> bytes:
    ts = f"1700000000.{n:06d}"
    return json.dumps(
        {
            "token": "bench",
            "team_id": TEAM,
            "api_app_id": "A0BENCH",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1700000000,
            "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}],
            "event": {
                "type": "message",
                "channel_type": "im",
                "channel": "D" + user,
                "user": user,
                "text": text,
                "ts": ts,
                "event_ts": ts,
            },
        }
    ).encode()


@dataclass
class Load:
    sent: int = 0
    ok: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    first_sent: float = 0.0
    last_sent: float = 0.0
    last_answer: float = 0.0
    worst_lag: float = 0.0


async def post(session: aiohttp.ClientSession, url: str, body: bytes, load: Load) -> None:
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(body, timestamp),
    }
    started = time.perf_counter()
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            status = response.status
    except Exception:
        status = 0
    finished = time.perf_counter()
    load.last_answer = max(load.last_answer, finished)
    if status == 200:
        load.ok += 1
        load.latencies.append(finished - started)
    else:
        load.failed += 1


async def drive(
    urls: list[str], rate: float, count: int, users: int, prefix: str, start_index: int = 0
) -> Load:
    """Post `count` events at `rate` per second, round-robin over `users` people and over the
    `urls` of the processes (a load balancer that knows nothing of people)."""
    load = Load()
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    tasks: list[asyncio.Task[None]] = []
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.perf_counter()
        load.first_sent = began
        for i in range(count):
            due = began + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            load.worst_lag = max(load.worst_lag, time.perf_counter() - due)
            user_no, turn = i % users, i // users
            user = f"U{prefix}{user_no:05d}"
            script = SCRIPTS[user_no % len(SCRIPTS)]
            text = script[min(turn, len(script) - 1)]
            n = start_index + i
            body = event_body(f"Ev{prefix}{n:08d}", user, text, n)
            url = urls[i % len(urls)]
            tasks.append(asyncio.create_task(post(session, url, body, load)))
            load.sent += 1
        load.last_sent = time.perf_counter()
        await asyncio.gather(*tasks)
    return load


class Progress:
    """How far the full bot got, read from its database (events handled, sends pending)."""

    def __init__(self, database_url: str) -> None:
        from bot.store import create_db_engine

        self.engine = create_db_engine(database_url)

    def read(self) -> tuple[int, int, int, int]:
        from sqlalchemy import text

        with self.engine.connect() as c:
            handled = c.execute(text("SELECT count(*) FROM processed_event")).scalar_one()
            pending, done, failed = c.execute(
                text(
                    "SELECT"
                    " sum(CASE WHEN done_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END),"
                    " sum(CASE WHEN done_at IS NOT NULL THEN 1 ELSE 0 END),"
                    " sum(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END)"
                    " FROM outbox WHERE kind = 'send'"
                )
            ).one()
        return handled, pending or 0, done or 0, failed or 0

    def close(self) -> None:
        self.engine.dispose()


async def settle(
    fake: TimedFake,
    expected_events: int,
    progress: Progress | None,
    timeout: float,
    done_before: int = 0,
) -> tuple[bool, str]:
    """Wait until every event was handled and every reply reached the fake (`done_before`:
    sends done before the fake's counters were reset)."""
    deadline = time.perf_counter() + timeout
    state = ""
    while time.perf_counter() < deadline:
        posts = len(fake.post_times)
        if progress is None:
            state = f"{posts} replies"
            if posts >= expected_events:
                return True, state
        else:
            handled, pending, done, failed = await asyncio.to_thread(progress.read)
            state = f"{handled} handled, {pending} sends pending, {done} done, {failed} failed"
            if handled >= expected_events and pending == 0 and posts >= done - done_before:
                return True, state
        await asyncio.sleep(0.05)
    return False, state


@dataclass
class Result:
    name: str
    load: Load
    replies: int
    reply_times: list[float]
    settled: bool
    state: str
    server_cpu: float
    db_cpu: float | None
    duplicates: int = 0

    @property
    def end(self) -> float:
        return max(self.reply_times) if self.reply_times else float("nan")

    @property
    def processed_rate(self) -> float:
        return self.load.sent / (self.end - self.load.first_sent)


async def wait_healthy(url: str, process: asyncio.subprocess.Process, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url + "/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)
    raise RuntimeError("server did not become healthy")


async def run_system(
    name: str,
    servers: list[tuple[list[str], int]],
    fake: TimedFake,
    args: argparse.Namespace,
    log_path: Path,
    database_url: str | None,
    db_pid: int | None,
) -> Result:
    """Start the system's processes (command, port), load them together, stop them."""
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
    }
    env.pop("DATABASE_URL", None)
    processes = []
    with log_path.open("wb") as log:
        for command, _port in servers:
            processes.append(
                await asyncio.create_subprocess_exec(
                    *command, stdout=log, stderr=subprocess.STDOUT, env=env
                )
            )
    urls = [f"http://127.0.0.1:{port}" for _command, port in servers]
    progress = Progress(database_url) if database_url else None
    try:
        for url, process in zip(urls, processes, strict=True):
            await wait_healthy(url, process, 60)
        endpoints = [url + PATH for url in urls]
        # warm-up: a few users say hello (first statements compiled, first connections made)
        warm = await drive(endpoints, args.rate, args.warmup, args.warmup, "W")
        await settle(fake, warm.sent, progress, 30)
        fake.reset()
        warmed, done_before = 0, 0
        if progress:
            warmed, _, done_before, _ = await asyncio.to_thread(progress.read)

        cpu_before = sum(process_tree_cpu(process.pid) for process in processes)
        db_before = process_tree_cpu(db_pid) if db_pid else None
        count = int(args.rate * args.seconds)
        load = await drive(endpoints, args.rate, count, args.users, "L")
        settled, state = await settle(
            fake, warmed + count, progress, args.settle_timeout, done_before
        )
        server_cpu = sum(process_tree_cpu(process.pid) for process in processes) - cpu_before
        db_cpu = process_tree_cpu(db_pid) - db_before if db_pid and db_before is not None else None
        return Result(
            name,
            load,
            len(fake.post_times),
            list(fake.post_times),
            settled,
            state,
            server_cpu,
            db_cpu,
            fake.duplicates(),
        )
    finally:
        if progress:
            progress.close()
        for process in processes:
            await stop_process(process)
        fake.reset()


async def stop_process(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


def show_log_problems(name: str, log: Path, shown: int) -> None:
    """Count the WARNING and ERROR records of a server's log; show the first of each."""
    lines = log.read_text(errors="replace").splitlines()
    for level in ("WARNING", "ERROR"):
        found = [i for i, line in enumerate(lines) if f" {level} " in line]
        if found:
            print(f"  ({name}: {len(found)} {level} records in its log; the first:)")
            for line in lines[found[0] : found[0] + shown]:
                print("    " + line[:300])


def report(result: Result, target: bool) -> None:
    load = result.load
    window = load.last_answer - load.first_sent
    lat = [x * 1000 for x in load.latencies]
    p50, p99 = percentile(lat, 0.50), percentile(lat, 0.99)
    print(f"\n[{result.name}]")
    print(
        f"  sent {load.sent} events in {load.last_sent - load.first_sent:.2f} s "
        f"(client worst lag behind schedule {load.worst_lag * 1000:.1f} ms)"
    )
    print(
        f"  accepted {load.ok} (HTTP 200), failed {load.failed}: "
        f"{load.ok / window:.1f} events/s accepted"
    )
    line = f"  ack latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(lat, default=0):.1f} ms"
    if target:
        line += f"  [target p99 < {ACK_P99_TARGET_MS:.0f} ms: {verdict(p99 < ACK_P99_TARGET_MS)}]"
    print(line)
    if result.reply_times:
        first_reply = min(result.reply_times)
        span = result.end - load.first_sent
        in_window = sum(1 for t in result.reply_times if t <= load.last_sent)
        print(
            f"  replies {result.replies}: {result.replies / span:.1f} replies/s from the first "
            f"event to the last reply; first after {(first_reply - load.first_sent) * 1000:.0f}"
            f" ms; {in_window} arrived while the load ran"
        )
        print(
            f"  all replies arrived {span:.2f} s after the first event, "
            f"{result.end - load.last_sent:.2f} s after the last"
            + ("" if result.settled else f" (NOT settled: {result.state})")
        )
        print(f"  processing throughput {result.processed_rate:.1f} events/s")
        if result.name != "bare bolt echo":
            print(f"  replies posted twice (same idempotency key): {result.duplicates}")
    else:
        print(f"  no replies arrived ({result.state})")
    cpu = f"  server CPU {result.server_cpu:.2f} s = {result.server_cpu / load.sent * 1000:.2f} ms"
    cpu += " per event"
    if result.db_cpu is not None:
        cpu += f"; PostgreSQL CPU {result.db_cpu:.2f} s"
    print(cpu)


async def driver(args: argparse.Namespace) -> None:
    print_machine("Slack HTTP endpoint under load: full bot vs bare bolt echo")
    print(
        f"offered {args.rate:.0f} events/s for {args.seconds:.0f} s "
        f"({int(args.rate * args.seconds)} events, {args.users} users, "
        f"{args.warmup} warm-up events first); chat.postMessage pacing: "
        + ("kept" if args.paced else "lifted (see --paced)")
    )
    fake = TimedFake()
    await fake.start()
    results: list[Result] = []
    me = [sys.executable, "-m", "bench.slack_http"]
    try:
        with tempfile.TemporaryDirectory(prefix="maatje-bench-") as tmp_name:
            tmp = Path(tmp_name)
            port = free_port()
            bare = [*me, "--serve", "bare", "--fake-url", fake.base_url, "--port", str(port)]
            results.append(
                await run_system(
                    "bare bolt echo", [(bare, port)], fake, args, tmp / "bare.log", None, None
                )
            )
            systems: list[tuple[str, str, int | None, int]] = []
            sqlite_url = f"sqlite:///{tmp / 'maatje.db'}"
            systems.append(("full bot, SQLite", sqlite_url, None, 1))
            pg_context = postgres_server() if args.postgres else contextlib.nullcontext()
            with pg_context as server:
                if server is not None:
                    pg_pid = postmaster_pid(server)
                    for count in sorted({1, args.processes}):
                        url = server.fresh_database()  # type: ignore[attr-defined]
                        label = "1 process" if count == 1 else f"{count} processes"
                        systems.append((f"full bot, PostgreSQL 15, {label}", url, pg_pid, count))
                for index, (name, database_url, db_pid, count) in enumerate(systems):
                    servers = []
                    for number in range(count):
                        port = free_port()
                        config = tmp / f"config-{index}-{number}.toml"
                        config.write_text(config_toml(database_url, fake.base_url, port))
                        command = [*me, "--serve", "full", "--config", str(config)]
                        if args.paced:
                            command.append("--paced")
                        if args.profile_server and index == 0:
                            command += ["--profile", args.profile_server]
                        servers.append((command, port))
                    log = tmp / f"full-{index}.log"
                    result = await run_system(name, servers, fake, args, log, database_url, db_pid)
                    results.append(result)
                    show_log_problems(name, log, args.log_lines)
    finally:
        await fake.stop()

    bare_result = results[0]
    for result in results:
        report(result, target=result is not bare_result)
    print()
    for result in results[1:]:
        ratio = result.processed_rate / bare_result.processed_rate
        accepted = (result.load.ok / (result.load.last_answer - result.load.first_sent)) / (
            bare_result.load.ok / (bare_result.load.last_answer - bare_result.load.first_sent)
        )
        print(
            f"{result.name} / bare: processing throughput ratio {ratio:.2f}  "
            f"[target >= {RATIO_TARGET}: {verdict(ratio >= RATIO_TARGET)}]; "
            f"accepted-rate ratio {accepted:.2f}"
        )
    if args.profile_server:
        print(f"\n-- cProfile of the full bot's process (SQLite run), {args.profile_server}:")
        stats = pstats.Stats(args.profile_server, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(20)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slack_http", description=__doc__)
    parser.add_argument("--rate", type=float, default=200.0, help="events per second offered")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the load runs")
    parser.add_argument("--users", type=int, default=500, help="simulated people")
    parser.add_argument("--warmup", type=int, default=50, help="warm-up events (not counted)")
    parser.add_argument("--settle-timeout", type=float, default=60.0)
    parser.add_argument("--postgres", action="store_true", help="also the full bot on PostgreSQL")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="with --postgres, also this many `maatje run` processes sharing the database",
    )
    parser.add_argument("--paced", action="store_true", help="keep the adapter's pacing")
    parser.add_argument("--profile-server", metavar="FILE", help="cProfile the full bot (SQLite)")
    parser.add_argument("--log-lines", type=int, default=3, help="lines shown of a logged error")
    parser.add_argument("--serve", choices=("bare", "full"), help=argparse.SUPPRESS)
    parser.add_argument("--fake-url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--profile", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve == "bare":
        asyncio.run(_serve_bare(args.fake_url, args.port))
        return 0
    if args.serve == "full":
        return _serve_full(args.config, args.paced, args.profile)
    asyncio.run(driver(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
