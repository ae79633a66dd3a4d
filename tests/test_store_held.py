"""SQLite: the store's thread keeps one connection for its units of work (`bot.held`); every
other thread, and a unit inside another, takes one from the pool. A unit that fails gives its
connection back; between units the connection holds no snapshot (a checkpoint truncates the
log); the dispatcher hears of what such a unit wrote to the outbox; `dispose` closes it."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import PendingRollbackError
from sqlmodel import Session

from bot import outbox
from bot.clock import FrozenClock
from bot.domain import OutboxItem
from bot.store import IDLE_CHECKPOINT_CHANGES, Store
from tests.test_dispatch_concurrency import dispatcher

INSERT = text("INSERT INTO processed_event (platform, event_id, at) VALUES ('x', :e, '2026-01-01')")
COUNT = text("SELECT count(*) FROM processed_event")


def driver_connection(session: Session) -> object:
    return session.connection().connection.dbapi_connection


@pytest.fixture
def sqlite_store(tmp_path: Path):
    store = Store(f"sqlite:///{tmp_path / 'maatje.db'}")
    store.upgrade()
    yield store
    store.dispose()


def on_store_thread(store: Store, work, *args):
    return asyncio.run(store.run(work, *args))


def test_the_store_thread_keeps_one_connection_other_threads_use_the_pool(sqlite_store: Store):
    def two_units() -> tuple[object, object, object]:
        with sqlite_store.session() as session:
            first = driver_connection(session)
            with sqlite_store.session() as inner:  # a unit inside another: not shared
                nested = driver_connection(inner)
        with sqlite_store.transaction() as connection:
            second = connection.connection.dbapi_connection
        return first, nested, second

    first, nested, second = on_store_thread(sqlite_store, two_units)
    assert first is second
    assert nested is not first
    with sqlite_store.session() as session:  # this thread is not the store's
        assert driver_connection(session) is not first
    assert sqlite_store.engine.pool.checkedout() == 1  # the store thread's, and only it


def test_a_failed_unit_rolls_back_and_the_next_takes_a_fresh_connection(sqlite_store: Store):
    def fail() -> object:
        with pytest.raises(RuntimeError), sqlite_store.session() as session:
            session.connection().execute(INSERT, {"e": "lost"})
            held = session.connection()
            raise RuntimeError("boom")
        return held

    def write() -> object:
        with sqlite_store.session() as session:
            session.connection().execute(INSERT, {"e": "kept"})
            return session.connection()

    def fail_core() -> None:
        with pytest.raises(RuntimeError), sqlite_store.transaction() as connection:
            connection.execute(INSERT, {"e": "lost too"})
            raise RuntimeError("boom")

    failed = on_store_thread(sqlite_store, fail)
    assert failed.closed  # back in the pool, which rolled it back
    assert on_store_thread(sqlite_store, write) is not failed
    on_store_thread(sqlite_store, fail_core)
    with sqlite_store.engine.connect() as connection:
        assert connection.execute(COUNT).scalar() == 1
    assert sqlite_store.engine.pool.checkedout() == 0  # the last unit failed: none held


def test_between_units_the_log_can_be_truncated(sqlite_store: Store, tmp_path: Path):
    def write_and_checkpoint() -> bool:
        for number in range(20):
            with sqlite_store.session() as session:
                session.connection().execute(INSERT, {"e": f"e{number}"})
                assert session.connection().execute(COUNT).scalar() == number + 1
        return sqlite_store.checkpoint()

    assert on_store_thread(sqlite_store, write_and_checkpoint)
    assert (tmp_path / "maatje.db-wal").stat().st_size == 0


def test_the_dispatcher_hears_of_outbox_rows_written_on_the_store_thread(
    sqlite_store: Store, clock: FrozenClock
):
    sent: list[str] = []

    async def send(item: OutboxItem) -> None:
        sent.append(item.idempotency_key)

    def remind() -> None:
        with sqlite_store.session() as session:
            outbox.enqueue(session, "send", {"person": 0}, "now", clock.now(), clock.now())

    async def scenario() -> None:
        dispatch = dispatcher(sqlite_store, clock, send)
        assert await dispatch.run_due() == 0  # looks: nothing due for a tick
        await sqlite_store.run(remind)
        assert await dispatch.run_due() == 1

    asyncio.run(scenario())
    assert sent == ["now"]


def test_dispose_closes_the_held_connection(sqlite_store: Store):
    def write() -> None:
        with sqlite_store.transaction() as connection:
            connection.execute(INSERT, {"e": "one"})

    on_store_thread(sqlite_store, write)
    assert sqlite_store.engine.pool.checkedout() == 1
    sqlite_store.dispose()
    assert sqlite_store.engine.pool.checkedout() == 0


def test_caches_per_database_are_kept_by_engine_not_by_connection(sqlite_store: Store):
    """`programmes` and `profiles` keep what they know per database: a unit of work on the
    held connection finds and fills the same entry as one on a pooled connection."""
    from bot import profiles
    from bot.services import programmes

    def configured_and_planned() -> None:
        with sqlite_store.session() as session:
            programmes._configured(session)
            session.info[profiles._PLANNING] = {1: "profile:1:1:2026-01-01"}

    on_store_thread(sqlite_store, configured_and_planned)
    assert sqlite_store.engine in programmes._CONFIGURED
    assert profiles._PLANNED[sqlite_store.engine] == {1: "profile:1:1:2026-01-01"}


def test_an_invalidated_connection_is_replaced(sqlite_store: Store):
    def invalidate() -> object:
        with sqlite_store.transaction() as connection:
            connection.invalidate()  # as a lost connection is, by SQLAlchemy's error handling
        return connection

    def write() -> object:
        with sqlite_store.transaction() as connection:
            connection.execute(INSERT, {"e": "after"})
        return connection

    with pytest.raises(PendingRollbackError):  # its commit
        on_store_thread(sqlite_store, invalidate)
    assert on_store_thread(sqlite_store, write).invalidated is False
    with sqlite_store.engine.connect() as connection:
        assert connection.execute(COUNT).scalar() == 1


# -- checkpoints when the store's thread is idle ------------------------------------------


def _note(store: Store, marker: str, rows: int) -> None:
    with store.transaction() as connection:
        connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS note (t TEXT)")
        connection.exec_driver_sql("INSERT INTO note VALUES (?)", [(marker,)] * rows)


def test_the_idle_store_thread_copies_the_log_into_the_database_file(tmp_path: Path) -> None:
    """SQLite's own checkpoint comes at the end of the commit that passes 1,000 pages of log
    (a turn's, whose reply waits for it). The store's thread copies the log into the database
    file itself once nothing is queued and its connection changed enough rows: read on the
    file's bytes. Below that, the rows are still only in the log."""
    store = Store(f"sqlite:///{tmp_path / 'maatje.db'}")
    store.upgrade()
    idle, was_idle = store._threads.idle, threading.Event()

    def idle_then_tell() -> None:  # the store's own idle task, then a signal for the test
        idle()
        was_idle.set()

    store._threads.idle = idle_then_tell

    async def written_then_idle(marker: str, rows: int) -> bytes:
        was_idle.clear()
        await store.run(_note, store, marker, rows)
        assert await asyncio.to_thread(was_idle.wait, 10)
        return (tmp_path / "maatje.db").read_bytes()

    async def scenario() -> None:
        database = await written_then_idle("few-rows-written", 5)
        assert b"few-rows-written" not in database
        assert b"few-rows-written" in (tmp_path / "maatje.db-wal").read_bytes()
        database = await written_then_idle("many-rows-written", IDLE_CHECKPOINT_CHANGES)
        assert b"many-rows-written" in database and b"few-rows-written" in database

    try:
        asyncio.run(scenario())
    finally:
        store.dispose()
