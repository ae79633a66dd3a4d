"""Outbox benchmark: plan and dispatch the reminders of N pairs (default 10,000 × 10 actions).

    python -m bench.outbox [--pairs 10000] [--actions 10] [--one-by-one-pairs 2000]
                           [--postgres] [--no-sqlite] [--send noop|console] [--profile PHASE]
                           [--cases plan,burst] [--burst-sends 1000] [--burst-jobs 500]
                           [--burst-future 20000] [--rounds 5] [--reps 40] [--explain]

Each action is a `send` row addressed to the pair's space (a localised reminder with the
meeting's date), due over the programme's weeks, as `bot.delivery.enqueue_outbound` writes them.

- plan, one by one: `bot.outbox.enqueue` per row, one transaction per pair (10 rows), the
  slowest way a flow can write them; measured on `--one-by-one-pairs` pairs, projected to
  `--pairs`;
- plan, per pair: one transaction per pair whose rows go in one `bot.outbox.enqueue_many`
  call, the way the core writes a turn's replies and a confirmed meeting's reminders;
- plan, bulk: `bot.outbox.enqueue_many`, one statement per 1,000 rows;
- dispatch: the clock moves past the last due date and the real `Dispatcher.run_due()` takes
  everything (claims of 50; the messages sent are recorded in the transaction of the claim
  after them, or in one of their own when no claim follows). Its `send` is a
  coroutine that does nothing (`noop`, the default: the dispatcher and the store alone), or
  `console`: the real `Deliverer` rendering each message for its reader (one Person row per pair
  as the reader) and the console adapter writing it to /dev/null.

- burst (`bench/outbox_burst.py`): the cost of a claim round at a burst, when many messages
  and jobs are due at once and half of them are claimed already.

Each database runs in its own child process, so peak memory (ru_maxrss) is that run's alone.
On PostgreSQL the server's own CPU (all its processes, from /proc) is printed beside ours.
Targets: 100,000 planned in under 10 s; dispatched at under 1 ms CPU each; peak under 300 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from bench import outbox_burst
from bench.common import (
    postgres_server,
    postmaster_pid,
    print_machine,
    process_tree_cpu,
    verdict,
)

PLAN_TARGET_S = 10.0
CPU_TARGET_MS = 1.0
MEMORY_TARGET_MB = 300.0
START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def _rows(pairs: int, actions: int, now: datetime) -> Iterator[dict[str, Any]]:
    """The outbox rows: per pair `actions` reminders in its space, two weeks apart (made as
    they are written, so the benchmark's own memory stays out of the peak)."""
    from bot.delivery import SEND
    from bot.i18n import _l
    from bot.replies import Reply

    for pair in range(pairs):
        space = {
            "platform": "console",
            "workspace": "bench",
            "channel_id": f"pair-{pair}",
            "kind": "pair",
        }
        for n in range(actions):
            due = START + timedelta(days=14 * n, seconds=pair)
            reply = Reply(
                _l(
                    "Reminder: your meeting {number} with {other} is on {when}.",
                    number=n + 1,
                    other=f"mentee {pair}",
                    when=due + timedelta(days=2),
                )
            )
            yield {
                "kind": SEND,
                "payload": {
                    "person": pair + 1,
                    "ref": None,
                    "space": space,
                    "reply": reply.to_json(),
                    "language": None,
                },
                "idempotency_key": f"bench:pair:{pair}:reminder:{n}",
                "due_at": due,
                "created_at": now,
            }


def _seed_people(store: Any, count: int, now: datetime) -> None:
    """One Person per pair (the reader the console delivery renders for)."""
    from sqlalchemy import insert

    from bot.domain import Person

    with store.session() as session:
        for start in range(0, count, 5000):
            values = [
                {
                    "display_name": f"person {i}",
                    "language": "nl" if i % 2 else "en",
                    "timezone": "Europe/Amsterdam",
                    "created_at": now,
                }
                for i in range(start, min(count, start + 5000))
            ]
            session.execute(insert(Person), values)


def _cpu_of(pg_pid: int | None) -> float:
    return process_tree_cpu(pg_pid) if pg_pid else 0.0


def _measure(name: str, profile: str | None, work: Any, pg_pid: int | None) -> dict[str, float]:
    profiler = cProfile.Profile() if profile == name else None
    server_before = _cpu_of(pg_pid)
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    work()
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - wall_before
    cpu = time.process_time() - cpu_before
    server = _cpu_of(pg_pid) - server_before
    if profiler:
        print(f"-- cProfile of {name} (profiling adds overhead; figures above are unprofiled)")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)
    return {"wall": wall, "cpu": cpu, "server_cpu": server}


