"""The outbox (enqueue, claim, complete, release) and the dispatcher, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot import claims, outbox
from bot.adapter import DeliveryError
from bot.clock import FrozenClock
from bot.config.model import SchedulerConfig
from bot.delivery import SEND, enqueue_outbound
from bot.dispatcher import Dispatcher
from bot.domain import OutboxItem, Person
from bot.engine import Outbound
from bot.replies import Reply
from bot.store import Store

LEASE = timedelta(seconds=60)
SECOND = timedelta(seconds=1)


@pytest.fixture
def store(database_url: str):
    store = Store(database_url)
    store.upgrade()
    store.upgrade()  # idempotent
    yield store
    store.dispose()


def add(store: Store, key: str, due_at: datetime, now: datetime, kind: str = "job") -> None:
    with store.session() as session:
        outbox.enqueue(session, kind, {"key": key}, key, due_at, now)


def row(store: Store, key: str) -> OutboxItem:
    with store.session() as session:
        return session.exec(select(OutboxItem).where(OutboxItem.idempotency_key == key)).one()


def rows(store: Store) -> list[OutboxItem]:
    with store.session() as session:
        return list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all())


def claim(store: Store, worker: str, now: datetime, limit: int = 10) -> list[str]:
    with store.session() as session:
        items = claims.claim(session, worker, now, LEASE, limit)
    assert len(items) <= limit, f"claimed {len(items)} actions with a limit of {limit}"
    return [item.idempotency_key for item in items]


def complete(store: Store, key: str, worker: str, now: datetime) -> bool:
    item_id = row(store, key).id
    assert item_id is not None
    with store.session() as session:
        return outbox.complete(session, item_id, worker, now)


def release(store: Store, key: str, worker: str, retry_at: datetime | None, now: datetime) -> None:
    item_id = row(store, key).id
    assert item_id is not None
    with store.session() as session:
        outbox.release(session, item_id, worker, "it broke", retry_at, now)


# --- the outbox ---------------------------------------------------------------------------


def test_enqueue_is_idempotent_per_key(store: Store, clock: FrozenClock):
    now = clock.now()
    with store.session() as session:
        outbox.enqueue(session, "job", {"n": 1}, "once", now, now)
    with store.session() as session:
        outbox.enqueue(session, "job", {"n": 2}, "once", now + LEASE, now)
        outbox.enqueue(session, "job", {"n": 3}, "other", now, now)
    assert [(r.idempotency_key, r.payload, r.due_at) for r in rows(store)] == [
        ("once", {"n": 1}, now),
        ("other", {"n": 3}, now),
    ]


def test_claim_takes_only_due_unclaimed_actions_in_due_order_up_to_the_limit(
    store: Store, clock: FrozenClock
):
    now = clock.now()
    for key, due in [("c", -1), ("a", -3), ("future", 1), ("b", -2), ("d", 0)]:
        add(store, key, now + timedelta(minutes=due), now)

    assert claim(store, "w1", now, limit=2) == ["a", "b"]
    assert claim(store, "w2", now, limit=10) == ["c", "d"]
    assert claim(store, "w3", now) == []

    a = row(store, "a")
    assert (a.claimed_by, a.claimed_until, a.attempts) == ("w1", now + LEASE, 1)
    assert row(store, "future").claimed_by is None

    clock.advance(timedelta(minutes=1))
    assert claim(store, "w3", clock.now()) == ["future"]


def test_a_claim_holds_until_its_lease_ends_then_expires(store: Store, clock: FrozenClock):
    add(store, "job", clock.now(), clock.now())
    assert claim(store, "w1", clock.now()) == ["job"]

    clock.advance(LEASE - SECOND)
    assert claim(store, "w2", clock.now()) == []

    clock.advance(2 * SECOND)  # w1 died: its claim ran out
    assert claim(store, "w2", clock.now()) == ["job"]
    assert (row(store, "job").claimed_by, row(store, "job").attempts) == ("w2", 2)

    assert complete(store, "job", "w1", clock.now()) is False  # w1 lost its claim
    assert row(store, "job").done_at is None
    assert complete(store, "job", "w2", clock.now()) is True
    assert row(store, "job").done_at == clock.now()

    clock.advance(timedelta(days=1))
    assert claim(store, "w3", clock.now()) == []


def test_complete_or_release_by_a_worker_without_the_claim_changes_nothing(
    store: Store, clock: FrozenClock
):
    now = clock.now()
    add(store, "job", now, now)
    assert claim(store, "w1", now) == ["job"]

    assert complete(store, "job", "w2", now) is False
    release(store, "job", "w2", None, now)
    item = row(store, "job")
    assert (item.done_at, item.failed_at, item.claimed_by, item.last_error) == (
        None,
        None,
        "w1",
        None,
    )
    assert complete(store, "job", "w1", now) is True


def test_release_with_a_retry_time_reschedules(store: Store, clock: FrozenClock):
    now = clock.now()
    add(store, "job", now, now)
    assert claim(store, "w1", now) == ["job"]
    release(store, "job", "w1", now + timedelta(minutes=10), now)

    item = row(store, "job")
    assert (item.due_at, item.claimed_by, item.claimed_until) == (
        now + timedelta(minutes=10),
        None,
        None,
    )
    assert (item.last_error, item.failed_at, item.done_at) == ("it broke", None, None)
    assert claim(store, "w2", now) == []

    clock.advance(timedelta(minutes=10) - SECOND)
    assert claim(store, "w2", clock.now()) == []
    clock.advance(SECOND)
    assert claim(store, "w2", clock.now()) == ["job"]
    assert row(store, "job").attempts == 2


def test_release_without_a_retry_time_is_dead_for_good(store: Store, clock: FrozenClock):
    now = clock.now()
    add(store, "job", now, now)
    assert claim(store, "w1", now) == ["job"]
    release(store, "job", "w1", None, now)

    item = row(store, "job")
    assert (item.failed_at, item.done_at, item.last_error) == (now, None, "it broke")
    for step in (LEASE, timedelta(days=1), timedelta(days=365)):
        clock.advance(step)
        assert claim(store, "w2", clock.now()) == []
    with store.session() as session:
        assert outbox.next_due(session) is None


def test_two_workers_claiming_at_once_never_get_the_same_action(store: Store, clock: FrozenClock):
    now = clock.now()
    with store.session() as session:
        for i in range(200):
            outbox.enqueue(session, "job", {"i": i}, f"job-{i}", now, now)
    start = threading.Barrier(2)

    def worker(name: str) -> tuple[list[int], list[int]]:
        claimed: list[int] = []
        batch_sizes: list[int] = []
        with Session(store.engine, expire_on_commit=False) as session:
            start.wait(timeout=10)
            while True:
                items = claims.claim(session, name, now, LEASE, 7)
                session.commit()
                if not items:
                    return claimed, batch_sizes
                claimed += [item.id for item in items if item.id is not None]
                batch_sizes.append(len(items))

    with ThreadPoolExecutor(max_workers=2) as pool:
        (one, sizes_one), (two, sizes_two) = pool.map(worker, ["w1", "w2"])

    print(f"w1 claimed {len(one)} in {len(sizes_one)}, w2 {len(two)} in {len(sizes_two)}")
    ids_one, ids_two = set(one), set(two)
    assert len(ids_one) == len(one) and len(ids_two) == len(two)
    assert ids_one & ids_two == set()
    assert len(ids_one | ids_two) == 200
    owners = {item.id: (item.claimed_by, item.attempts) for item in rows(store)}
    assert all(owners[i] == ("w1", 1) for i in ids_one)
    assert all(owners[i] == ("w2", 1) for i in ids_two)
    assert max(sizes_one + sizes_two) <= 7, f"batches over the limit of 7: {sizes_one, sizes_two}"


# --- the dispatcher -----------------------------------------------------------------------


class Sender:
    """A `send` coroutine that records what it was given and fails as told."""

    def __init__(self, clock: FrozenClock, error: Exception | None = None) -> None:
        self.clock = clock
        self.error = error
        self.calls: list[tuple[str, datetime]] = []

    async def __call__(self, item: OutboxItem) -> None:
        self.calls.append((item.idempotency_key, self.clock.now()))
        if self.error:
            raise self.error

    @property
    def keys(self) -> list[str]:
        return [key for key, _ in self.calls]


def dispatcher(store: Store, clock: FrozenClock, send: Sender, jobs=None) -> Dispatcher:
    settings = SchedulerConfig(claim_lease_seconds=60, max_attempts=3, batch_size=10)
    return Dispatcher(store, clock, send, jobs or {}, settings, worker="w1")


async def test_a_rate_limited_send_is_retried_no_sooner_than_asked_then_given_up(
    store: Store, clock: FrozenClock
):
    send = Sender(clock, DeliveryError("rate limited", retry_after=30))
    add(store, "msg", clock.now(), clock.now(), kind=SEND)
    run = dispatcher(store, clock, send)

    assert await run.run_due() == 1
    item = row(store, "msg")
    assert (item.attempts, item.due_at, item.last_error) == (
        1,
        clock.now() + timedelta(seconds=30),
        "rate limited",
    )
    assert (item.claimed_by, item.failed_at, item.done_at) == (None, None, None)

    clock.advance(timedelta(seconds=29))
    assert await run.run_due() == 0
    assert len(send.calls) == 1
    clock.advance(SECOND)
    assert await run.run_due() == 1
    assert len(send.calls) == 2
    assert row(store, "msg").due_at == clock.now() + timedelta(seconds=30)

    clock.advance(timedelta(seconds=30))
    assert await run.run_due() == 1  # the third attempt of three
    item = row(store, "msg")
    assert (item.attempts, item.failed_at, item.done_at) == (3, clock.now(), None)
    times = [at for _, at in send.calls]
    gaps = [later - earlier for earlier, later in pairwise(times)]
    assert gaps == [timedelta(seconds=30)] * 2

    clock.advance(timedelta(days=1))
    assert await run.run_due() == 0
    assert len(send.calls) == 3


async def test_a_permanent_delivery_error_is_dead_at_once(store: Store, clock: FrozenClock):
    send = Sender(clock, DeliveryError("no such user", permanent=True))
    add(store, "msg", clock.now(), clock.now(), kind=SEND)
    run = dispatcher(store, clock, send)

    assert await run.run_due() == 1
    item = row(store, "msg")
    assert (item.attempts, item.failed_at, item.last_error) == (1, clock.now(), "no such user")
    clock.advance(timedelta(days=1))
    assert await run.run_due() == 0
    assert send.keys == ["msg"]


def count(store: Store, model, *where) -> int:
    with store.session() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


async def test_a_failing_job_leaves_nothing_behind_and_is_retried(store: Store, clock: FrozenClock):
    attempts: list[datetime] = []

    def digest(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
        attempts.append(now)
        session.add(Person(created_at=now, display_name="made by the job"))
        session.flush()
        if len(attempts) == 1:
            enqueue_outbound(session, [Outbound(1, Reply("written, then lost"))], "side", now)
            raise RuntimeError("boom")
        return [Outbound(1, Reply("hello")), Outbound(1, Reply("and again"))]

    send = Sender(clock)
    add(store, "digest-1", clock.now(), clock.now(), kind="digest")
    run = dispatcher(store, clock, send, {"digest": digest})

    assert await run.run_due() == 1
    item = row(store, "digest-1")
    assert (item.attempts, item.done_at, item.failed_at) == (1, None, None)
    assert item.last_error == "RuntimeError: boom"
    assert item.due_at == clock.now() + timedelta(seconds=5)
    assert count(store, OutboxItem, OutboxItem.kind == SEND) == 0
    assert count(store, Person) == 0
    assert send.calls == []

    clock.advance(timedelta(seconds=5))
    assert await run.run_due() == 3  # the job, then the two messages it produced
    assert row(store, "digest-1").done_at == clock.now()
    assert send.keys == ["msg:digest-1:0", "msg:digest-1:1"]
    assert count(store, OutboxItem, col(OutboxItem.done_at).is_(None)) == 0
    assert count(store, Person) == 1
    assert len(attempts) == 2


async def test_a_backlog_of_jobs_does_not_cost_a_claim_after_every_job(
    store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
):
    looks: list[datetime] = []
    real_look = claims.look

    def counting_look(connection, now: datetime):
        looks.append(now)
        return real_look(connection, now)

    monkeypatch.setattr(claims, "look", counting_look)

    def digest(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
        return [Outbound(1, Reply(item.idempotency_key))]

    with store.session() as session:
        session.add(Person(created_at=clock.now()))
    for n in range(30):
        add(store, f"digest-{n}", clock.now(), clock.now(), kind="digest")
    send = Sender(clock)
    run = dispatcher(store, clock, send, {"digest": digest})  # chains of 7 jobs

    assert await run.run_due() == 60
    assert sorted(send.keys) == sorted(f"msg:digest-{n}:0" for n in range(30))
    assert len(looks) < 45, len(looks)  # with a claim after every job: 58–60


async def test_a_job_that_lost_its_claim_commits_neither_effects_nor_messages(
    store: Store, clock: FrozenClock
):
    def digest(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
        with store.session() as other:  # another process takes the expired claim meanwhile
            other.exec(
                update(OutboxItem).where(OutboxItem.id == item.id).values(claimed_by="thief")
            )
        session.add(Person(created_at=now, display_name="made by the job"))
        return [Outbound(1, Reply("hello"))]

    send = Sender(clock)
    add(store, "digest-1", clock.now(), clock.now(), kind="digest")
    run = dispatcher(store, clock, send, {"digest": digest})

    assert await run.run_due() == 1
    item = row(store, "digest-1")
    assert (item.claimed_by, item.done_at) == ("thief", None)
    assert count(store, OutboxItem, OutboxItem.kind == SEND) == 0
    assert count(store, Person) == 0
    assert send.calls == []
