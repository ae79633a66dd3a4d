"""Start-up time: `maatje run` until /healthz answers ok, `maatje demo` until its first prompt.

    python -m bench.startup [--runs 5]

- `maatje run` in Slack HTTP mode against a fake Slack Web API on 127.0.0.1 (the adapter calls
  auth.test at start), on a fresh SQLite file (migrations run at start-up) and on one already
  migrated; wall time from spawning the process to the first `200 ok` of GET /healthz (polled
  every 5 ms), and the time SIGTERM takes to end it;
- `maatje demo` with a script on stdin: wall time until the banner (its first prompt), then
  `/quit` is written and the time until the process ends; on a fresh and on an existing file;
- for reference: the Python interpreter alone, and importing the application's modules.

Each case runs `--runs` times in new processes; min, median and max are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from bench.common import free_port, print_machine
from bench.slack_http import SECRET, _config_toml
from tests.slack.slack_fake import BOT_TOKEN, FakeSlack


def maatje_command() -> list[str]:
    script = Path(sys.executable).parent / "maatje"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def _env() -> dict[str, str]:
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET}
    env.pop("DATABASE_URL", None)
    return env


async def _healthy(url: str) -> bool:
    with contextlib.suppress(aiohttp.ClientError, OSError):
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response,
        ):
            return response.status == 200 and (await response.text()) == "ok"
    return False


async def run_to_healthy(config: Path, port: int, cwd: Path) -> tuple[float, float]:
    """(seconds to healthz ok, seconds SIGTERM took) for one `maatje run`."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *maatje_command(),
        "run",
        "--config",
        str(config),
        cwd=cwd,
        env=_env(),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        while not await _healthy(url):
            if process.returncode is not None:
                error = await process.stderr.read() if process.stderr else b""
                raise RuntimeError(f"maatje run exited: {error.decode()[-2000:]}")
            await asyncio.sleep(0.005)
        ready = time.perf_counter() - started
        stopping = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), 30)
        return ready, time.perf_counter() - stopping
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def demo_to_prompt(database: Path, cwd: Path) -> tuple[float, float]:
    """(seconds to the demo's first prompt, seconds from `/quit` to the end)."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *maatje_command(),
        "demo",
        "--database",
        f"sqlite:///{database}",
        cwd=cwd,
        env=_env(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None and process.stdin is not None
    seen: list[bytes] = []
    try:
        while True:
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            if not line:
                raise RuntimeError("demo ended early: " + b"".join(seen).decode()[-2000:])
            seen.append(line)
            if b"/quit" in line:  # the banner (it names the commands) in either language
                break
        ready = time.perf_counter() - started
        quitting = time.perf_counter()
        process.stdin.write(b"/quit\n")
        await process.stdin.drain()
        process.stdin.close()
        await asyncio.wait_for(process.communicate(), 30)
        return ready, time.perf_counter() - quitting
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


APP_IMPORTS = "import bot.cli, bot.app, flows, adapters.slack"


async def import_shares() -> list[tuple[str, float]]:
    """Self time of each top-level package while importing the application (-X importtime)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-X",
        "importtime",
        "-c",
        APP_IMPORTS,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    shares: dict[str, float] = {}
    for raw in err.decode().splitlines():
        if not raw.startswith("import time:") or "|" not in raw:
            continue
        _, self_us, _, name = (part.strip() for part in raw.replace(":", "|", 1).split("|"))
        if not self_us.isdigit():
            continue
        top = name.split(".")[0]
        shares[top] = shares.get(top, 0.0) + int(self_us) / 1e6
    return sorted(shares.items(), key=lambda item: -item[1])


async def python_alone(code: str) -> float:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", code)
    await process.wait()
    return time.perf_counter() - started


async def import_time() -> float:
    """Seconds importing the application takes inside a fresh interpreter (without the
    interpreter's start and exit)."""
    code = f"import time; t = time.perf_counter(); {APP_IMPORTS}; print(time.perf_counter() - t)"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    return float(out.decode().strip())


def line(label: str, values: list[float], unit: float = 1000.0, suffix: str = "ms") -> str:
    scaled = [v * unit for v in values]
    return (
        f"  {label:<48} median {statistics.median(scaled):7.0f} {suffix}   "
        f"min {min(scaled):6.0f}   max {max(scaled):6.0f}"
    )


async def repeat(runs: int, case: Callable[[int], Awaitable[tuple[float, float]]]) -> tuple:
    firsts, seconds = [], []
    for index in range(runs):
        first, second = await case(index)
        firsts.append(first)
        seconds.append(second)
    return firsts, seconds


async def main_async(args: argparse.Namespace) -> None:
    print_machine("start-up time")
    print(f"{args.runs} runs per case, each a new process; wall time")
    fake = FakeSlack()
    await fake.start()
    try:
        with tempfile.TemporaryDirectory(prefix="maatje-bench-") as tmp_name:
            tmp = Path(tmp_name)

            async def fresh_run(index: int) -> tuple[float, float]:
                port = free_port()
                config = tmp / f"fresh-{index}.toml"
                database = f"sqlite:///{tmp / f'fresh-{index}.db'}"
                config.write_text(_config_toml(database, fake.base_url, port))
                return await run_to_healthy(config, port, tmp)

            migrated = tmp / "migrated.db"

            async def migrated_run(index: int) -> tuple[float, float]:
                port = free_port()
                config = tmp / f"migrated-{index}.toml"
                config.write_text(_config_toml(f"sqlite:///{migrated}", fake.base_url, port))
                return await run_to_healthy(config, port, tmp)

            async def fresh_demo(index: int) -> tuple[float, float]:
                return await demo_to_prompt(tmp / f"demo-{index}.db", tmp)

            async def existing_demo(_index: int) -> tuple[float, float]:
                return await demo_to_prompt(tmp / "demo-existing.db", tmp)

            interpreter = [await python_alone("pass") for _ in range(args.runs)]
            imports = [await import_time() for _ in range(args.runs)]
            shares = await import_shares()
            await migrated_run(-1)  # creates and migrates the database
            await existing_demo(-1)
            fresh = await repeat(args.runs, fresh_run)
            warm = await repeat(args.runs, migrated_run)
            demo_fresh = await repeat(args.runs, fresh_demo)
            demo_existing = await repeat(args.runs, existing_demo)
    finally:
        await fake.stop()

    print("\nreference")
    print(line("python -c pass (start and exit)", interpreter))
    print(line(APP_IMPORTS, imports))
    total = sum(seconds for _, seconds in shares)
    top = ", ".join(f"{name} {seconds * 1000:.0f}" for name, seconds in shares[:10])
    print(f"  where the import time goes (-X importtime self time, ms; all {total * 1000:.0f}):")
    print(f"    {top}")
    print("\nmaatje run (Slack HTTP mode, fake Slack) to GET /healthz ok")
    print(line("fresh SQLite (migrations at start-up)", fresh[0]))
    print(line("already migrated SQLite", warm[0]))
    print(line("SIGTERM to exit", fresh[1] + warm[1]))
    print("\nmaatje demo to its first prompt (stdin a script)")
    print(line("fresh SQLite (migrations + seeding)", demo_fresh[0]))
    print(line("existing demo database", demo_existing[0]))
    print(line("/quit to exit", demo_fresh[1] + demo_existing[1]))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
