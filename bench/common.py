"""What every benchmark prints: the machine it ran on; and small shared helpers (percentiles, a
throwaway PostgreSQL, CPU time of other processes)."""

from __future__ import annotations

import os
import platform
import socket
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    return (
        f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}; "
        f"SQLite {sqlite3.sqlite_version}; load average {os.getloadavg()[0]:.2f} at start"
    )


def print_machine(title: str) -> None:
    print(f"== {title}")
    print(machine())
    sys.stdout.flush()


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (nearest rank); nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


@contextmanager
def postgres_server() -> Iterator[object]:
    """A throwaway PostgreSQL 15 (tests/pg_server.py) with a migrated template database."""
    from tests.pg_server import PostgresServer

    server = PostgresServer()
    server.start()
    try:
        server.prepare_template()
        yield server
    finally:
        server.stop()


def process_tree_cpu(root_pid: int) -> float:
    """User + system CPU seconds of `root_pid` and all its descendants (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def postmaster_pid(server: object) -> int:
    """The PostgreSQL server's main process id (first line of postmaster.pid)."""
    data = server.data  # type: ignore[attr-defined]
    return int((Path(data) / "postmaster.pid").read_text().splitlines()[0])
