"""Matching service: scores and reasons, time zones, capacity, threshold, optimality."""

from __future__ import annotations

import itertools
import random
from datetime import date

import pytest

from bot.i18n import Text, Translator
from bot.services.assignment import (
    Assignment,
    Proposal,
    Unmatched,
    assign,
    place,
    places,
    propose,
)
from bot.services.matching import (
    MenteeProfile,
    MentorProfile,
    Weights,
    fit,
    normalise_field,
    score_all,
    utc_slots,
)

ALL_DAYS = frozenset({"mon", "tue", "wed", "thu", "fri"})


def mentee(
    pid: int = 1,
    field: str | None = "Law",
    topics: tuple[str, ...] = ("career", "planning"),
    weekdays: tuple[str, ...] = ("tue",),
    dayparts: tuple[str, ...] = ("evening",),
    timezone: str = "Europe/Amsterdam",
    language: str = "nl",
) -> MenteeProfile:
    return MenteeProfile(
        pid,
        field,
        frozenset(topics),
        frozenset(weekdays),
        frozenset(dayparts),
        timezone,
        language,
        f"mentee {pid}",
    )


def mentor(
    pid: int = 100,
    field: str | None = "law",
    expertise: tuple[str, ...] = ("career",),
    weekdays: tuple[str, ...] = ("tue",),
    dayparts: tuple[str, ...] = ("evening",),
    timezone: str = "Europe/Amsterdam",
    language: str = "either",
    capacity: int = 2,
) -> MentorProfile:
    return MentorProfile(
        pid,
        field,
        frozenset(expertise),
        frozenset(weekdays),
        frozenset(dayparts),
        timezone,
        language,
        capacity,
        f"mentor {pid}",
    )


def msgids(texts: tuple[Text, ...]) -> list[str]:
    return [t.msgid for t in texts]


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator()


# --- scores and reasons ---------------------------------------------------------------------


def test_field_normalisation() -> None:
    assert normalise_field("  Law. ") == normalise_field("LAW") == "law"
    assert normalise_field("Computer   Science") == "computer science"
    assert normalise_field("") is None
    assert normalise_field(None) is None
    assert normalise_field("...") is None


def test_full_fit_with_reasons(translator: Translator) -> None:
    result = fit(
        mentee(topics=("career",), language="nl"),
        mentor(field=" LAW ", expertise=("career", "social"), language="nl"),
    )
    assert result.score == pytest.approx(1.0)
    rendered = [translator.render(r, "en") for r in result.reasons]
    assert rendered == [
        "same field: Law",
        "1 shared topic: career",
        "1 shared time slot",
        "both prefer Dutch",
    ]


def test_partial_fit_is_the_weighted_mean() -> None:
    # field 1, topics 1/2, availability 1, language 1 with the default weights 3/2/3/2
    result = fit(mentee(), mentor())
    assert result.score == pytest.approx((3 + 2 * 0.5 + 3 + 2) / 10)
    assert "both prefer {language}" not in msgids(result.reasons)  # mentor said "either"


def test_nothing_in_common_but_language() -> None:
    result = fit(
        mentee(field="History", topics=("writing",), weekdays=("mon",), dayparts=("morning",)),
        mentor(field="Law", expertise=("career",), weekdays=("fri",), dayparts=("evening",)),
    )
    assert result.score == pytest.approx(2 / 10)
    assert msgids(result.reasons) == ["{count} shared time slot"]
    assert result.reasons[0].count == 0


def test_language_incompatibility_is_hard() -> None:
    result = fit(mentee(language="nl"), mentor(language="en"))
    assert result.score == 0.0
    assert msgids(result.reasons) == ["no common language"]
    assert fit(mentee(language="either"), mentor(language="en")).score > 0
    assert fit(mentee(language="en"), mentor(language="EN ")).score > 0


def test_missing_answers_score_low_but_do_not_fail() -> None:
    result = fit(
        mentee(field=None, topics=(), weekdays=(), dayparts=()),
        mentor(field=None, expertise=(), weekdays=(), dayparts=()),
    )
    assert result.score == pytest.approx(2 / 10)


