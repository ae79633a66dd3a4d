"""The database: engine set-up for SQLite and PostgreSQL, sessions, and migrations."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import (
    Connection,
    Engine,
    Executable,
    Select,
    bindparam,
    event,
    insert,
    inspect,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Mapper, configure_mappers, make_transient_to_detached
from sqlmodel import Session, create_engine, select
from sqlmodel.main import default_registry

import bot.domain  # noqa: F401  (every mapped class, for `key_lookups`)
from bot.held import HeldConnection
from bot.prepared import Prepared
from bot.threads import PoolWorkers, PriorityWorker

T = TypeVar("T")
log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x6D61_6174  # any constant shared by every Maatje process
IDLE_CHECKPOINT_CHANGES = 250
"""SQLite copies its write-ahead log into the database (a checkpoint, a few milliseconds) at
the end of the first commit after the log passed 1,000 pages: in a kick-off, a turn's, whose
reply and everything queued behind it then wait. So the store's thread also checkpoints when
nothing is queued, once its connection has changed this many rows since its last checkpoint:
a kick-off turn changes about ten rows and writes about 25 pages, so while there are idle
moments these come before SQLite's own; under a queue that never empties SQLite's own still
bounds the log."""
POSTGRES_THREADS = 2  # measured best of 1, 2 and 4 (bench.slack_http --postgres); pool of 5


def _normalise_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Deleted and overwritten rows are zeroed in the file, not left in free space (erasure,
    # anonymous answers: docs/privacy.md).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def wipe_after_commit(session: Session) -> None:
    """Ask that, once this session commits, nothing it deleted can still be read from the
    database's files: on SQLite the write-ahead log is checkpointed into the database and
    truncated (with `secure_delete` the database file itself holds no deleted rows)."""
    session.info["wipe"] = True


_SETTLE = "maatje.settle"


def settle_after(
    session: Session, committed: Callable[[], None], failed: Callable[[], None]
) -> None:
    """Call `committed` once the session's transaction has committed, `failed` once it has
    rolled back (`Store.session`): for work that rides another unit's transaction (sent
    messages recorded in a turn's, `bot.recording`)."""
    session.info.setdefault(_SETTLE, []).append((committed, failed))


def create_db_engine(url: str) -> Engine:
    url = _normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No ping before each transaction (a round trip each): a connection that died with a
    # server restart fails its transaction with OperationalError, the pool drops it and the
    # others, and every caller retries (see Core.handle, Dispatcher, tests/test_faults_database).
    return create_engine(url, pool_size=5, max_overflow=5)


def key_lookups(mappers: Iterable[Mapper[Any]]) -> dict[type, Select]:
    """For each mapped class with a single-column primary key, the statement that reads one
    row by that key (`FastSession.get`)."""
    return {
        mapper.class_: select(mapper.class_).where(mapper.primary_key[0] == bindparam("key"))
        for mapper in mappers
        if len(mapper.primary_key) == 1
    }


