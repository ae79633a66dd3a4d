"""Matching a large intake: the slot counts and costs, computed a block of mentors at a time,
are those of each pair on its own, and the peak memory stays small (the process keeps much
of what it once took: it used to reach ~80 MB at 1,000 mentees)."""

from __future__ import annotations

import random
import tracemalloc

from bot.services import matching
from bot.services.assignment import assign
from bot.services.matching import MenteeProfile, MentorProfile, score_all
from tests.test_matching import mentee, mentor, random_instance


def test_blocks_of_mentors_count_as_each_pair_alone() -> None:
    mentees, mentors = random_instance(random.Random(11), 9, 2 * matching.MENTORS_AT_ONCE + 5)
    scores = score_all(mentees, mentors)
    for i, e in enumerate(mentees):
        for j, m in enumerate(mentors):
            alone = score_all([e], [m])
            assert scores.shared_slots[i, j] == alone.shared_slots[0, 0]
            assert scores.matrix[i, j] == alone.matrix[0, 0]


def intake(mentees: int) -> tuple[list[MenteeProfile], list[MentorProfile]]:
    """A programme's intake: five mentees per mentor, six seats each, most days free."""
    days = ("mon", "tue", "wed", "thu", "fri")
    return (
        [mentee(i, weekdays=days[:3], dayparts=("morning", "evening")) for i in range(mentees)],
        [
            mentor(10_000 + j, weekdays=days, dayparts=("morning", "evening"), capacity=6)
            for j in range(mentees // 5)
        ],
    )


def test_matching_500_mentees_peaks_under_15_mb() -> None:
    """Scores and the assignment's cost matrix (4.4 MB at 500 mentees) took 40 MB at
    their peak when all mentors' minute masks were made at once."""
    assign(score_all(*intake(5)))  # numpy and scipy imported: not counted
    mentees, mentors = intake(500)
    tracemalloc.start()
    try:
        proposal = assign(score_all(mentees, mentors))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sum(len(group) for group in proposal.groups.values()) == 500
    assert peak < 15 * 2**20
