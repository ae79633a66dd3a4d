"""Programme benchmark: a whole mentoring programme, simulated end to end.

    python -m bench.programme --pairs 1000 [--postgres] [--seed 1] [--all-cpus]

Scripted participants (N mentees, N/5 mentors) talk to the real core through a recording
adapter while the clock moves from the first day of intake to the certificates. They answer
what Maatje asks of them as a person would: buttons by their meaning, forms field by field,
typed questions in the space they were asked in. About 10 % of mentees stall for a few weeks,
about 5 % of participants drop out (they stop answering), 3 % of mentees say the match doesn't
work, and half the people speak English in a Dutch programme. The coordinator does only what
Maatje's messages ask of them.

It prints the coordinator's commands by kind, the bot's messages per phase, wall time per phase
and the peak memory, and checks the targets of issue 14: at most 50 coordinator commands (not
growing with N), under 10 minutes and 300 MB, every pair that did not drop out meets at least
three times. No bare-framework baseline: the figures are the whole programme's, against the
targets. On SQLite the process keeps to one CPU, as `maatje run` does (`bot.one_cpu`);
`--all-cpus` leaves it on all of them, as `[database] one_cpu = false` does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from pathlib import Path

from bench.common import print_machine, verdict
from bench.report import Report
from bench.simulation import Simulation, SimulationSettings
from bot.one_cpu import keep_to_one_cpu

PHASES = ("intake", "matching", "guide and meetings", "closing")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process so far (steadier than wall time on a shared machine)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def simulate(pairs: int, database_url: str, seed: int) -> tuple[Report, dict[str, float]]:
    """Run the programme; the report and the wall time of each phase."""
    sim = Simulation(database_url, SimulationSettings(pairs=pairs, seed=seed))
    walls: dict[str, float] = {}
    cpu_at_start = cpu_seconds()
    steps = (sim.intake, sim.matching, sim.programme, sim.closing)
    for phase, step in zip(PHASES, steps, strict=True):
        started = time.perf_counter()
        sim.phase = phase
        await step()
        walls[phase] = time.perf_counter() - started
        print(f"  .. {phase} done in {walls[phase]:.1f} s", flush=True)
    walls["cpu"] = cpu_seconds() - cpu_at_start
    report = sim.report()
    await sim.close()
    return report, walls


def show(report: Report, walls: dict[str, float], pairs: int) -> bool:
    """Print the figures and the targets; True when every target is met."""
    total = sum(walls[phase] for phase in PHASES)
    cpu = walls["cpu"]
    print(
        f"pairs {pairs}: {pairs} mentees, {report.mentors} mentors; {report.dropped} people "
        f"dropped out, {report.stalled} mentees stalled; {report.pairs} pairs made, "
        f"{report.ended_early} ended before the close; {report.running} ran to the close "
        "without a drop-out"
    )
    print(
        f"participant events: {report.events:,} ({total / max(report.events, 1) * 1000:.1f} ms "
        f"each, everything included; CPU {cpu:.0f} s, {cpu / max(report.events, 1) * 1000:.1f} "
        "ms each)"
    )
    print("coordinator commands:")
    for kind, count in sorted(report.commands.items()):
        print(f"  {kind:<24} {count}")
    print(f"  {'total':<24} {report.command_total}")
    print("bot messages and wall time per phase:")
    for phase in PHASES:
        print(f"  {phase:<20} {report.messages[phase]:>9,} messages {walls[phase]:9.1f} s")
    print(f"  {'total':<20} {sum(report.messages.values()):>9,} messages {total:9.1f} s")
    print(
        f"meetings held by those pairs: min {report.held_min}, median "
        f"{report.held_median}, under 3: {report.under_three}"
    )
    for line in report.short:
        print(f"  under 3: {line}")
    print(f"certificates: {report.certificates}; peak memory {peak_mb():.0f} MB")
    print("load average at the end: " + " ".join(f"{load:.2f}" for load in os.getloadavg()))
    for title, found in (
        ("answers Maatje did not take", report.refused),
        ("conversations left open", report.left_open),
        ("errors the bot logged", report.errors),
    ):
        if found:
            print(f"{title}: " + ", ".join(f"{k} ×{v}" for k, v in sorted(found.items())))
    checks = {
        "coordinator commands <= 50": report.command_total <= 50,
        "wall time < 10 min": total < 600,
        "peak memory < 300 MB": peak_mb() < 300,
        "every pair that did not drop out met >= 3 times": report.under_three == 0,
    }
    for name, ok in checks.items():
        print(f"target {name}: {verdict(ok)}")
    return all(checks.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--all-cpus", action="store_true", help="SQLite: not kept to one CPU")
    args = parser.parse_args()
    print_machine(f"programme, {args.pairs} pairs")
    if args.postgres:
        from bench.common import postgres_server

        with postgres_server() as server:
            url = server.fresh_database_url()  # type: ignore[attr-defined]
            report, walls = asyncio.run(simulate(args.pairs, url, args.seed))
    else:
        cpu = None if args.all_cpus else keep_to_one_cpu()
        print(f"SQLite; the process keeps to {'all CPUs' if cpu is None else f'CPU {cpu}'}")
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'programme.db'}"
            report, walls = asyncio.run(simulate(args.pairs, url, args.seed))
    return 0 if show(report, walls, args.pairs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
