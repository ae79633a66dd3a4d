"""Property-based tests of the flow engine through the core (hypothesis).

Any sequence of inputs — texts of every kind (empty, huge, emoji, right-to-left, numbers),
buttons with live, stale and forged tokens, form submissions with random values, commands,
repeated deliveries and the clock moving on — sent by two people on a fresh SQLite database
leaves a valid state and never crashes: nothing escapes `Core.handle` and nothing is logged as
a failure of handling or dispatch, every new event gets at least one reply, a repeated event
none, every person has at most one active run per space, its step is a step of its flow and
its answers are plain JSON.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import tempfile
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import col, select

from bot import retention
from bot.app import build
from bot.clock import FrozenClock
from bot.config.model import Config, SchedulerConfig
from bot.domain import FlowRun, OutboxItem, RunStatus
from bot.events import Choice, Command, FormSubmitted, Message
from bot.testing import Conversation, console_adapter, programme_config
from tests.conftest import START

PEOPLE = ("anna", "bram")
APOLOGY = "something went wrong on my side"
_template: dict[str, Path] = {}


def template_database() -> Path:
    """One migrated SQLite file, copied for every example (migrating takes most of the time)."""
    if "path" not in _template:
        path = Path(tempfile.mkdtemp(prefix="maatje-prop-")) / "template.db"
        app = build(Config(database_url=f"sqlite:///{path}"), FrozenClock(START))
        app.store.dispose()
        _template["path"] = path
    return _template["path"]


words = st.sampled_from(
    ["yes", "no", "mentee", "mentor", "Law", "2", "help", "privacy", "stop", "cancel", "ja"]
)
texts = st.one_of(
    words,
    st.just(""),
    st.just(" \n\t "),
    st.text(max_size=60),
    st.sampled_from(["😀🎓👩🏽‍🎓", "مرحبا بك", "שלום עולם", "\u202eevil", "‏ja‏", "🙂" * 500]),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(5_000, 60_000).map(lambda n: "lorem ipsum " * (n // 12)),
)
values = st.lists(st.one_of(words, st.text(max_size=20)), max_size=3)
token_kinds = st.sampled_from(["live", "stale", "forged", "other-person", "command"])
forged_tokens = st.one_of(
    st.sampled_from(["f:999999:consent", "f:1:nope", "f:x:y", "f::", "c:", "c:help", "c:nope:x"]),
    st.text(max_size=30),
)
person = st.sampled_from(PEOPLE)
actions = st.one_of(
    st.tuples(st.just("text"), person, texts),
    st.tuples(st.just("click"), person, st.tuples(token_kinds, forged_tokens, values)),
    st.tuples(
        st.just("submit"),
        person,
        st.tuples(
            st.booleans(),
            forged_tokens,
            st.dictionaries(st.sampled_from(["programme", "year", "x", ""]), texts, max_size=3),
        ),
    ),
    st.tuples(
        st.just("command"),
        person,
        st.tuples(
            st.sampled_from(["help", "privacy", "language", "status", "match", "join", "fit"])
            | st.text(max_size=10),
            st.lists(st.one_of(words, st.text(max_size=10)), max_size=2),
        ),
    ),
    st.tuples(st.just("repeat"), person, st.none()),
    st.tuples(st.just("wait"), person, st.sampled_from([1, 6, 49, 24 * 8, 24 * 22])),
)


class Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def check_state(core, flows: dict) -> None:
    with core.store.session() as session:
        runs = session.exec(select(FlowRun).where(FlowRun.status == RunStatus.ACTIVE)).all()
        failed = session.exec(
            select(func.count())
            .select_from(OutboxItem)
            .where(col(OutboxItem.failed_at).isnot(None))
        ).one()
    per_conversation = defaultdict(int)
    for run in runs:
        per_conversation[(run.person_id, run.space_platform, run.space_channel)] += 1
        assert run.flow in flows, run.flow
        assert run.step in {s.name for s in flows[run.flow].steps}, (run.flow, run.step)
        json.dumps(run.answers)
    assert all(n == 1 for n in per_conversation.values()), dict(per_conversation)
    assert failed == 0, "an outbox action failed for good"


async def play(steps: list[tuple]) -> None:
    directory = Path(tempfile.mkdtemp(prefix="maatje-prop-"))
    shutil.copy(template_database(), directory / "m.db")
    clock = FrozenClock(START)
    console = console_adapter()
    config = Config(
        database_url=f"sqlite:///{directory / 'm.db'}",
        programmes=(programme_config(),),
        scheduler=SchedulerConfig(claim_lease_seconds=30),
    )
    app = build(config, clock, adapters={"console": console}, auto_dispatch=False, migrate=False)
    chat = Conversation(app.core, console)
    failures = Failures()
    logging.getLogger("bot").addHandler(failures)
    tokens: dict[str, list[str]] = defaultdict(list)
    last_event: dict[str, tuple[object, datetime]] = {}
    try:
        for kind, who, arg in steps:
            other = PEOPLE[1 - PEOPLE.index(who)]
            common = {"person": chat.ref(who), "space": chat.space(who)}
            if kind == "wait":
                clock.advance(timedelta(hours=arg))
                await app.core.dispatcher.run_due()
                chat.new(who)
                continue
            if kind == "repeat":
                if who not in last_event:
                    continue
                event, sent_at = last_event[who]
                if clock.now() - sent_at >= timedelta(days=retention.EVENT_DAYS):
                    continue  # forgotten by then: platforms redeliver within minutes
                chat.new(who)
                outcome = await chat.event(event)
                assert outcome.duplicate and chat.new(who) == [], "a repeated event was handled"
                continue
            event_id = uuid.uuid4().hex
            if kind == "text":
                event = Message(text=arg, event_id=event_id, **common)
            elif kind == "click":
                how, forged, chosen = arg
                pool = {
                    "live": tokens[who][-1:],
                    "stale": tokens[who][:-1],
                    "other-person": tokens[other][-1:],
                }.get(how, [])
                token = pool[0] if pool else (f"c:{forged}" if how == "command" else forged)
                event = Choice(token=token, values=tuple(chosen), event_id=event_id, **common)
            elif kind == "submit":
                use_live, forged, fields = arg
                messages = chat.messages(who)
                live = messages[-1].form.form_id if messages and messages[-1].form else None
                form_id = live if use_live and live else forged
                event = FormSubmitted(form_id=form_id, values=fields, event_id=event_id, **common)
            else:
                name, args = arg
                event = Command(name=name, args=tuple(args), event_id=event_id, **common)
            outcome = await chat.event(event)
            assert not outcome.duplicate
            replies = chat.new(who)
            for message in chat.messages(who):
                if message.choice_token and message.choice_token not in tokens[who]:
                    tokens[who].append(message.choice_token)
            assert replies or outcome.form_errors, f"no reply to {kind} {arg!r:.80}"
            assert not any(APOLOGY in r for r in replies), f"{kind} {arg!r:.80} -> {replies}"
            last_event[who] = (event, clock.now())
            check_state(app.core, app.core.engine.flows)
        assert not failures.records, [r.getMessage() for r in failures.records]
    finally:
        logging.getLogger("bot").removeHandler(failures)
        app.store.dispose()
        shutil.rmtree(directory, ignore_errors=True)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=st.lists(actions, min_size=1, max_size=25))
def test_any_sequence_of_inputs_leaves_a_valid_state(steps: list[tuple]) -> None:
    asyncio.run(play(steps))
