"""Keeping a SQLite process on one CPU.

On SQLite, everything Maatje does is Python on two threads, the event loop's and the store's
(`bot.threads`), which take turns on the one interpreter lock: the process never uses more
than one CPU's worth. Left to the operating system, the two threads run on two CPUs, and each
handover (several per event: the turn, the claims, the recordings) wakes the other CPU and
moves the work's memory between their caches. Measured on a 2-CPU virtual machine, that cost
12-20 % of the process's CPU time (docs/performance.md). On one CPU a handover is a switch
between two threads of that CPU. `[database] one_cpu = false` leaves the choice to the
operating system; PostgreSQL processes are never kept to one (their store threads wait for
the server, not for the lock).
"""

from __future__ import annotations

import contextlib
import logging
import os

from bot.config.model import Config

log = logging.getLogger(__name__)


def keep_sqlite_to_one_cpu(config: Config, dialect: str) -> int | None:
    """What `maatje run` does once its store is open (`dialect`, the store's): on SQLite,
    unless the configuration says otherwise, keep the process to one CPU (`keep_to_one_cpu`)."""
    if not config.one_cpu or dialect != "sqlite":
        return None
    return keep_to_one_cpu()


def keep_to_one_cpu() -> int | None:
    """Restrict this process, every thread it has and will start, to one of the CPUs it may
    use: the one its process id picks, so that processes started side by side spread out.
    Returns that CPU; None where there is no choice to make (one CPU allowed) or no way to
    make it (not Linux)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return None
    cpu = allowed[os.getpid() % len(allowed)]
    for thread in _threads():  # threads inherit their creator's CPUs: these and all later ones
        with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
            os.sched_setaffinity(thread, {cpu})
    log.info("SQLite: this process keeps to CPU %s of %s", cpu, len(allowed))
    return cpu


def _threads() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc/self/task")]
    except OSError:  # no /proc: the calling thread only
        return [0]
