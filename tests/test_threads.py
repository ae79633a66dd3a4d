"""The store's SQLite thread runs urgent work (recording an event before Slack's
acknowledgement) before the work queued ahead of it, and nothing is lost on shutdown."""

from __future__ import annotations

import threading

import pytest

from bot.threads import PriorityWorker


def test_urgent_work_goes_first_and_queued_work_still_runs_in_order() -> None:
    worker = PriorityWorker("test-worker")
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def blocker() -> None:
        started.set()
        release.wait(10)
        ran.append("running")

    first = worker.submit(blocker)
    assert started.wait(10)
    queued = [worker.submit(ran.append, name) for name in ("a", "b", "c")]
    urgent = worker.submit_urgent(ran.append, "urgent")
    release.set()
    for future in (first, *queued, urgent):
        future.result(10)
    assert ran == ["running", "urgent", "a", "b", "c"]
    worker.shutdown()


def test_shutdown_finishes_queued_work_and_refuses_more() -> None:
    worker = PriorityWorker("test-worker")
    ran: list[int] = []
    futures = [worker.submit(ran.append, n) for n in range(20)]
    worker.shutdown(wait=True)
    assert ran == list(range(20)) and all(f.done() for f in futures)
    with pytest.raises(RuntimeError):
        worker.submit(ran.append, 99)


def test_an_error_reaches_the_caller() -> None:
    worker = PriorityWorker("test-worker")
    with pytest.raises(ZeroDivisionError):
        worker.submit(lambda: 1 / 0).result(10)
    assert worker.submit(lambda: 42).result(10) == 42
    worker.shutdown()
