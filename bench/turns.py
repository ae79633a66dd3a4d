"""The core's own cost of a kick-off's turns, without a platform in between.

    python -m bench.turns [--people 300] [--runs 5]

`--people` newcomers write to Maatje one after another, three times each — "hello", a yes to
the intake's consent question, their role — as in `bench.slack_surge`, but through
`Core.handle` with the simulation's recording adapter (bench/recorder.py) on a SQLite file:
each event is stored, its turn runs and its reply is sent (recorded), as `maatje run` does
without the HTTP around it. It prints the process's CPU time per event for each of the three
turns (min and median of `--runs` runs, each on a new database), and the same for a bare
SQLAlchemy loop on the same kind of database: per event, three transactions that store the
event, store its reply and mark the reply sent — the least any bot that keeps its promises
(nothing acknowledged is lost, nothing sent twice) writes. The slack_surge figures are this
core plus Slack's HTTP in and out; this one shows the core alone, with less noise.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path

from bench.common import print_machine
from bench.recorder import PLATFORM, WORKSPACE, Recorder
from bench.simulation import ZONE, SimulationSettings, programme_config

TURNS = ("hello", "yes", "mentee")


async def _maatje(people: int, folder: Path) -> list[float]:
    """CPU seconds per event of each turn, for `people` newcomers."""
    from bot.adapter import Profile
    from bot.app import build
    from bot.clock import FrozenClock
    from bot.config.model import Config
    from bot.events import Message, PersonRef, SpaceRef

    settings = SimulationSettings(pairs=10, seed=1)
    profiles = {
        f"U{i:05d}": Profile(display_name=f"Person {i}", locale="en-NL") for i in range(people)
    }
    clock = FrozenClock(datetime.combine(settings.start, clock_time(9), ZONE))
    config = Config(
        database_url=f"sqlite:///{folder / 'maatje.db'}", programmes=(programme_config(settings),)
    )
    app = build(config, clock, adapters={PLATFORM: Recorder(profiles)})
    core = app.core
    costs = []
    for turn, text in enumerate(TURNS):
        started = time.process_time()
        for i, user in enumerate(profiles):
            event = Message(
                person=PersonRef(PLATFORM, WORKSPACE, user),
                space=SpaceRef(PLATFORM, WORKSPACE, f"D{user}"),
                event_id=f"E{turn}-{i}",
                locale="en",
                text=text,
            )
            await core.handle(event)
        await core.drain()
        while await core.dispatcher.run_due():
            pass
        costs.append((time.process_time() - started) / people)
    app.store.dispose()
    return costs


def _bare(people: int, folder: Path) -> float:
    """CPU seconds per event of the bare loop: the event stored, its reply stored, marked sent."""
    from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, update

    from bot.store import create_db_engine

    engine = create_db_engine(f"sqlite:///{folder / 'bare.db'}")
    metadata = MetaData()
    events = Table("event", metadata, Column("id", Integer, primary_key=True), Column("body", JSON))
    replies = Table(
        "reply",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("channel", String(64)),
        Column("text", String(4000)),
        Column("sent_at", DateTime, nullable=True),
    )
    metadata.create_all(engine)
    started = time.process_time()
    for i in range(people):
        with engine.begin() as connection:
            connection.execute(events.insert().values(body={"user": f"U{i}", "text": "hello"}))
        with engine.begin() as connection:
            reply = connection.execute(
                replies.insert().values(channel=f"DU{i}", text="Welcome!")
            ).inserted_primary_key[0]
        with engine.begin() as connection:
            connection.execute(
                update(replies).where(replies.c.id == reply).values(sent_at=datetime.now())
            )
    cost = (time.process_time() - started) / people
    engine.dispose()
    return cost


def _figures(seconds: list[float]) -> str:
    return f"min {min(seconds) * 1000:.2f}, median {statistics.median(seconds) * 1000:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print_machine("The core's own cost of a kick-off's turns (no platform)")
    print(f"{args.people} newcomers x {len(TURNS)} turns, {args.runs} runs; CPU ms per event")
    maatje: list[list[float]] = []
    bare: list[float] = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="maatje-turns-") as folder:
            maatje.append(asyncio.run(_maatje(args.people, Path(folder))))
            bare.append(_bare(args.people, Path(folder)))
    for turn, text in enumerate(TURNS):
        print(f"  turn {turn + 1} ({text!r}): {_figures([run[turn] for run in maatje])}")
    each = [sum(run) / len(run) for run in maatje]
    print(f"  all three, per event: {_figures(each)}")
    print(f"  bare loop (store the event, store the reply, mark it sent): {_figures(bare)}")
    ratio = statistics.median(each) / statistics.median(bare)
    print(f"  Maatje's turn costs {ratio:.1f}x the bare loop's")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
