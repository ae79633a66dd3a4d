"""The store's SQLite thread runs urgent work (recording an event before Slack's
acknowledgement) before the work queued ahead of it, hands results back to the event loop
(several on one wake-up while more work is queued or the loop is busy), and nothing is lost on
shutdown."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot.threads import HOLD_AT_MOST, PriorityWorker


async def test_urgent_work_goes_first_and_queued_work_still_runs_in_order() -> None:
    worker = PriorityWorker("test-worker")
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def blocker() -> str:
        started.set()
        release.wait(10)
        ran.append("running")
        return "first"

    first = asyncio.ensure_future(worker.run(blocker))
    await asyncio.to_thread(started.wait, 10)
    queued = [asyncio.ensure_future(worker.run(ran.append, name)) for name in ("a", "b", "c")]
    urgent = asyncio.ensure_future(worker.run(ran.append, "urgent", urgent=True))
    await asyncio.sleep(0)  # every unit is queued before the first one ends
    release.set()
    assert await asyncio.gather(first, *queued, urgent) == ["first", None, None, None, None]
    assert ran == ["running", "urgent", "a", "b", "c"]
    worker.shutdown()


async def test_results_finished_while_the_loop_is_busy_come_back_on_one_wake_up() -> None:
    """Ten units finish while the loop is held up: each gets its own result, all on one
    wake-up, and a call a unit asks of the loop comes before that unit's result."""
    worker = PriorityWorker("test-worker")
    loop = asyncio.get_running_loop()
    seen: list[str] = []
    deliveries = count_deliveries(worker, loop)
    started, release, all_done = threading.Event(), threading.Event(), threading.Event()

    def unit(n: int) -> int:
        worker.call_soon(loop, seen.append, f"asked by {n}")
        return n * n

    first = asyncio.ensure_future(worker.run(lambda: started.set() or release.wait(10)))
    await asyncio.to_thread(started.wait, 10)
    units = [asyncio.ensure_future(worker.run(unit, n)) for n in range(10)]
    await asyncio.sleep(0)  # all ten queued behind the first
    worker.idle = all_done.set  # the queue runs empty only after the tenth
    release.set()
    assert all_done.wait(10)  # the loop is held up here while every unit finishes
    results = await asyncio.gather(*units)
    assert await first
    assert results == [n * n for n in range(10)]
    assert seen == [f"asked by {n}" for n in range(10)]
    assert len(deliveries) == 1
    worker.shutdown()


def count_deliveries(worker: PriorityWorker, loop: asyncio.AbstractEventLoop) -> list[int]:
    """A list that grows by one at each wake-up of `loop` that brings results."""
    hand_back = worker._hand_back(loop)
    deliveries: list[int] = []
    deliver = hand_back.deliver
    hand_back.deliver = lambda: deliveries.append(1) or deliver()  # type: ignore[method-assign]
    return deliveries


async def test_while_more_work_is_queued_results_come_back_a_batch_at_a_time() -> None:
    """The loop is free the whole time, and each unit takes a moment (during which it could
    take a result): yet results come back `HOLD_AT_MOST` at a time, and the last on its own
    as the queue runs empty."""
    worker = PriorityWorker("test-worker")
    loop = asyncio.get_running_loop()
    deliveries = count_deliveries(worker, loop)
    started, release = threading.Event(), threading.Event()

    def unit(n: int) -> int:
        time.sleep(0.002)  # the unit's own work, with the interpreter lock released
        return n

    first = asyncio.ensure_future(worker.run(lambda: started.set() or release.wait(10)))
    await asyncio.to_thread(started.wait, 10)
    units = [asyncio.ensure_future(worker.run(unit, n)) for n in range(2 * HOLD_AT_MOST)]
    await asyncio.sleep(0)  # all queued behind the first
    release.set()
    assert await asyncio.gather(*units) == list(range(2 * HOLD_AT_MOST))
    assert await first
    assert len(deliveries) == 3  # 8 (the first and 7), 8, 1
    worker.shutdown()