def test_topic_labels_replace_values(translator: Translator) -> None:
    labels = {"career": "Career and internships", "planning": "Planning"}
    result = fit(
        mentee(topics=("career", "planning")),
        mentor(expertise=("career", "planning")),
        topic_labels=labels,
    )
    rendered = translator.render(result.reasons[1], "en")
    assert rendered == "2 shared topics: Career and internships and Planning"


def test_weights_change_the_score() -> None:
    only_topics = Weights.from_mapping({"field": 0, "availability": 0, "language": 0})
    assert fit(mentee(), mentor(), only_topics).score == pytest.approx(0.5)


def test_weights_from_mapping() -> None:
    assert Weights.from_mapping({}) == Weights()
    assert Weights.from_mapping(None) == Weights()
    assert Weights.from_mapping({"field": 1}).field == 1.0
    with pytest.raises(ValueError, match="unknown"):
        Weights.from_mapping({"age": 1})
    with pytest.raises(ValueError, match="number"):
        Weights.from_mapping({"field": "high"})
    with pytest.raises(ValueError):
        Weights.from_mapping({"field": -1})
    with pytest.raises(ValueError):
        Weights.from_mapping({"field": 0, "topics": 0, "availability": 0, "language": 0})


def test_profiles_from_intake_answers() -> None:
    e = MenteeProfile.from_answers(
        7,
        "Sam",
        "Europe/Amsterdam",
        {
            "studies": {"programme": "Law", "year": 2},
            "topics": ["career"],
            "weekdays": ["tue"],
            "dayparts": ["evening"],
            "language": "nl",
        },
    )
    assert e == MenteeProfile(
        person_id=7,
        field="Law",
        topics=frozenset({"career"}),
        weekdays=frozenset({"tue"}),
        dayparts=frozenset({"evening"}),
        timezone="Europe/Amsterdam",
        language="nl",
        name="Sam",
    )
    m = MentorProfile.from_answers(
        8, "Kim", None, {"background": {"field": "Law", "current": "lawyer"}, "capacity": 3}
    )
    assert (m.field, m.capacity, m.timezone, m.language, m.expertise) == (
        "Law",
        3,
        "UTC",
        "either",
        frozenset(),
    )


def test_matrix_agrees_with_fit() -> None:
    mentees, mentors = random_instance(random.Random(7), 6, 4)
    scores = score_all(mentees, mentors)
    for i, e in enumerate(mentees):
        for j, m in enumerate(mentors):
            assert scores.matrix[i, j] == pytest.approx(fit(e, m).score)
            assert 0.0 <= scores.matrix[i, j] <= 1.0


# --- time zones -----------------------------------------------------------------------------


def test_amsterdam_evening_overlaps_new_york_afternoon() -> None:
    e = mentee(weekdays=("tue",), dayparts=("evening",), timezone="Europe/Amsterdam")
    m = mentor(weekdays=("tue",), dayparts=("afternoon",), timezone="America/New_York", capacity=1)
    scores = score_all([e], [m])
    assert scores.shared_slots[0, 0] == 1
    # Amsterdam 17-22 is 16-21 UTC in January; New York 12-17 is 17-22 UTC: 4 hours in common.
    (start_e, end_e), (start_m, end_m) = (
        utc_slots(e.weekdays, e.dayparts, e.timezone)[0],
        utc_slots(m.weekdays, m.dayparts, m.timezone)[0],
    )
    assert min(end_e, end_m) - max(start_e, start_m) == 4 * 60
    # ... while the same local daypart does not overlap for long enough
    same_local = mentor(weekdays=("tue",), dayparts=("evening",), timezone="America/New_York")
    assert score_all([e], [same_local]).shared_slots[0, 0] == 0