def child(args: argparse.Namespace) -> None:
    """One database, one plan mode: plan, then (optionally) dispatch; print JSON figures."""
    from sqlalchemy import func
    from sqlmodel import select

    from bot import outbox
    from bot.clock import FrozenClock
    from bot.config.model import SchedulerConfig
    from bot.dispatcher import Dispatcher
    from bot.domain import OutboxItem
    from bot.outbox import enqueue_many
    from bot.store import Store

    store = Store(args.url)
    if args.migrate:
        store.upgrade()
    now = START - timedelta(days=1)
    if args.send == "console":
        _seed_people(store, args.pairs, now)
    baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures: dict[str, Any] = {"rows": args.pairs * args.actions, "baseline_mb": baseline_rss}

    def plan_one_by_one() -> None:
        rows = _rows(args.pairs, args.actions, now)
        while pair := list(islice(rows, args.actions)):
            with store.session() as session:
                for row in pair:
                    outbox.enqueue(
                        session,
                        row["kind"],
                        row["payload"],
                        row["idempotency_key"],
                        row["due_at"],
                        row["created_at"],
                    )

    def plan_per_pair() -> None:
        rows = _rows(args.pairs, args.actions, now)
        while pair := list(islice(rows, args.actions)):
            with store.session() as session:
                enqueue_many(session, pair)

    def plan_bulk() -> None:
        with store.session() as session:
            enqueue_many(session, _rows(args.pairs, args.actions, now))

    planner = {"one": plan_one_by_one, "pair": plan_per_pair, "bulk": plan_bulk}[args.plan]
    figures["plan"] = _measure("plan", args.profile, planner, args.pg_pid)
    with store.session() as session:
        figures["planned"] = session.exec(select(func.count()).select_from(OutboxItem)).one()
        again = time.perf_counter()
        enqueue_many(session, islice(_rows(args.pairs, args.actions, now), 1000))  # no new rows
        figures["replan_1000_s"] = time.perf_counter() - again
        figures["after_replan"] = session.exec(select(func.count()).select_from(OutboxItem)).one()

    if args.dispatch:
        clock = FrozenClock(START + timedelta(days=14 * args.actions + 30))
        if args.send == "console":
            from adapters.console import ConsoleAdapter
            from bot.delivery import Deliverer
            from bot.i18n import Translator

            devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the run
            console = ConsoleAdapter(out=devnull, workspace="bench")
            deliverer = Deliverer(store, Translator(), {"console": console})
            send, prefetch = deliverer.deliver, deliverer.prefetch
        else:

            async def send(_item: OutboxItem) -> None:
                return None

            prefetch = None
        settings = SchedulerConfig(claim_lease_seconds=600)
        dispatcher = Dispatcher(store, clock, send, {}, settings, worker="bench", prefetch=prefetch)
        taken: list[int] = []
        figures["dispatch"] = _measure(
            "dispatch",
            args.profile,
            lambda: taken.append(asyncio.run(dispatcher.run_due())),
            args.pg_pid,
        )
        figures["taken"] = taken[0]
        with store.session() as session:
            figures["done"] = session.exec(
                select(func.count()).select_from(OutboxItem).where(OutboxItem.done_at.is_not(None))
            ).one()
    figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    store.dispose()
    print("RESULT " + json.dumps(figures))


