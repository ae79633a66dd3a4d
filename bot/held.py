"""The connection the store's one SQLite thread keeps checked out between units of work.

Checking a connection out of the pool, wrapping it in a new `Connection` and handing it
back (with the pool's reset) cost some tens of microseconds per unit of work.
SQLite runs all the store's work on one thread (`bot.threads`), so that thread can keep one
connection and begin, commit or roll back each unit of work on it (`Store.session`,
`Store.transaction`). Between units the connection is in no transaction, so it holds no lock
and no snapshot: a checkpoint (`Store.checkpoint`) can still truncate the write-ahead log.
What the pool's check-in did after each unit, reporting the outbox rows it wrote to the
dispatchers (`bot.horizon`), is done when the unit ends.

Any other thread (tests, the command line), and a unit of work opened inside another one on
the same thread, takes a connection from the pool as before: a connection is never shared by
two threads, nor by two units at once. A unit that raises gives the connection back to the
pool (which rolls back whatever was left and drops a connection that was invalidated) and the
next unit checks out a fresh one.
"""

from __future__ import annotations

import threading

from sqlalchemy import Connection, Engine

from bot import horizon


class HeldConnection:
    """`owner`: the identity of the thread that keeps the connection (`threading.get_ident`);
    None for none (PostgreSQL: its store threads take connections from the pool)."""

    def __init__(self, engine: Engine, owner: int | None) -> None:
        self._engine = engine
        self._owner = owner
        self._connection: Connection | None = None
        self._lent = False
        self._checkpointed_at = 0  # the held connection's `total_changes` at its last checkpoint

    def take(self) -> Connection | None:
        """The held connection, in no transaction, for one unit of work, which ends with
        `give_back`; None (take one from the pool) when the calling thread is not the owner
        or the connection is lent already."""
        if self._lent or threading.get_ident() != self._owner:
            return None
        connection = self._connection
        if connection is None:
            connection = self._connection = self._engine.connect()
        self._lent = True
        return connection

    def give_back(self, failed: bool) -> None:
        """The unit of work that took the connection has committed, or rolled back
        (`failed`): then, or if the connection was invalidated, it goes back to the pool,
        whose check-in reports what the unit noted, and the next unit checks out another."""
        self._lent = False
        connection = self._connection
        if failed or connection is None or connection.invalidated:
            self.release()
        else:
            horizon.ended(connection)

    def release(self) -> None:
        """Give the connection back to the pool (after a failure; at shutdown, once the owner
        thread has ended)."""
        connection, self._connection = self._connection, None
        self._checkpointed_at = 0  # the next connection counts its changes from nothing
        if connection is not None:
            connection.close()

    def checkpoint_after(self, changes: int) -> None:
        """A passive checkpoint on the held connection, between units of work (no transaction
        is open on it then), once it has changed `changes` rows since its last: what SQLite can
        copy without waiting for anyone (`bot.store.IDLE_CHECKPOINT_CHANGES`)."""
        connection = self._connection
        if connection is None or self._lent or connection.invalidated:
            return
        driver = connection.connection.dbapi_connection
        total = driver.total_changes  # type: ignore[union-attr]
        if total - self._checkpointed_at >= changes:
            driver.execute("PRAGMA wal_checkpoint(PASSIVE)").close()  # type: ignore[union-attr]
            self._checkpointed_at = total