async def test_an_urgent_result_comes_back_at_once_though_work_is_queued_after_it() -> None:
    worker = PriorityWorker("test-worker")
    started, release, later = threading.Event(), threading.Event(), threading.Event()
    first = asyncio.ensure_future(worker.run(lambda: started.set() or release.wait(10)))
    await asyncio.to_thread(started.wait, 10)
    slow = asyncio.ensure_future(worker.run(later.wait, 10))  # runs until released below
    urgent = asyncio.ensure_future(worker.run(lambda: "recorded", urgent=True))
    await asyncio.sleep(0)
    release.set()
    async with asyncio.timeout(10):  # does not wait for `slow`
        assert await urgent == "recorded"
    assert not slow.done()
    later.set()
    assert await slow and await first
    worker.shutdown()


async def test_a_call_asked_from_another_thread_reaches_the_loop_at_once() -> None:
    worker = PriorityWorker("test-worker")
    loop = asyncio.get_running_loop()
    arrived = asyncio.Event()
    await asyncio.to_thread(worker.call_soon, loop, arrived.set)
    async with asyncio.timeout(10):
        await arrived.wait()
    worker.shutdown()


async def test_work_cancelled_while_queued_never_runs() -> None:
    worker = PriorityWorker("test-worker")
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []
    first = asyncio.ensure_future(worker.run(lambda: started.set() or release.wait(10)))
    await asyncio.to_thread(started.wait, 10)
    dropped = asyncio.ensure_future(worker.run(ran.append, "dropped"))
    kept = asyncio.ensure_future(worker.run(ran.append, "kept"))
    await asyncio.sleep(0)
    dropped.cancel()
    release.set()
    await asyncio.gather(first, kept)
    assert ran == ["kept"] and dropped.cancelled()
    worker.shutdown()


async def test_shutdown_finishes_queued_work_and_refuses_more() -> None:
    worker = PriorityWorker("test-worker")
    ran: list[int] = []
    units = [asyncio.ensure_future(worker.run(ran.append, n)) for n in range(20)]
    await asyncio.sleep(0)
    await asyncio.to_thread(worker.shutdown, True)
    await asyncio.gather(*units)
    assert ran == list(range(20))
    with pytest.raises(RuntimeError):
        await worker.run(ran.append, 99)


async def test_an_error_reaches_the_caller() -> None:
    worker = PriorityWorker("test-worker")
    with pytest.raises(ZeroDivisionError):
        await worker.run(lambda: 1 / 0)
    assert await worker.run(lambda: 42) == 42
    worker.shutdown()


async def test_the_idle_task_runs_when_the_queue_empties_and_its_failure_stops_nothing() -> None:
    worker = PriorityWorker("test-worker")
    idle_calls: list[int] = []
    called = threading.Event()

    def idle() -> None:
        idle_calls.append(len(idle_calls))
        called.set()
        raise OSError("disk trouble")

    worker.idle = idle
    assert await worker.run(lambda: 1) == 1
    assert await asyncio.to_thread(called.wait, 10)
    called.clear()
    assert await worker.run(lambda: 2) == 2  # the worker went on after the failure
    assert await asyncio.to_thread(called.wait, 10)
    assert idle_calls == [0, 1]
    worker.shutdown()


async def test_a_call_that_fails_on_the_loop_keeps_the_others_from_nothing() -> None:
    """Calls handed back together: one that raises is reported to the loop's exception
    handler, and the results after it still arrive."""
    worker = PriorityWorker("test-worker")
    loop = asyncio.get_running_loop()
    reported: list[BaseException] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context["exception"]))
    done = threading.Event()

    def failing() -> None:
        raise LookupError("a settle that went wrong")

    def unit(n: int) -> int:
        if n == 0:
            worker.call_soon(loop, failing)
        if n == 2:
            done.set()
        return n

    units = [asyncio.ensure_future(worker.run(unit, n)) for n in range(3)]
    await asyncio.sleep(0)
    assert done.wait(10)
    assert await asyncio.gather(*units) == [0, 1, 2]
    assert [type(error) for error in reported] == [LookupError]
    loop.set_exception_handler(None)
    worker.shutdown()
