"""SIGKILL at each crash point of dispatch: nothing is lost, and only the send-then-record
window can repeat a message — at most the ones in flight when the process died (one per lane;
messages to different people go out side by side).

Each round seeds N `send` actions, runs tests/crash_worker.py with MAATJE_CRASH_AT /
MAATJE_CRASH_AFTER until it is killed, then runs it again without them until the work is done
(the abandoned claims expire after a short lease, in real time). The console adapter writes
every message as one flushed line to a file both runs append to.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select

from bot.clock import SystemClock
from bot.delivery import SEND, enqueue_outbound
from bot.domain import Identity, OutboxItem, Person
from bot.engine import Outbound
from bot.replies import Reply
from bot.store import Store

N = 20
LEASE_SECONDS = 0.5
RUN_TIMEOUT = 40
WORKER = Path(__file__).with_name("crash_worker.py")
ROOT = WORKER.parent.parent
LINE = re.compile(r"^\[Maatje → \S+\] (msg-\S+)$")

# With batches of 5, 20 actions pass "claimed" 4 times and "sent"/"recorded" 20 times (more
# when a message is repeated): each value below is reached, the last one at the very end.
CRASH_AFTER = {"claimed": (1, 2, 4), "sent": (1, 7, 20), "recorded": (1, 7, 20)}


def seed(store: Store, round_name: str) -> list[str]:
    """N messages to one console person, due now; returns their texts."""
    now = SystemClock().now()
    texts = [f"msg-{round_name}-{i}" for i in range(N)]
    with store.session() as session:
        person = session.exec(select(Person)).first()
        if person is None:
            person = Person(created_at=now, language="en", timezone="UTC")
            session.add(person)
            session.flush()
            assert person.id is not None
            session.add(
                Identity(person_id=person.id, platform="console", workspace="t", user_id="mentee")
            )
            session.flush()
        assert person.id is not None
        messages = [Outbound(person.id, Reply(text)) for text in texts]
        enqueue_outbound(session, messages, f"crash-{round_name}", now)
    return texts


def seed_many(store: Store, round_name: str) -> list[str]:
    """One message to each of N console people (N lanes, sent side by side), due now."""
    now = SystemClock().now()
    texts = []
    with store.session() as session:
        for i in range(N):
            person = Person(created_at=now, language="en", timezone="UTC")
            session.add(person)
            session.flush()
            assert person.id is not None
            user = f"p{round_name}-{i}"
            session.add(
                Identity(person_id=person.id, platform="console", workspace="t", user_id=user)
            )
            texts.append(f"msg-{round_name}-{i}")
            enqueue_outbound(session, [Outbound(person.id, Reply(texts[-1]))], f"crash-{user}", now)
    return texts


def recorded(store: Store, texts: list[str]) -> set[str]:
    """Which of `seed_many`'s messages the outbox has marked done (a sent row keeps only its
    key, `crash-p<round>-<i>:0` for the text `msg-<round>-<i>`)."""
    with store.session() as session:
        items = session.exec(select(OutboxItem).where(OutboxItem.kind == SEND)).all()
    done = {i.idempotency_key.removeprefix("crash-p").split(":")[0] for i in items if i.done_at}
    return {text for text in texts if text.removeprefix("msg-") in done}


def run_worker(url: str, tmp_path: Path, crash: tuple[str, int] | None) -> tuple[int, list[str]]:
    """Run the worker to its end; returns its exit code and the messages it wrote."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAATJE_CRASH_")}
    if crash:
        env["MAATJE_CRASH_AT"], env["MAATJE_CRASH_AFTER"] = crash[0], str(crash[1])
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    start = out.stat().st_size if out.exists() else 0
    with out.open("ab") as stdout, err.open("ab") as stderr:
        process = subprocess.run(
            [sys.executable, str(WORKER), url, str(LEASE_SECONDS)],
            stdout=stdout,
            stderr=stderr,
            env=env,
            cwd=ROOT,
            timeout=RUN_TIMEOUT,
        )
    lines = out.read_bytes()[start:].decode("utf-8").splitlines()
    texts = []
    for line in lines:
        match = LINE.match(line)
        assert match, f"unexpected output line {line!r}"
        texts.append(match.group(1))
    return process.returncode, texts


def stderr_of(tmp_path: Path) -> str:
    path = tmp_path / "stderr.txt"
    return path.read_text() if path.exists() else ""


@pytest.mark.parametrize("point", ["claimed", "sent", "recorded"])
def test_sigkill_at_a_crash_point_loses_nothing_and_repeats_at_most_the_message_in_flight(
    point: str, database_url: str, tmp_path: Path, record_property
):
    store = Store(database_url)
    store.upgrade()
    duplicates_per_kill: dict[int, int] = {}
    try:
        for after in CRASH_AFTER[point]:
            texts = seed(store, f"{point}{after}")

            code, crashed = run_worker(database_url, tmp_path, (point, after))
            assert code == -signal.SIGKILL, (
                f"worker with MAATJE_CRASH_AT={point} MAATJE_CRASH_AFTER={after} exited {code}, "
                f"not by SIGKILL, after writing {len(crashed)} of {N} messages in batches of 5:\n"
                f"{stderr_of(tmp_path)}"
            )
            if point in ("sent", "recorded"):
                # Every pass of these points is one message written: the n-th pass kills.
                assert len(crashed) == after, crashed
            code, recovered = run_worker(database_url, tmp_path, None)
            assert code == 0, f"recovery run exited {code}:\n{stderr_of(tmp_path)}"

            counts = Counter(crashed + recovered)
            assert set(counts) == set(texts), "a message was lost or invented"
            repeated = sorted(text for text, count in counts.items() if count > 1)
            duplicates_per_kill[after] = len(repeated)
            assert all(counts[text] == 2 for text in repeated), counts
            if point == "sent":
                # Only the message accepted by the platform but not yet recorded repeats.
                assert repeated in ([], [crashed[-1]]), (
                    f"kill at sent #{after}: repeated {repeated}, in flight {crashed[-1]}"
                )
            else:
                assert repeated == [], f"kill at {point} #{after} repeated {repeated}"

        with store.session() as session:
            items = session.exec(select(OutboxItem).where(OutboxItem.kind == SEND)).all()
        assert len(items) == N * len(CRASH_AFTER[point])
        assert all(item.done_at is not None and item.failed_at is None for item in items)
    finally:
        store.dispose()
        record_property(f"duplicates_at_{point}", duplicates_per_kill)
        print(f"{point}: duplicates per kill (by MAATJE_CRASH_AFTER) {duplicates_per_kill}")


@pytest.mark.parametrize("after", [1, 3, 12])
def test_sigkill_with_sends_under_way_in_many_lanes_repeats_only_those_in_flight(
    after: int, database_url: str, tmp_path: Path
):
    """Several sends are under way at once (one message per person, places for 5): a kill
    repeats exactly the messages the platform had and the outbox had not recorded."""
    store = Store(database_url)
    store.upgrade()
    try:
        texts = seed_many(store, f"lanes{after}")
        code, crashed = run_worker(database_url, tmp_path, ("sent", after))
        assert code == -signal.SIGKILL, stderr_of(tmp_path)
        in_flight = set(crashed) - recorded(store, texts)
        assert 1 <= len(in_flight) <= 5, in_flight
        code, recovered = run_worker(database_url, tmp_path, None)
        assert code == 0, stderr_of(tmp_path)
        counts = Counter(crashed + recovered)
        assert set(counts) == set(texts), "a message was lost or invented"
        assert {t for t, n in counts.items() if n > 1} == in_flight
        assert max(counts.values()) <= 2
    finally:
        store.dispose()