def _run_plan(
    args: argparse.Namespace, url: str, plan: str, pairs: int, pg_pid: int | None
) -> dict:
    """Run the child that plans `pairs` pairs' actions one way (and dispatches them)."""
    command = [
        sys.executable,
        "-m",
        "bench.outbox",
        "--child",
        "--url",
        url,
        "--pairs",
        str(pairs),
        "--actions",
        str(args.actions),
        "--plan",
        plan,
        "--send",
        args.send,
    ]
    if plan == "bulk":
        command.append("--dispatch")
    if url.startswith("sqlite"):
        command.append("--migrate")
    if pg_pid:
        command += ["--pg-pid", str(pg_pid)]
    if args.profile:
        command += ["--profile", args.profile]
    return _run_child(command, f"child for {url} ({plan})")


def _run_burst(args: argparse.Namespace, url: str) -> dict:
    command = [sys.executable, "-m", "bench.outbox", "--burst-child", "--url", url]
    for option in ("burst_sends", "burst_jobs", "burst_future", "rounds", "reps"):
        command += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
    if url.startswith("sqlite"):
        command.append("--migrate")
    if args.explain:
        command.append("--explain")
    return _run_child(command, f"burst child for {url}")


def _run_child(command: list[str], label: str) -> dict:
    """Run a measuring child process, pass its report through, return its `RESULT` line."""
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in result.stdout.splitlines():
        if not line.startswith("RESULT "):
            print(line)
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        raise SystemExit(f"{label} failed")
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


PLANS = {
    "one": "plan one by one: bot.outbox.enqueue per row, 1 transaction per pair",
    "pair": "plan per pair: 1 transaction and 1 bot.outbox.enqueue_many call per pair",
}


def _report_plan(database: str, plan: str, figures: dict, total_rows: int, pg: bool) -> None:
    rows, p = figures["rows"], figures["plan"]
    projected = p["wall"] / rows * total_rows
    print(f"\n[{database}] {PLANS[plan]}")
    print(
        f"  planned {figures['planned']:,} rows in {p['wall']:.2f} s wall "
        f"({rows / p['wall']:,.0f} rows/s), CPU {p['cpu'] / rows * 1e6:.0f} µs per row"
        + (f" + PostgreSQL {p['server_cpu'] / rows * 1e6:.0f} µs" if pg else "")
    )
    print(
        f"  {total_rows:,} rows at that rate: {projected:.1f} s"
        + (" (projected)" if rows != total_rows else "")
        + f"  [target < {PLAN_TARGET_S:.0f} s: {verdict(projected < PLAN_TARGET_S)}]"
    )


def _report_bulk(database: str, figures: dict, pg: bool) -> None:
    rows, p = figures["rows"], figures["plan"]
    print(f"\n[{database}] plan in bulk: bot.outbox.enqueue_many, 1 transaction")
    print(
        f"  planned {figures['planned']:,} rows in {p['wall']:.2f} s wall "
        f"({rows / p['wall']:,.0f} rows/s), {p['cpu']:.2f} s CPU"
        + (f" + {p['server_cpu']:.2f} s PostgreSQL CPU" if pg else "")
        + f"  [target < {PLAN_TARGET_S:.0f} s: {verdict(p['wall'] < PLAN_TARGET_S)}]"
    )
    print(
        f"  the first 1,000 planned again (idempotent): {figures['replan_1000_s'] * 1000:.0f} ms,"
        f" rows afterwards {figures['after_replan']:,}"
    )
    d = figures["dispatch"]
    taken = figures["taken"]
    per = d["cpu"] / max(taken, 1) * 1000
    print(
        f"  dispatched {taken:,} (done {figures['done']:,}) in {d['wall']:.2f} s wall "
        f"({taken / d['wall']:,.0f}/s, {d['wall'] / max(taken, 1) * 1000:.2f} ms each); "
        f"CPU {d['cpu']:.2f} s = {per:.3f} ms per action"
        f"  [target < {CPU_TARGET_MS:.0f} ms: {verdict(per < CPU_TARGET_MS)}]"
    )
    if pg:
        server = d["server_cpu"] / max(taken, 1) * 1000
        print(f"  PostgreSQL server CPU {d['server_cpu']:.2f} s = {server:.3f} ms per action")
    peak = figures["peak_mb"]
    print(
        f"  peak memory (ru_maxrss) {peak:.0f} MB (after imports and migrations: "
        f"{figures['baseline_mb']:.0f} MB)  [target < {MEMORY_TARGET_MB:.0f} MB: "
        f"{verdict(peak < MEMORY_TARGET_MB)}]"
    )