def test_slots_wrap_around_the_week() -> None:
    # Sunday evening in Los Angeles is Monday morning (UTC) ... and Monday 8-9 in Amsterdam
    e = mentee(weekdays=("sun",), dayparts=("evening",), timezone="America/Los_Angeles")
    m = mentor(weekdays=("mon",), dayparts=("morning",), timezone="Asia/Tokyo")
    # LA Sun 17-22 = Mon 01-06 UTC; Tokyo Mon 08-12 = Sun 23-Mon 03 UTC: 2 hours.
    assert score_all([e], [m]).shared_slots[0, 0] == 1
    (start, end) = utc_slots(e.weekdays, e.dayparts, e.timezone)[0]
    assert 0 <= start < 7 * 24 * 60 and end - start == 5 * 60


def test_reference_week_follows_daylight_saving_time() -> None:
    e = mentee(weekdays=("tue",), dayparts=("evening",), timezone="Europe/Amsterdam")
    winter = utc_slots(e.weekdays, e.dayparts, e.timezone, date(2026, 1, 6))[0]
    summer = utc_slots(e.weekdays, e.dayparts, e.timezone, date(2026, 7, 8))[0]
    assert winter[0] - summer[0] == 60


def test_unknown_time_zone_reads_as_utc() -> None:
    assert utc_slots(frozenset({"mon"}), frozenset({"morning"}), "Mars/Olympus") == (
        (8 * 60, 12 * 60),
    )


def test_slot_share_saturates() -> None:
    many = mentee(weekdays=tuple(ALL_DAYS), dayparts=("morning", "afternoon"))
    three = mentor(weekdays=("mon", "tue", "wed"), dayparts=("morning",))
    one = mentor(weekdays=("mon",), dayparts=("morning",))
    scores = score_all([many], [three, one], Weights(0, 0, 1, 0))
    assert scores.matrix[0].tolist() == pytest.approx([1.0, 1 / 3])
    # a mentee with a single slot is fully served by one shared slot
    single = mentee(weekdays=("mon",), dayparts=("morning",))
    assert score_all([single], [one], Weights(0, 0, 1, 0)).matrix[0, 0] == pytest.approx(1.0)


# --- assignment -----------------------------------------------------------------------------


def test_capacity_and_group_size_are_respected() -> None:
    mentees = [mentee(pid=i) for i in range(1, 6)]
    mentors = [mentor(pid=100, capacity=3), mentor(pid=101, capacity=1)]
    proposal = propose(mentees, mentors)
    assert [len(g) for g in proposal.groups.values()] == [3, 1]
    assert len(proposal.unmatched) == 1
    assert proposal.unmatched[0].reason.msgid == "no mentor with a good fit has room left"
    assert proposal.note is not None and proposal.note.params == {"mentees": 5, "places": 4}

    capped = propose(mentees, mentors, group_size=2)
    assert [len(g) for g in capped.groups.values()] == [2, 1]
    assert places(mentors[0], 2) == 2 and places(mentors[0]) == 3
    assert places(mentor(capacity=-1)) == 0


def test_best_total_is_not_greedy() -> None:
    # Greedy takes the single best pair (mentee 1 with A, 1.0) and leaves mentee 2 with B (0.2):
    # 1.2 in total. Giving mentee 1 to B (0.9) and mentee 2 to A (0.7) makes 1.6.
    m1 = mentee(1, topics=("career", "writing"), dayparts=("evening",))
    m2 = mentee(2, field="History", topics=("writing",), dayparts=("morning",))
    a = mentor(100, expertise=("career", "writing"), dayparts=("evening", "morning"), capacity=1)
    b = mentor(101, expertise=("career",), dayparts=("evening",), capacity=1)
    scores = score_all([m1, m2], [a, b])
    assert scores.matrix.tolist() == [pytest.approx([1.0, 0.9]), pytest.approx([0.7, 0.2])]
    proposal = propose([m1, m2], [a, b], min_fit=0.0)
    pairs = {x.mentee_id: x.mentor_id for g in proposal.groups.values() for x in g}
    assert pairs == {1: 101, 2: 100}
    assert proposal.total == pytest.approx(1.6)


