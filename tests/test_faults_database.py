"""The database goes away under load and comes back.

The core, its dispatcher and the Slack adapter's delivery run in this process on a PostgreSQL
server of the test's own (the session's server is shared with other tests), with the fake Slack
and a frozen clock. People are in the middle of their intake when the server stops; events keep
arriving and the outbox keeps being worked while it is down; then it starts again. The core
must answer every event without raising, nothing already committed may be lost or sent twice,
the conversations continue where they were, and new events work on the reconnected pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from adapters.slack import SlackAdapter
from bot.clock import FrozenClock
from bot.delivery import SEND
from bot.domain import Consent, FlowRun, Identity, OutboxItem, ProcessedEvent
from bot.testing import build_core
from tests.faults.postgres import HaltablePostgres
from tests.faults.slack import FaultySlack
from tests.slack.support import direct_message as dm
from tests.slack.support import slack_config, unpaced

USERS = [f"U{n:03d}DB" for n in range(12)]
NEWCOMERS = [f"U{n:03d}NEW" for n in range(12)]


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[HaltablePostgres]:
    server = HaltablePostgres()
    server.start()
    try:
        server.prepare_template()
        yield server
    finally:
        server.stop()


@pytest.fixture
async def slack() -> AsyncIterator[FaultySlack]:
    fake = FaultySlack()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def core(own_postgres: HaltablePostgres, slack: FaultySlack, clock: FrozenClock) -> Iterator[Any]:
    adapter = SlackAdapter(slack_config(slack))
    adapter.client.limits = unpaced(clock)  # the frozen clock decides what is due
    core = build_core(own_postgres.fresh_database(), clock, {"slack": adapter})
    yield core
    core.store.dispose()


async def dispatch(core: Any) -> str | None:
    """Work the outbox; while the database is down that fails, and the scheduler would simply
    try again on its next tick. Returns the error, if any."""
    try:
        await core.dispatcher.run_due()
    except OperationalError as exc:
        return type(exc).__name__
    return None


def snapshot(core: Any, users: list[str]) -> dict[str, tuple[str, dict]]:
    with core.store.session() as session:
        rows = session.exec(
            select(Identity.user_id, FlowRun)
            .join(FlowRun, col(FlowRun.person_id) == Identity.person_id)
            .where(col(Identity.user_id).in_(users), FlowRun.status == "active")
        ).all()
    return {user: (run.step, dict(run.answers)) for user, run in rows}


async def test_postgres_restarting_under_load(
    core: Any,
    own_postgres: HaltablePostgres,
    slack: FaultySlack,
    clock: FrozenClock,
    record_property,
) -> None:
    # Before: everyone consented and is asked for their role.
    for user in USERS:
        await core.handle(dm(user, "hello", f"Ev{user}a"))
        await core.handle(dm(user, "yes", f"Ev{user}b"))
    assert await dispatch(core) is None
    before = snapshot(core, USERS)
    assert {step for step, _ in before.values()} == {"role"} and len(before) == len(USERS)

    # During: the server goes down while events stream in and the outbox is worked; the core
    # holds each event (retrying with backoff) until the server is back.
    stream = [(u, "mentee", f"Ev{u}c") for u in USERS] + [
        (u, "hello", f"Ev{u}a") for u in NEWCOMERS
    ]
    own_postgres.halt()
    try:
        assert not core.healthy()  # what /healthz reports
        handling = [asyncio.ensure_future(core.handle(dm(u, t, e))) for u, t, e in stream]
        await asyncio.sleep(0)  # let every event start while the server is down
        # A tick later: the dispatcher, which knows nothing was due, looks again.
        clock.advance(timedelta(seconds=core.dispatcher.settings.tick_seconds))
        dispatch_errors = int(await dispatch(core) is not None)
        during_outage = [
            e for (_, _, e), task in zip(stream, handling, strict=True) if not task.done()
        ]
    finally:
        await asyncio.to_thread(own_postgres.resume)
    outcomes = await asyncio.wait_for(asyncio.gather(*handling), 90)
    assert all(o.form_errors is None for o in outcomes)
    assert len(during_outage) == len(stream) and dispatch_errors == 1

    # After: the pool reconnects by itself (pool_pre_ping); what was committed gets sent.
    assert core.healthy()
    assert await dispatch(core) is None
    clock.advance(timedelta(minutes=10))  # past the backoff of anything that failed meanwhile
    assert await dispatch(core) is None

    with core.store.session() as session:
        committed = set(session.exec(select(ProcessedEvent.event_id)).all())
    lost_in_outage = sorted({e for _, _, e in stream} - committed)
    assert lost_in_outage == [], "events given during the outage were dropped"
    for user, text, event in stream:  # a platform's retry changes nothing
        assert (await core.handle(dm(user, text, event))).duplicate
    assert await dispatch(core) is None

    # New events work on the reconnected pool.
    for user in USERS[:3]:
        await core.handle(dm(user, "the law", f"Ev{user}d"))
    assert await dispatch(core) is None

    counts = slack.key_counts()
    twice = {k: n for k, n in counts.items() if n > 1}
    answered = {k.split(":")[2] for k in counts if k.startswith("msg:")}
    apologies = sorted(k for k in counts if k.startswith("err:"))
    every_event = {f"Ev{u}{s}" for u in USERS for s in "abc"} | {f"Ev{u}a" for u in NEWCOMERS}
    every_event |= {f"Ev{u}d" for u in USERS[:3]}
    with core.store.session() as session:
        unsent = session.exec(
            select(func.count())
            .select_from(OutboxItem)
            .where(
                OutboxItem.kind == SEND,
                col(OutboxItem.done_at).is_(None) | col(OutboxItem.failed_at).isnot(None),
            )
        ).one()
        consents = session.exec(select(func.count()).select_from(Consent)).one()
    after = snapshot(core, USERS + NEWCOMERS)
    report = {
        "events_during_outage": len(during_outage),
        "events_not_stored_during_outage": len(lost_in_outage),
        "apologies_sent": len(apologies),
        "dispatch_runs_failed": dispatch_errors,
        "sent_twice": len(twice),
    }
    for name, value in report.items():
        record_property(name, value)
    print("postgres restart:", report)

    assert not twice, f"sent more than once: {twice}"
    assert every_event <= answered, f"never answered: {sorted(every_event - answered)}"
    assert unsent == 0
    assert consents == len(USERS)  # no consent lost, none doubled
    for user in USERS:  # role answered; three of them also gave their studies
        step, answers = after[user]
        assert answers.get("consent") is True and answers.get("role") == "mentee", (user, answers)
        assert step == "studies", (user, step)
    for user in NEWCOMERS:
        assert after[user][0] == "consent", (user, after.get(user))


async def test_a_message_sent_during_a_short_outage_is_not_dropped(
    core: Any, own_postgres: HaltablePostgres, slack: FaultySlack
) -> None:
    """The Slack adapter acknowledges an event before the core handles it (Slack wants an
    answer within 3 s), so Slack never sends it again. When the database is away for a moment
    the core must therefore hold on to the event until it can store it, not drop it: the person
    would get no answer at all (not even the apology, which needs the database too)."""
    await core.handle(dm("U0SHORT", "hello", "EvShort1"))
    assert await dispatch(core) is None
    own_postgres.halt()
    try:
        handling = asyncio.ensure_future(core.handle(dm("U0SHORT", "yes", "EvShort2")))
        await asyncio.sleep(0)  # it starts while the server is down
    finally:
        await asyncio.to_thread(own_postgres.resume)
    await asyncio.wait_for(handling, 60)
    assert await dispatch(core) is None
    with core.store.session() as session:
        stored = session.exec(
            select(ProcessedEvent).where(ProcessedEvent.event_id == "EvShort2")
        ).first()
    replies = [k for k in slack.key_counts() if "EvShort2" in k]
    assert stored is not None and replies, "the answer given during the outage was dropped"
