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


def test_get_by_key_reads_a_row_once_per_unit_of_work(database_url: str) -> None:
    """`Store.session`'s own `get` (built-once statements) behaves as SQLAlchemy's: the row
    is read once, then found in the session; a missing key is None; a new unit of work reads
    what another one committed."""
    from datetime import UTC, datetime

    from sqlalchemy import event

    from bot.domain import Person

    store = Store(database_url)
    store.upgrade()
    seen: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    with store.session() as session:
        person = Person(display_name="Anna", created_at=datetime.now(UTC))
        session.add(person)
        session.flush()
        key = person.id
        before = len(seen)
        assert session.get(Person, key) is person
        assert len(seen) == before
    with store.session() as session:
        before = len(seen)
        found = session.get(Person, key)
        assert found is not None and found.display_name == "Anna"
        assert session.get(Person, key) is found
        assert len(seen) == before + 1
        assert session.get(Person, key + 1) is None
        found.display_name = "Anna B."
    with store.session() as session:
        again = session.get(Person, key)
        assert again is not None and again.display_name == "Anna B."
    store.dispose()


def _people(store: Store, *names: str) -> list[int]:
    from datetime import UTC, datetime

    from bot.domain import Person

    with store.session() as session:
        people = [Person(display_name=name, created_at=datetime.now(UTC)) for name in names]
        session.add_all(people)
        session.flush()
        return [p.id or 0 for p in people]


def test_a_row_read_by_key_is_not_read_again_after_it_was_let_go(database_url: str) -> None:
    """The session's identity map holds rows weakly; what `get` read stays for the unit of
    work, so a predicate, a prompt and a callback asking for the same row read it once."""
    import gc

    from sqlalchemy import event

    from bot.domain import Person

    store = Store(database_url)
    store.upgrade()
    (key,) = _people(store, "Anna")
    seen: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    with store.session() as session:
        assert session.get(Person, key).display_name == "Anna"
        gc.collect()
        assert session.get(Person, key).display_name == "Anna"
    assert len([s for s in seen if s.lstrip().startswith("SELECT")]) == 1
    store.dispose()