def _measure_database(
    args: argparse.Namespace, name: str, url_for: Any, pg_pid: int | None
) -> None:
    sample = min(args.one_by_one_pairs, args.pairs)
    total, pg = args.pairs * args.actions, pg_pid is not None
    if sample > 0:
        figures = _run_plan(args, url_for("one"), "one", sample, pg_pid)
        _report_plan(name, "one", figures, total, pg)
    figures = _run_plan(args, url_for("pair"), "pair", args.pairs, pg_pid)
    _report_plan(name, "pair", figures, total, pg)
    figures = _run_plan(args, url_for("bulk"), "bulk", args.pairs, pg_pid)
    _report_bulk(name, figures, pg_pid is not None)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.outbox",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--actions", type=int, default=10, help="outbox actions per pair")
    parser.add_argument(
        "--one-by-one-pairs",
        type=int,
        default=2_000,
        help="pairs planned one by one (the rate is projected to --pairs; 0 skips it)",
    )
    parser.add_argument("--send", choices=("noop", "console"), default="noop")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL 15 too")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    parser.add_argument("--profile", choices=("plan", "dispatch"), help="cProfile one phase")
    parser.add_argument(
        "--cases", default="plan,burst", help="plan (plan and dispatch), burst, or both"
    )
    parser.add_argument("--burst-sends", type=int, default=1000, help="messages due at once")
    parser.add_argument("--burst-jobs", type=int, default=500, help="jobs due at once")
    parser.add_argument("--burst-future", type=int, default=20_000, help="actions due later")
    parser.add_argument("--rounds", type=int, default=5, help="burst: loops measured")
    parser.add_argument("--reps", type=int, default=40, help="burst: claim rounds per loop")
    parser.add_argument("--explain", action="store_true", help="burst: print query plans")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--burst-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--plan", choices=("one", "pair", "bulk"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--migrate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dispatch", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pg-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return
    if args.burst_child:
        outbox_burst.child(args)
        return
    cases = set(args.cases.split(","))

    print_machine("outbox: plan and dispatch the reminders of pairs")
    if "plan" in cases:
        print(
            f"pairs {args.pairs:,} × {args.actions} actions = {args.pairs * args.actions:,} rows;"
            f" one by one measured on {min(args.one_by_one_pairs, args.pairs) * args.actions:,}"
            " rows; dispatch after the bulk plan; send: "
            + (
                "a coroutine that does nothing"
                if args.send == "noop"
                else "Deliverer + console adapter writing to /dev/null"
            )
        )
    started = time.perf_counter()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="maatje-bench-") as tmp:
            url_for = lambda plan: f"sqlite:///{Path(tmp) / f'outbox-{plan}.db'}"  # noqa: E731
            if "plan" in cases:
                _measure_database(args, "SQLite", url_for, None)
            if "burst" in cases:
                outbox_burst.report("SQLite", _run_burst(args, url_for("burst")))
    if args.postgres:
        with postgres_server() as server:
            fresh = server.fresh_database  # type: ignore[attr-defined]
            if "plan" in cases:
                _measure_database(
                    args, "PostgreSQL 15", lambda _plan: fresh(), postmaster_pid(server)
                )
            if "burst" in cases:
                outbox_burst.report("PostgreSQL 15", _run_burst(args, fresh()))
    print(f"\ntotal benchmark time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
