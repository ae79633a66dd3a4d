"""The outbox's look before a claim, the claims by kind, and moving or cancelling waiting
actions; on SQLite and PostgreSQL (the plans on SQLite, which has no statistics to go by)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, update
from sqlmodel import select

from bot import claims, outbox
from bot.domain import OutboxItem
from bot.pacing import URGENT
from bot.store import Store

NOW = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)
EARLIER = NOW - timedelta(minutes=5)


def add(store: Store, key: str, kind: str, due_at: datetime = EARLIER, **values) -> None:
    with store.session() as session:
        outbox.enqueue(session, kind, {"key": key}, key, due_at, EARLIER)
        if values:
            table = OutboxItem.__table__
            session.connection().execute(
                update(table).where(table.c.idempotency_key == key).values(**values)
            )


def item(store: Store, key: str) -> OutboxItem | None:
    with store.session() as session:
        found = session.exec(select(OutboxItem).where(OutboxItem.idempotency_key == key))
        return found.first()


def test_the_look_names_the_kinds_with_work_due_and_unclaimed(store: Store) -> None:
    add(store, "due", "send")
    add(store, "held", "job.a", claimed_by="w", claimed_until=NOW + LEASE)
    add(store, "lease ran out", "job.b", claimed_by="w", claimed_until=NOW - LEASE)
    add(store, "later", "job.c", due_at=NOW + LEASE)
    add(store, "done", "job.d", done_at=EARLIER)
    add(store, "dead", "job.e", failed_at=EARLIER)
    with store.session() as session:
        found = claims.look(session, NOW)
    assert (found.urgent, found.kinds) == (False, {"send", "job.b"})
    add(store, "urgent", "send", priority=URGENT)
    add(store, "urgent, held", "job.f", priority=URGENT, claimed_until=NOW + LEASE)
    with store.session() as session:
        found = claims.look(session, NOW)
    assert (found.urgent, found.kinds) == (True, {"send", "job.b"})


def test_an_action_of_a_kind_nobody_handles_is_claimed_as_other_work(store: Store) -> None:
    add(store, "job", "job.a")
    add(store, "unknown", "mystery")
    add(store, "message", "send")
    with store.session() as session:
        taken = claims.claim(session, "w", NOW, LEASE, 10, jobs=["job.a"], jobs_limit=5)
    assert [i.idempotency_key for i in taken] == ["job", "message", "unknown"]
    claimed = item(store, "unknown")
    assert claimed is not None and claimed.claimed_by == "w" and claimed.attempts == 1


def test_claimed_items_read_like_loaded_ones(store: Store) -> None:
    add(store, "message", "send")
    with store.session() as session:
        (taken,) = claims.claim(session, "w", NOW, LEASE, 10)
    stored = item(store, "message")
    assert stored is not None
    assert taken.model_dump() == stored.model_dump()
    assert taken.payload == {"key": "message"} and taken.claimed_until == NOW + LEASE


def test_move_re_aims_only_waiting_actions(store: Store) -> None:
    add(store, "waiting", "job.a")
    add(store, "claimed", "job.a", claimed_by="w", claimed_until=NOW + LEASE)
    add(store, "done", "job.a", done_at=EARLIER)
    later = NOW + timedelta(days=1)
    moves = {"waiting": ("waiting 2", later), "claimed": ("claimed 2", later)}
    with store.session() as session:
        moved = outbox.move(session, {**moves, "done": ("done 2", later)}, {"run": 2}, NOW)
    assert moved == 1
    moved_item = item(store, "waiting 2")
    assert moved_item is not None
    assert (moved_item.due_at, moved_item.payload, moved_item.created_at) == (
        later,
        {"run": 2},
        NOW,
    )
    assert item(store, "waiting") is None
    assert item(store, "claimed") is not None and item(store, "claimed 2") is None
    assert item(store, "done") is not None and item(store, "done 2") is None


def test_cancel_deletes_only_waiting_actions(store: Store) -> None:
    add(store, "waiting", "job.a")
    add(store, "claimed", "job.a", claimed_by="w", claimed_until=NOW + LEASE)
    add(store, "dead", "job.a", failed_at=EARLIER)
    add(store, "other", "job.a")
    with store.session() as session:
        outbox.cancel(session, ["waiting", "claimed", "dead"])
    assert item(store, "waiting") is None
    assert all(item(store, key) is not None for key in ("claimed", "dead", "other"))


def _plan(store: Store, statement, parameters: dict) -> list[str]:
    """SQLite's plan of `statement` as executed with `parameters` (on an empty table: the
    statement runs once, changing nothing, to have its SQL as sent)."""
    sent: list[tuple[str, tuple]] = []

    def record(_conn, _cursor, sql, values, _context, _many) -> None:
        sent.append((sql, values))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        with store.engine.begin() as connection:
            connection.execute(statement, parameters)
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    ((sql, values),) = sent
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, values).all()
    return [row[-1] for row in rows]


def test_the_look_and_the_claims_walk_the_claim_indexes_on_sqlite(tmp_path) -> None:
    """What the look costs must not grow with the rows due or claimed: each of its steps is
    a search of a covering claim index (no row read, no walk of ix_outbox_pending) but the
    next due time, one step into ix_outbox_pending; and each claim finds its rows through the
    index of its kind or of urgent work."""
    store = Store(f"sqlite:///{tmp_path / 'maatje.db'}")
    store.upgrade()
    timed = {"now": NOW, "until": NOW + LEASE, "worker": "w", "limit": 5}
    try:
        look = _plan(store, claims._PROBE, {"now": NOW})
        searches = [  # the steps that read the table (not the list of kinds being walked)
            step
            for step in look
            if step.startswith(("SEARCH", "SCAN"))
            and not step.startswith(("SCAN CONSTANT ROW", "SCAN kinds", "SCAN anon_"))
        ]
        next_due = (
            "SEARCH later USING COVERING INDEX ix_outbox_pending"
            " (done_at=? AND failed_at=? AND due_at>?)"
        )
        assert next_due in searches, look
        searches.remove(next_due)
        assert searches and all("USING COVERING INDEX ix_outbox_" in s for s in searches), look
        assert all("ix_outbox_pending" not in s for s in searches), look
        kinds = _plan(store, claims._CLAIM["kinds"], {**timed, "kinds": ["send"]})
        assert any("USING INDEX ix_outbox_claimable (kind=? AND due_at<?)" in s for s in kinds), (
            kinds
        )
        urgent = _plan(store, claims._CLAIM["urgent"], timed)
        assert any("ix_outbox_urgent (priority=? AND due_at<?)" in s for s in urgent), urgent
        assert not any(s.startswith("SCAN outbox") for s in kinds + urgent), kinds + urgent
        sorted_apart = [s for s in look + kinds + urgent if "TEMP B-TREE" in s]
        assert not sorted_apart, "rows sorted instead of read in order from the index"
    finally:
        store.dispose()
