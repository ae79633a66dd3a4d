"""The schema: migrations produce exactly the models, and SQLite runs with WAL and foreign keys."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

import bot.domain  # noqa: F401
from bot.store import Store


def test_migrations_match_the_models(database_url: str) -> None:
    store = Store(database_url)
    store.upgrade()
    store.upgrade()  # a second run is a no-op
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, SQLModel.metadata) == []
    assert store.reachable()
    store.dispose()


def test_sqlite_uses_wal_foreign_keys_and_secure_delete(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA secure_delete")).scalar() == 1
    store.dispose()


def test_an_unreachable_database_is_reported(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    assert not store.reachable()
