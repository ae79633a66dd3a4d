"""Assignment: form mentor groups that maximise the total fit, as pure functions.

Each mentor offers `places` seats: their capacity, capped by the programme's group size. The
problem is a rectangular assignment on a mentees × seats matrix, solved exactly with
`scipy.optimize.linear_sum_assignment` (not greedily). Next to the mentors' seats there is one
"stay unmatched" column per mentee, worth 0; pairs that are language-incompatible or fit below
`min_fit` are forbidden. The optimum therefore maximises the sum of the fits of the pairs it
makes, never makes a pair below the threshold, and leaves a mentee unmatched only when giving
them a seat would lower the total (capacity is short) or no mentor is good enough. Everyone left
out gets a reason in words. Pairs that must not be made again (a match that ended) are passed as
`forbidden` and treated like an incompatible language.

The proposal is only a proposal: a coordinator reviews it, and nothing is stored here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.i18n import Text, _l
from bot.services.matching import (
    Fit,
    MenteeProfile,
    MentorProfile,
    Scores,
    Weights,
    score_all,
)

if TYPE_CHECKING:
    import numpy as np

NO_MENTORS = _l("there are no mentors to match with")
NO_MENTEES = _l("there are no mentees to match")
NO_LANGUAGE = _l("no common language")
NO_ROOM = _l("no mentor with a good fit has room left")
ONLY_EARLIER = _l("the only mentors with a common language were matched with them before")
_FORBIDDEN = 1.0  # any positive cost: a free "unmatched" column (cost 0) always beats it


@dataclass(frozen=True)
class Assignment:
    mentee_id: int
    mentor_id: int
    fit: Fit


@dataclass(frozen=True)
class Unmatched:
    mentee_id: int
    reason: Text


@dataclass(frozen=True)
class Proposal:
    groups: dict[int, list[Assignment]]
    """Mentor id -> new assignments, best fit first; every mentor appears, possibly empty."""
    unmatched: list[Unmatched]
    note: Text | None = None
    """Something the coordinator should know about the whole proposal (no mentors, no mentees,
    more mentees than places)."""

    @property
    def total(self) -> float:
        return sum(a.fit.score for group in self.groups.values() for a in group)

    def to_json(self) -> dict[str, Any]:
        """In the shape `MatchProposal` stores: groups keyed by mentor id as text."""
        return {
            "groups": {
                str(mentor): [
                    {
                        "mentee": a.mentee_id,
                        "fit": a.fit.score,
                        "reasons": [r.to_json() for r in a.fit.reasons],
                    }
                    for a in group
                ]
                for mentor, group in self.groups.items()
            },
            "unmatched": [
                {"mentee": u.mentee_id, "reason": u.reason.to_json()} for u in self.unmatched
            ],
            "note": self.note.to_json() if self.note else None,
        }


def places(mentor: MentorProfile, group_size: int | None = None) -> int:
    """Seats a mentor offers: their capacity, capped by the group size when there is one."""
    seats = mentor.capacity if group_size is None else min(mentor.capacity, group_size)
    return max(seats, 0)


def _check(group_size: int | None, min_fit: float) -> None:
    if group_size is not None and group_size < 1:
        raise ValueError("group_size must be at least 1")
    if not 0.0 <= min_fit <= 1.0:
        raise ValueError("min_fit must lie in [0, 1]")


def assign(
    scores: Scores,
    group_size: int | None = None,
    min_fit: float = 0.2,
    *,
    existing: Mapping[int, Collection[int]] | None = None,
    topic_labels: Mapping[str, Any] | None = None,
    forbidden: Collection[tuple[int, int]] = (),
) -> Proposal:
    """The optimal proposal for already computed scores (see `propose`)."""
    import numpy as np  # here, not at the top: most processes never match (~65 MB)
    from scipy.optimize import linear_sum_assignment

    _check(group_size, min_fit)
    mentees, mentors = scores.mentees, scores.mentors
    ids = [p.person_id for p in mentees]
    if len(set(ids)) != len(ids) or len({p.person_id for p in mentors}) != len(mentors):
        raise ValueError("each mentee and each mentor may appear only once")
    existing = existing or {}
    if not mentors:
        return Proposal({}, [Unmatched(i, NO_MENTORS) for i in ids], NO_MENTORS)
    if not mentees:
        return Proposal({p.person_id: [] for p in mentors}, [], NO_MENTEES)

    n = len(mentees)
    seats = [
        min(n, max(0, places(p, group_size) - len(existing.get(p.person_id, ())))) for p in mentors
    ]
    seat_mentor = np.repeat(np.arange(len(mentors)), seats)
    open_ = scores.compatible.copy()
    if forbidden:
        rows_of = {p: i for i, p in enumerate(ids)}
        columns_of = {p.person_id: j for j, p in enumerate(mentors)}
        for mentee_id, mentor_id in forbidden:
            if mentee_id in rows_of and mentor_id in columns_of:
                open_[rows_of[mentee_id], columns_of[mentor_id]] = False
    allowed = open_ & (scores.matrix >= min_fit)
    rows, cols = linear_sum_assignment(_cost(scores.matrix, allowed, seats))

    groups: dict[int, list[Assignment]] = {p.person_id: [] for p in mentors}
    placed = set()
    for i, c in zip(rows, cols, strict=True):
        if c < len(seat_mentor) and allowed[i, seat_mentor[c]]:
            j = int(seat_mentor[c])
            fit = scores.fit(int(i), j, topic_labels)
            groups[mentors[j].person_id].append(Assignment(ids[i], mentors[j].person_id, fit))
            placed.add(int(i))
    for group in groups.values():
        group.sort(key=lambda a: -a.fit.score)
    unmatched = [
        Unmatched(ids[i], _why(scores, open_, i, min_fit)) for i in range(n) if i not in placed
    ]
    total = sum(seats)
    note = _l("{mentees} mentees for {places} places", mentees=n, places=total)
    return Proposal(groups, unmatched, note if n > total else None)


def _cost(matrix: np.ndarray, allowed: np.ndarray, seats: Sequence[int]) -> np.ndarray:
    """The cost of placing each mentee (rows) in each seat (a column per mentor's seat, then
    one column per mentee for staying unmatched, at cost 0): the fit, negated, or
    `_FORBIDDEN`. Filled in mentor by mentor, in place: the matrix is large (2.2 × n² numbers
    for n mentees and 1.2 n seats) and the process keeps much of the memory it once took."""
    import numpy as np

    n = matrix.shape[0]
    cost = np.zeros((n, sum(seats) + n))
    column = 0
    for j, count in enumerate(seats):
        if count:
            fits = np.where(allowed[:, j], -matrix[:, j], _FORBIDDEN)
            cost[:, column : column + count] = fits.reshape(n, 1)
            column += count
    return cost


def _why(scores: Scores, open_: np.ndarray, i: int, min_fit: float) -> Text:
    if not scores.compatible[i].any():
        return NO_LANGUAGE
    if not open_[i].any():
        return ONLY_EARLIER
    best = float(scores.matrix[i][open_[i]].max())
    if best < min_fit:
        return _l("no mentor fits well enough (best fit {fit})", fit=round(best, 2))
    return NO_ROOM


def propose(
    mentees: Sequence[MenteeProfile],
    mentors: Sequence[MentorProfile],
    weights: Weights | None = None,
    group_size: int | None = None,
    min_fit: float = 0.2,
    *,
    existing: Mapping[int, Collection[int]] | None = None,
    week: date | None = None,
    topic_labels: Mapping[str, Any] | None = None,
    forbidden: Collection[tuple[int, int]] = (),
) -> Proposal:
    """Assign mentees to mentors, maximising the total fit.

    `existing` maps a mentor id to the mentee ids already in their group: those seats are taken
    (use it to match a later intake); the proposal lists only new assignments. `forbidden`
    holds (mentee id, mentor id) pairs never to propose (their match ended). `week` is the
    reference week for time zones (e.g. the programme's start); `topic_labels` maps topic values
    to the labels shown in reasons. Raises ValueError on a bad group size or threshold, or on
    duplicate people; no mentors, no mentees or too few places are answered in the proposal.
    """
    return assign(
        score_all(mentees, mentors, weights, week=week),
        group_size,
        min_fit,
        existing=existing,
        topic_labels=topic_labels,
        forbidden=forbidden,
    )


def place(
    mentee: MenteeProfile,
    mentors: Sequence[MentorProfile],
    groups: Proposal | Mapping[int, Collection[int]],
    weights: Weights | None = None,
    group_size: int | None = None,
    min_fit: float = 0.2,
    *,
    week: date | None = None,
    topic_labels: Mapping[str, Any] | None = None,
) -> Assignment | Unmatched:
    """Match one later mentee into an existing group with room left: the best-fitting mentor
    with a free seat, or Unmatched with the reason. `groups` is a proposal or a mapping from
    mentor id to the mentee ids in their group."""
    if isinstance(groups, Proposal):
        groups = {m: [a.mentee_id for a in group] for m, group in groups.groups.items()}
    if any(mentee.person_id in members for members in groups.values()):
        raise ValueError("this mentee is already in a group")
    proposal = propose(
        [mentee],
        mentors,
        weights,
        group_size,
        min_fit,
        existing=groups,
        week=week,
        topic_labels=topic_labels,
    )
    if proposal.unmatched:
        return proposal.unmatched[0]
    return next(a for group in proposal.groups.values() for a in group)
