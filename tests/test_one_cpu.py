"""A SQLite process keeps to one CPU (`bot.one_cpu`): `maatje run` as started for real, and the
function itself in a process of its own (never in the test's own process, whose CPUs it would
take away from the rest of the suite)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.faults.processes import ROOT, BotProcess
from tests.slack.slack_fake import FakeSlack
from tests.test_database_errors import RUN_CONFIG

ALLOWED = sorted(os.sched_getaffinity(0))
"""The CPUs this test process may use: no test may take any away from it."""
needs_two = pytest.mark.skipif(len(ALLOWED) < 2, reason="one CPU allowed: nothing to choose")


def cpus_of_every_thread(pid: int) -> dict[int, set[int]]:
    return {int(tid): os.sched_getaffinity(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")}


def run_child(script: str, env: dict[str, str] | None = None) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@needs_two
def test_every_thread_before_and_after_keeps_to_the_one_cpu_chosen() -> None:
    before, chosen, main, earlier, later = run_child(
        """
        import os, threading
        from bot.one_cpu import keep_to_one_cpu
        started, stop = threading.Event(), threading.Event()
        ids = []
        def wait():
            ids.append(threading.get_native_id())
            started.set()
            stop.wait()
        earlier = threading.Thread(target=wait, daemon=True)
        earlier.start()
        started.wait()
        print(len(os.sched_getaffinity(0)), keep_to_one_cpu())
        seen = []  # a thread that has ended cannot be asked: it looks itself
        later = threading.Thread(target=lambda: seen.append(os.sched_getaffinity(0)))
        later.start()
        later.join()
        for cpus in (os.sched_getaffinity(0), os.sched_getaffinity(ids[0]), *seen):
            print(",".join(map(str, sorted(cpus))))
        stop.set()
        """
    )
    assert int(before) == len(ALLOWED)
    assert int(chosen) in ALLOWED
    assert main == earlier == later == chosen


def test_postgresql_and_a_configuration_that_says_no_keep_every_cpu() -> None:
    answers = run_child(
        """
        import os
        from bot.config.model import Config
        from bot.one_cpu import keep_sqlite_to_one_cpu
        for config, dialect in (
            (Config(database_url="postgresql://maatje@localhost/maatje"), "postgresql"),
            (Config(database_url="sqlite:///maatje.db", one_cpu=False), "sqlite"),
        ):
            print(keep_sqlite_to_one_cpu(config, dialect), len(os.sched_getaffinity(0)))
        """
    )
    assert answers == ["None", str(len(ALLOWED))] * 2


@needs_two
def test_a_run_whose_database_cannot_be_opened_keeps_every_cpu(tmp_path: Path) -> None:
    """The command line's own tests run `maatje run` in their process: a run that stops at
    the database must not have taken CPUs away from it."""
    config = tmp_path / "maatje.toml"
    config.write_text(RUN_CONFIG)
    code, cpus = run_child(
        f"""
        import os
        from bot.cli import main
        print(main(["run", "--config", {str(config)!r}]), len(os.sched_getaffinity(0)))
        """,
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'nowhere' / 'maatje.db'}"},
    )
    assert (code, cpus) == ("2", str(len(ALLOWED)))


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


async def started(slack: FakeSlack, tmp_path: Path, extra_config: str = "") -> BotProcess:
    bot = BotProcess("bot", tmp_path, f"sqlite:///{tmp_path / 'maatje.db'}", slack.base_url)
    bot.config.write_text(bot.config.read_text() + extra_config)
    bot.start()
    await bot.wait_healthy()
    return bot


@needs_two
async def test_maatje_run_on_sqlite_keeps_every_thread_to_one_cpu(
    slack: FakeSlack, tmp_path: Path
) -> None:
    bot = await started(slack, tmp_path)
    try:
        assert bot.process is not None
        threads = cpus_of_every_thread(bot.process.pid)
    finally:
        assert bot.terminate() == 0
    assert len(threads) >= 2  # the event loop's and the store's at least
    (cpus,) = {frozenset(cpus) for cpus in threads.values()}
    assert len(cpus) == 1 and set(cpus) <= set(ALLOWED)


async def test_maatje_run_with_one_cpu_false_keeps_every_cpu(
    slack: FakeSlack, tmp_path: Path
) -> None:
    bot = await started(slack, tmp_path, "\n[database]\none_cpu = false\n")
    try:
        assert bot.process is not None
        threads = cpus_of_every_thread(bot.process.pid)
    finally:
        assert bot.terminate() == 0
    assert all(sorted(cpus) == ALLOWED for cpus in threads.values())
