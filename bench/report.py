"""What a simulated programme came to: read from its database and its recorder afterwards."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import select

from bot.domain import FlowRun, Identity, Meeting, MeetingStatus, Pair, RunStatus

if TYPE_CHECKING:
    from bench.simulation import Simulation


@dataclass
class Report:
    commands: Counter[str]
    messages: Counter[str]
    events: int
    mentors: int
    dropped: int
    stalled: int
    pairs: int
    """Pairs made (re-matches included)."""
    ended_early: int
    """Pairs ended before the close (fit check, stalled, asked to end)."""
    running: int
    """Pairs still running at the close whose two members did not drop out."""
    held_min: int
    held_median: float
    under_three: int
    short: list[str]
    """For each of those pairs under three meetings: when it was made, which of the mentee's
    matches it was, and its meetings by status (why the target was missed)."""
    certificates: int
    refused: Counter[str]
    """Scripted answers Maatje did not take (a fault of the script or of Maatje)."""
    left_open: Counter[str]
    """Conversations still waiting at the end for someone who did not drop out."""
    errors: Counter[str]
    """What the bot logged as errors."""

    @property
    def command_total(self) -> int:
        return sum(self.commands.values())


def outcome(sim: Simulation) -> Report:
    with sim.core.store.session() as session:
        pairs = session.exec(select(Pair).order_by(Pair.id)).all()  # type: ignore[arg-type]
        meetings = session.exec(select(Meeting.pair_id, Meeting.status)).all()
        users = dict(session.exec(select(Identity.person_id, Identity.user_id)).all())
        open_runs = session.exec(
            select(FlowRun.person_id, FlowRun.flow, FlowRun.step).where(
                FlowRun.status == RunStatus.ACTIVE
            )
        ).all()
    dropped = {p.user_id for p in sim.people.values() if p.drops_at is not None}
    running = [
        p
        for p in pairs
        if p.id in sim.pairs_at_close
        and users.get(p.mentor_id) not in dropped
        and users.get(p.mentee_id) not in dropped
    ]
    held = Counter(pair for pair, status in meetings if status == MeetingStatus.HELD)
    counts = [held.get(p.id, 0) for p in running]
    short = [_why_short(p, pairs, meetings) for p in running if held.get(p.id, 0) < 3]
    left_open = Counter(
        f"{flow}.{step}" for person, flow, step in open_runs if users.get(person) not in dropped
    )
    return Report(
        commands=sim.commands,
        messages=sim.recorder.count,
        events=sim.events,
        mentors=sim.settings.mentors,
        dropped=len(dropped),
        stalled=sum(1 for p in sim.people.values() if p.stall),
        pairs=len(pairs),
        ended_early=len(pairs) - len(sim.pairs_at_close),
        running=len(running),
        held_min=min(counts, default=0),
        held_median=statistics.median(counts) if counts else 0,
        under_three=sum(1 for c in counts if c < 3),
        short=short,
        certificates=sim.recorder.files.get("pdf", 0),
        refused=sim.refused,
        left_open=left_open,
        errors=sim.errors.seen,
    )


def _why_short(pair: Pair, pairs: list[Pair], meetings: list[tuple[int, str]]) -> str:
    match = 1 + sum(1 for p in pairs if p.mentee_id == pair.mentee_id and p.id < pair.id)
    states = Counter(status for pair_id, status in meetings if pair_id == pair.id)
    listed = ", ".join(f"{status} {n}" for status, n in sorted(states.items())) or "none"
    return f"pair {pair.id}: made {pair.matched_at:%Y-%m-%d}, mentee's match {match}; {listed}"