class FastSession(Session):
    """A session whose `get` by a single-column primary key costs less than half of
    SQLAlchemy's own when the row is not in the session yet: SQLAlchemy builds and annotates a
    new statement (and its cache key) for every such load; here each class's statement is
    built once, by the store (`key_lookups`). Anything else (a row in the identity map,
    options, a class without a statement) takes SQLAlchemy's own path, so the behaviour is the
    same. What `get` read stays in the session (`keep`)."""

    def __init__(self, *args: Any, lookups: Mapping[type, Select], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept: list[Any] = []
        self._lookups = lookups

    def keep(self, *instances: Any) -> None:
        """Hold `instances` for the rest of the unit of work. The session's identity map is
        weak: a row read once and let go is read from the database again by the next `get`
        (a step's predicate, then its prompt, then its callback each asking for the same
        goal or person). Units of work are short, so holding what they read costs little."""
        self._kept.extend(instances)

    def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        statement = self._lookups.get(entity) if not kwargs else None
        if (
            statement is None
            or not isinstance(ident, int | str)
            or (entity, (ident,), None) in self.identity_map
        ):
            return super().get(entity, ident, **kwargs)
        found = self.exec(statement, params={"key": ident}).first()
        if found is not None:
            self._kept.append(found)
        return found


def read(session: Session, statement: Executable, params: Mapping[str, Any] | None = None) -> Any:
    """Run `statement` on the session's connection and return its result as plain rows: for
    reads (and writes) that need no objects of the session, where the ORM's execution costs
    more than the database's own work. Changes pending in the session are flushed first, as
    the ORM's autoflush would (`Session.flush` returns at once when there are none)."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, params)


def read_prepared(
    session: Session, statement: Prepared, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """`read` for a statement prepared once (`bot.prepared`): on the hot path, where even
    SQLAlchemy's execution of a statement built once cost more than the database's work.
    Changes pending in the session are flushed first, as `read` flushes them; the rows come
    back as tuples, in the order of the statement's columns."""
    if session.autoflush:
        session.flush()
    return statement.execute(session.connection(), params).rows


def made(cls: type[T], values: Mapping[str, Any]) -> T:
    """An object of mapped class `cls` with these attribute values, made as the ORM makes a
    loaded one (its attributes set directly, no constructor): for rows read or written with a
    Core statement, where SQLModel's constructor or the ORM's loading cost more than the
    statement. It belongs to no session."""
    instance = _mapper(cls).class_manager.new_instance()
    instance.__dict__.update(values)
    return instance


@cache
def _mapper(cls: type) -> Mapper[Any]:
    """The mapper of `cls`, configured (what a first query through the ORM would do)."""
    mapper = inspect(cls)
    if not mapper.configured:
        configure_mappers()
    return mapper


def loaded(session: Session, cls: type[T], values: Mapping[str, Any]) -> T:
    """The object of mapped class `cls` with these attribute values (all its columns, read
    with a Core statement), as though the session had loaded it: the one the session holds
    already, as the ORM's own loading would keep it; else one made as the ORM makes a loaded
    object (its attributes set directly) and added to the session as persistent, so that
    changes to it are flushed as an `UPDATE` of what changed. For rows read on every event,
    where the ORM's loading cost several times the statement."""
    mapper = _mapper(cls)
    key = mapper.identity_key_from_primary_key([values[p.key] for p in mapper.primary_key])
    held = session.identity_map.get(key)
    if held is not None:
        return held
    instance = made(cls, values)
    make_transient_to_detached(instance)
    session.add(instance)
    keep(session, instance)
    return instance


def inserted(session: Session, cls: type[T], values: Mapping[str, Any]) -> T:
    """A new row of mapped class `cls` with these values (every column but its generated id),
    written with one prepared INSERT (`bot.prepared`, built once per class) and held as
    though the session had loaded it (`loaded`): for rows the hot path writes, where the ORM's
    flush of one new row cost several times the statement. The session's own bookkeeping
    does not see the write (`standing.changed` says what a consent or membership changed)."""
    statement, key = _insert(cls)
    (row,) = read_prepared(session, statement, values)
    return loaded(session, cls, {**values, key: row[0]})


@cache
def _insert(cls: type) -> tuple[Prepared, str]:
    """`inserted`'s INSERT … RETURNING of `cls`, and the name of its generated id."""
    table = _mapper(cls).local_table
    (generated,) = table.primary_key.columns
    columns = {c.key: bindparam(c.key) for c in table.columns if c is not generated}
    return Prepared(insert(table).values(columns).returning(generated)), generated.key


def columns_of(cls: type) -> tuple[Any, ...]:
    """Every column of mapped class `cls`'s table, in the table's order: what a statement read
    with `read_loaded` selects."""
    return tuple(cls.__table__.c)  # type: ignore[attr-defined]


def read_loaded(
    session: Session, cls: type[T], statement: Prepared, params: Mapping[str, Any]
) -> list[T]:
    """The rows of `statement`, a prepared select of `columns_of(cls)`, as the session's own
    objects (`loaded`): for rows read on every event, where the ORM's loading cost several
    times the statement."""
    keys = _column_keys(cls)
    return [
        loaded(session, cls, dict(zip(keys, row, strict=True)))
        for row in read_prepared(session, statement, params)
    ]


@cache
def _column_keys(cls: type) -> tuple[str, ...]:
    return tuple(column.key for column in columns_of(cls))


def column_values(instance: Any) -> dict[str, Any]:
    """The column values of a new, unsaved object of a mapped class, its generated id left
    out: what `inserted` writes of it (defaults filled in by its constructor)."""
    table = _mapper(type(instance)).local_table
    return {c.key: getattr(instance, c.key) for c in table.columns if not c.primary_key}


def keep(session: Session, *instances: Any) -> None:
    """Hold `instances` in the session for its unit of work (`FastSession.keep`)."""
    if isinstance(session, FastSession):
        session.keep(*instances)


class Store:
    """Owns the engine; hands out sessions. One per process."""

    def __init__(self, url: str) -> None:
        self.url = _normalise_url(url)
        self.engine = create_db_engine(self.url)
        self._lookups = key_lookups(default_registry.mappers)
        self._threads: PoolWorkers | PriorityWorker
        if self.dialect == "postgresql":
            self._threads = PoolWorkers("maatje-store", POSTGRES_THREADS)
            self._held = HeldConnection(self.engine, None)
        else:
            worker = self._threads = PriorityWorker("maatje-store")
            self._held = HeldConnection(self.engine, worker.thread.ident)
            worker.idle = lambda: self._held.checkpoint_after(IDLE_CHECKPOINT_CHANGES)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """Run blocking database work on the store's own threads, so the event loop stays free
        to answer platforms within their deadlines.

        SQLite takes one writer at a time, so it gets one thread: units run one by one, in
        order. PostgreSQL gets several, so one unit's round trips to the server do not hold up
        the next; units that must not overlap lock rows or call `serialise`, exactly as they
        must between processes.
        """
        return await self._threads.run(work, *args)

    async def record(self, work: Callable[..., T], *args: Any) -> T:
        """Run a short write that must not wait behind the core's queued work: what has to be
        on disk before a platform gets its answer (`bot.inbox`). PostgreSQL: on a thread of
        its own. SQLite: first in the one thread's queue (`bot.threads`), so it waits only
        for the unit running at that moment."""
        return await self._threads.run(work, *args, urgent=True)

    def call_on_loop(
        self, loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any
    ) -> None:
        """From a unit of work on the store's thread: `fn(*args)` on `loop`, before the unit's
        result gets there. SQLite: on the same wake-up of the loop (`bot.threads`)."""
        self._threads.call_soon(loop, fn, *args)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session_on(self, connection: Connection) -> Session:
        """A session inside `connection`'s transaction, which its owner commits (the
        dispatcher reads what claimed messages need in the claim's own transaction)."""
        return FastSession(bind=connection, expire_on_commit=False, lookups=self._lookups)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A unit of work of Core statements, without an ORM session (whose set-up and
        commit cost more than a short write): committed when the block ends, rolled back
        when it raises. On SQLite's store thread, on the connection it keeps (`bot.held`)."""
        held = self._held.take()
        if held is None:
            with self.engine.begin() as connection:
                yield connection
            return
        try:
            with held.begin():
                yield held
        except BaseException:
            self._held.give_back(failed=True)
            raise
        self._held.give_back(failed=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back when it raises. On
        SQLite's store thread, on the connection it keeps (`bot.held`). The settle hooks
        (`settle_after`) and the checkpoint (`wipe_after_commit`) run once that connection is
        free again."""
        held = self._held.take()
        session = FastSession(
            held if held is not None else self.engine,
            expire_on_commit=False,
            lookups=self._lookups,
        )
        try:
            with session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        except BaseException:
            if held is not None:
                self._held.give_back(failed=True)
            for _, failed in session.info.pop(_SETTLE, ()):
                failed()
            raise
        if held is not None:
            self._held.give_back(failed=False)
        for committed, _ in session.info.pop(_SETTLE, ()):
            committed()
        if session.info.pop("wipe", False):
            self.checkpoint()

    def checkpoint(self) -> bool:
        """SQLite: copy the write-ahead log into the database and truncate it, so no earlier
        version of a row survives in the -wal file. False when readers kept it from finishing
        (the next checkpoint catches up). PostgreSQL: nothing to do here (docs/privacy.md)."""
        if self.dialect != "sqlite":
            return True
        with self.engine.connect() as connection:
            busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        if busy:
            log.warning("the write-ahead log could not be truncated yet: a reader was busy")
        return not busy

    def serialise(self, session: Session, key: str) -> None:
        """Hold a lock on `key` until the session's transaction ends, across processes.

        PostgreSQL: a transaction-scoped advisory lock, so two processes never work on the
        same person (or the same start-up step) at once. SQLite allows one writer at a time
        anyway and runs a single process.
        """
        if self.dialect == "postgresql":
            session.exec(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), params={"key": key}
            )

    def upgrade(self) -> None:
        """Bring the schema to the newest migration."""
        with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                # Processes starting together migrate one at a time; the others then find
                # the schema up to date. The lock ends with the transaction.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            config = _alembic_config(self.url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def reachable(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self._threads.shutdown(wait=True)
        self._held.release()  # its thread has ended
        self.engine.dispose()


def _alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
