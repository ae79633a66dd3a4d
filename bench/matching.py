"""Matching benchmark: 1,000 mentees × 200 mentors, seeded random profiles.

Run with `python -m bench.matching [mentees] [mentors]`. Prints the time to score all pairs,
the time to assign, and the total; the target for the defaults is under 5 seconds.
"""

from __future__ import annotations

import random
import sys
import time

from bot.services.assignment import assign
from bot.services.matching import MenteeProfile, MentorProfile, Weights, score_all

TOPICS = ("planning", "study_skills", "finding_way", "social", "career", "balance", "writing")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAYPARTS = ("morning", "afternoon", "evening")
ZONES = ("Europe/Amsterdam", "Europe/London", "America/New_York", "Asia/Kolkata", "UTC")
FIELDS = ("Law", "Medicine", "Computer Science", "Psychology", "History", "Economics", "Biology")
LANGUAGES = ("nl", "en", "either")


def _some(rng: random.Random, options: tuple[str, ...], low: int, high: int) -> frozenset[str]:
    return frozenset(rng.sample(options, rng.randint(low, high)))


def profiles(
    mentees: int, mentors: int, seed: int = 1
) -> tuple[list[MenteeProfile], list[MentorProfile]]:
    rng = random.Random(seed)
    result_mentees = [
        MenteeProfile(
            person_id=i,
            field=rng.choice(FIELDS),
            topics=_some(rng, TOPICS, 1, 3),
            weekdays=_some(rng, DAYS, 1, 4),
            dayparts=_some(rng, DAYPARTS, 1, 2),
            timezone=rng.choice(ZONES),
            language=rng.choice(LANGUAGES),
            name=f"mentee {i}",
        )
        for i in range(mentees)
    ]
    result_mentors = [
        MentorProfile(
            person_id=100_000 + j,
            field=rng.choice(FIELDS),
            expertise=_some(rng, TOPICS, 1, 4),
            weekdays=_some(rng, DAYS, 1, 5),
            dayparts=_some(rng, DAYPARTS, 1, 3),
            timezone=rng.choice(ZONES),
            language=rng.choice(LANGUAGES),
            capacity=rng.randint(3, 8),
            name=f"mentor {j}",
        )
        for j in range(mentors)
    ]
    return result_mentees, result_mentors


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 1000
    m = int(argv[1]) if len(argv) > 1 else 200
    mentees, mentors = profiles(n, m)
    places = sum(p.capacity for p in mentors)

    start = time.perf_counter()
    scores = score_all(mentees, mentors, Weights())
    scored = time.perf_counter()
    proposal = assign(scores, min_fit=0.2)
    assigned = time.perf_counter()

    matched = sum(len(group) for group in proposal.groups.values())
    print(f"mentees {n}, mentors {m}, places {places}")
    print(f"score all pairs: {scored - start:.3f} s")
    print(f"assign:          {assigned - scored:.3f} s")
    print(f"total:           {assigned - start:.3f} s")
    print(f"matched {matched}, unmatched {len(proposal.unmatched)}, total fit {proposal.total:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