def test_min_fit_leaves_bad_fits_unmatched() -> None:
    poor = mentee(1, field="History", topics=("writing",), weekdays=("mon",), dayparts=("morning",))
    good = mentee(2)
    proposal = propose([poor, good], [mentor(capacity=5)], min_fit=0.3)
    assert [a.mentee_id for a in proposal.groups[100]] == [2]
    [left] = proposal.unmatched
    assert left.mentee_id == 1
    assert left.reason.msgid == "no mentor fits well enough (best fit {fit})"
    assert left.reason.params["fit"] == 0.2
    assert proposal.note is None
    # with the threshold at that fit exactly, the pair is made
    assert not propose([poor], [mentor()], min_fit=0.2).unmatched


def test_language_incompatible_mentee_stays_unmatched() -> None:
    proposal = propose([mentee(language="en")], [mentor(language="nl")], min_fit=0.0)
    assert proposal.groups == {100: []}
    assert proposal.unmatched == [Unmatched(1, proposal.unmatched[0].reason)]
    assert proposal.unmatched[0].reason.msgid == "no common language"


def test_no_mentors() -> None:
    proposal = propose([mentee(1), mentee(2)], [])
    assert proposal.groups == {}
    assert [u.mentee_id for u in proposal.unmatched] == [1, 2]
    assert proposal.note is not None
    assert proposal.note.msgid == "there are no mentors to match with"
    assert all(u.reason == proposal.note for u in proposal.unmatched)


def test_no_mentees() -> None:
    proposal = propose([], [mentor()])
    assert proposal.groups == {100: []}
    assert proposal.unmatched == []
    assert proposal.note is not None and proposal.note.msgid == "there are no mentees to match"
    assert proposal.total == 0


def test_mentors_without_capacity() -> None:
    proposal = propose([mentee()], [mentor(capacity=0)])
    assert proposal.unmatched[0].reason.msgid == "no mentor with a good fit has room left"
    assert proposal.note is not None and proposal.note.params["places"] == 0


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError):
        propose([mentee()], [mentor()], group_size=0)
    with pytest.raises(ValueError):
        propose([mentee()], [mentor()], min_fit=1.5)
    with pytest.raises(ValueError):
        propose([mentee(1), mentee(1)], [mentor()])


def test_proposal_to_json() -> None:
    proposal = propose([mentee(1), mentee(2, language="en")], [mentor(language="nl")])
    data = proposal.to_json()
    assert list(data["groups"]) == ["100"]
    [entry] = data["groups"]["100"]
    assert entry["mentee"] == 1 and entry["fit"] == pytest.approx(proposal.total)
    assert Text.from_json(entry["reasons"][0]).msgid == "same field: {field}"
    assert data["unmatched"] == [
        {"mentee": 2, "reason": {"msgid": "no common language", "params": {}}}
    ]


# --- later intake ---------------------------------------------------------------------------


def test_place_into_existing_group_with_room() -> None:
    full = mentor(100, capacity=1)
    roomy = mentor(101, field="History", capacity=3)
    result = place(mentee(9), [full, roomy], {100: [1], 101: [2]})
    assert isinstance(result, Assignment)
    assert result.mentor_id == 101 and result.mentee_id == 9
    # the better mentor is chosen when both have room
    assert place(mentee(9), [full, roomy], {}).mentor_id == 100  # type: ignore[union-attr]


def test_place_into_a_proposal() -> None:
    proposal = propose([mentee(1), mentee(2)], [mentor(100, capacity=2)])
    result = place(mentee(3), [mentor(100, capacity=2)], proposal)
    assert isinstance(result, Unmatched)
    assert result.reason.msgid == "no mentor with a good fit has room left"
    assert isinstance(place(mentee(3), [mentor(100, capacity=3)], proposal), Assignment)
    with pytest.raises(ValueError):
        place(mentee(1), [mentor(100, capacity=3)], proposal)


def test_place_without_mentors() -> None:
    result = place(mentee(), [], {})
    assert isinstance(result, Unmatched) and result.reason.msgid.startswith("there are no mentors")


