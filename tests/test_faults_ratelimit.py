"""A 429 storm: Slack refuses most of a surge's messages with Retry-After, and nothing is lost
or posted twice.

The real core and Slack adapter (with its own pacing, as deployed) send to a fake Slack that
enforces Slack's message limits (tests/slack/limited_fake.py) with a low workspace ceiling.
The adapter starts generous, so its first second meets a storm of refusals; it waits them out,
learns the ceiling and carries on. Messages that still fail go back to the outbox, which is
worked (`run_due`) with the frozen clock moved past each backoff until nothing is pending.
Afterwards every message arrived exactly once, each person's in the order written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from adapters.slack import SlackAdapter
from bot.clock import FrozenClock
from bot.delivery import SEND
from bot.domain import OutboxItem
from bot.testing import build_core
from tests.faults.unsent import unsent_messages
from tests.slack.limited_fake import LimitedSlack
from tests.slack.support import direct_message as dm
from tests.slack.support import slack_config

PEOPLE = [f"U{n:03d}RL" for n in range(16)]
CEILING = 8  # messages a second in the workspace: the first second of 16 replies overflows it
CONSENT = "May I store your answers"
ROLE = "joining as a mentee"


@pytest.fixture
async def slack() -> AsyncIterator[LimitedSlack]:
    fake = LimitedSlack(ceiling=CEILING)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def core(slack: LimitedSlack, database_url: str, clock: FrozenClock) -> Any:
    adapter = SlackAdapter(slack_config(slack))
    core = build_core(database_url, clock, {"slack": adapter})
    yield core
    core.store.dispose()


def pending(core: Any) -> int:
    """Messages not sent yet (the intake's reminders, days away, are not messages yet)."""
    with core.store.session() as session:
        return unsent_messages(session)


async def test_a_429_storm_loses_nothing_and_repeats_nothing(
    core: Any, slack: LimitedSlack, clock: FrozenClock, record_property
) -> None:
    for person in PEOPLE:
        await core.handle(dm(person, "hello", f"Ev-storm-{person}-1"))
        await core.handle(dm(person, "yes", f"Ev-storm-{person}-2"))
    rounds = 0
    while pending(core) and rounds < 20:
        await core.dispatcher.run_due()
        clock.advance(timedelta(minutes=1))  # past the outbox's backoff for what still failed
        rounds += 1

    assert pending(core) == 0, f"still pending after {rounds} rounds"
    expected = {f"msg:slack:Ev-storm-{p}-{n}:0" for p in PEOPLE for n in (1, 2)}
    assert set(slack.keys) == expected, f"lost: {sorted(expected - set(slack.keys))}"
    assert slack.duplicates() == 0, {k: n for k, n in slack.keys.items() if n > 1}
    with core.store.session() as session:
        rows = session.exec(select(OutboxItem).where(OutboxItem.kind == SEND)).all()
    assert all(r.done_at is not None and r.failed_at is None for r in rows)
    posts = slack.calls_to("chat.postMessage")
    for person in PEOPLE:
        texts = [p["text"] for p in posts if p["channel"] == f"D{person}"]
        assert len(texts) == 2 and CONSENT in texts[0] and ROLE in texts[1], texts
    assert slack.refused, "the storm did not happen: the fake refused nothing"
    assert {why for _, _, why in slack.refused} == {"workspace"}
    limits = core.adapters["slack"].client.limits
    assert limits.workspace.cuts >= 1 and limits.workspace.rate < 2 * CEILING
    record_property("refused", len(slack.refused))
    record_property("outbox_rounds", rounds)