def test_existing_seats_reduce_capacity_in_propose() -> None:
    proposal = propose([mentee(1), mentee(2)], [mentor(100, capacity=2)], existing={100: [50]})
    assert len(proposal.groups[100]) == 1 and len(proposal.unmatched) == 1


# --- optimality against brute force ---------------------------------------------------------

ZONES = ("Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "UTC")


def random_instance(
    rng: random.Random, n: int, m: int
) -> tuple[list[MenteeProfile], list[MentorProfile]]:
    def some(options: tuple[str, ...], low: int, high: int) -> tuple[str, ...]:
        return tuple(rng.sample(options, rng.randint(low, high)))

    topics = ("career", "planning", "social", "writing")
    days = ("mon", "tue", "wed", "sat", "sun")
    parts = ("morning", "afternoon", "evening")
    fields = ("Law", "law ", "History", None)
    languages = ("nl", "en", "either", "either")
    mentees = [
        mentee(
            i,
            rng.choice(fields),
            some(topics, 0, 3),
            some(days, 0, 3),
            some(parts, 1, 2),
            rng.choice(ZONES),
            rng.choice(languages),
        )
        for i in range(n)
    ]
    mentors = [
        mentor(
            100 + j,
            rng.choice(fields),
            some(topics, 0, 3),
            some(days, 0, 3),
            some(parts, 1, 3),
            rng.choice(ZONES),
            rng.choice(languages),
            rng.randint(1, 2),
        )
        for j in range(m)
    ]
    return mentees, mentors


def brute_force(
    mentees: list[MenteeProfile],
    mentors: list[MentorProfile],
    weights: Weights,
    min_fit: float,
    group_size: int | None,
) -> float:
    """Best total fit over every feasible assignment, unmatched included."""
    scores = score_all(mentees, mentors, weights)
    options = [
        [None]
        + [
            j
            for j in range(len(mentors))
            if scores.compatible[i, j] and scores.matrix[i, j] >= min_fit
        ]
        for i in range(len(mentees))
    ]
    seats = [places(p, group_size) for p in mentors]
    best = 0.0
    for choice in itertools.product(*options):
        if any(choice.count(j) > seats[j] for j in range(len(mentors))):
            continue
        total = sum(scores.matrix[i, j] for i, j in enumerate(choice) if j is not None)
        best = max(best, total)
    return best


def check_feasible(
    proposal: Proposal, mentors: list[MentorProfile], min_fit: float, size: int | None
) -> None:
    capacity = {p.person_id: places(p, size) for p in mentors}
    seen: set[int] = set()
    for mentor_id, group in proposal.groups.items():
        assert len(group) <= capacity[mentor_id]
        for a in group:
            assert a.mentor_id == mentor_id
            assert a.fit.score >= min_fit
            assert a.mentee_id not in seen
            seen.add(a.mentee_id)
    assert seen.isdisjoint(u.mentee_id for u in proposal.unmatched)


@pytest.mark.parametrize("seed", range(200))
def test_optimal_against_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    mentees, mentors = random_instance(rng, rng.randint(1, 5), rng.randint(1, 3))
    weights = Weights(*(rng.choice((0.0, 1.0, 2.0, 3.0)) for _ in range(3)), 1.0)
    min_fit = rng.choice((0.0, 0.2, 0.4, 0.6))
    group_size = rng.choice((None, None, 1))
    proposal = propose(mentees, mentors, weights, group_size, min_fit)
    check_feasible(proposal, mentors, min_fit, group_size)
    assert len(proposal.unmatched) + sum(map(len, proposal.groups.values())) == len(mentees)
    expected = brute_force(mentees, mentors, weights, min_fit, group_size)
    assert proposal.total == pytest.approx(expected, abs=1e-9)


def test_assign_reuses_scores() -> None:
    mentees, mentors = random_instance(random.Random(3), 5, 3)
    scores = score_all(mentees, mentors)
    assert assign(scores).total == pytest.approx(propose(mentees, mentors).total)
