"""Matching: how well a mentee and a mentor fit, and why, as pure functions over profiles.

A fit has four components, each in [0, 1], combined as a weighted mean (`Weights`):

* field — the mentee's study programme and the mentor's field are the same after trimming,
  case-folding and dropping punctuation ("Law", " law. " and "LAW" all match);
* topics — the share of the mentee's topics that the mentor offers as expertise;
* availability — shared weekly time slots, see below;
* language — compatible preferences ("either" goes with anything). Dutch-only with
  English-only is a hard incompatibility: the whole fit is 0 and the pair is never proposed.

Availability. Everyone states weekdays × dayparts in their own time zone (mornings 08-12,
afternoons 12-17, evenings 17-22 local). Each slot becomes a UTC interval on one reference week
(by default a January week; pass the programme's start as `week` so the offsets, including
daylight saving time, are those that will apply), measured in minutes from that Monday 00:00
UTC and wrapped around the week, so Sunday evening in New York is Monday in UTC. A mentee slot
counts as shared when it overlaps the mentor's availability for at least an hour. The component
is `min(shared, 3) / min(mentee slots, 3)`: three shared slots, or all of a mentee's slots when
they gave fewer, are enough to plan meetings.

Scores for all pairs are computed at once with numpy (`score_all`); `fit` scores one pair the
same way. Reasons are lazy `Text`s, rendered later in the reader's language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.i18n import Text, _l, _n

if TYPE_CHECKING:  # numpy is imported when scores are computed: few processes match
    import numpy as np

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAYPARTS = {"morning": (8, 12), "afternoon": (12, 17), "evening": (17, 22)}
EITHER = "either"
LANGUAGE_NAMES = {"nl": _l("Dutch"), "en": _l("English")}
DEFAULT_WEEK = date(2026, 1, 5)
"""Reference week when none is given: a January week (standard time in the north)."""
MIN_OVERLAP = 60
"""Minutes a mentee slot must overlap the mentor's availability to count as shared."""
ENOUGH_SLOTS = 3
WEEK = 7 * 24 * 60


def _language(value: str | None) -> str:
    return (value or "").strip().lower() or EITHER


def languages_compatible(first: str | None, second: str | None) -> bool:
    """Whether two language preferences go together ("either" goes with anything)."""
    a, b = _language(first), _language(second)
    return EITHER in (a, b) or a == b


def normalise_field(value: str | None) -> str | None:
    """'  Law. ' -> 'law'; None for empty answers."""
    if not value:
        return None
    words = re.sub(r"[^\w]+", " ", value.casefold()).split()
    return " ".join(words) or None


@dataclass(frozen=True)
class MenteeProfile:
    person_id: int
    field: str | None
    topics: frozenset[str]
    weekdays: frozenset[str]
    dayparts: frozenset[str]
    timezone: str
    language: str
    name: str

    @classmethod
    def from_answers(
        cls, person_id: int, name: str, timezone: str | None, answers: Mapping[str, Any]
    ) -> MenteeProfile:
        """From the intake's stored answers (keys studies, topics, weekdays, dayparts, language)."""
        return cls(
            person_id,
            (answers.get("studies") or {}).get("programme"),
            frozenset(answers.get("topics") or ()),
            frozenset(answers.get("weekdays") or ()),
            frozenset(answers.get("dayparts") or ()),
            timezone or "UTC",
            answers.get("language") or EITHER,
            name,
        )


@dataclass(frozen=True)
class MentorProfile:
    person_id: int
    field: str | None
    expertise: frozenset[str]
    weekdays: frozenset[str]
    dayparts: frozenset[str]
    timezone: str
    language: str
    capacity: int
    name: str

    @classmethod
    def from_answers(
        cls, person_id: int, name: str, timezone: str | None, answers: Mapping[str, Any]
    ) -> MentorProfile:
        """From the intake's stored answers (background, expertise, capacity, availability)."""
        return cls(
            person_id,
            (answers.get("background") or {}).get("field"),
            frozenset(answers.get("expertise") or ()),
            frozenset(answers.get("weekdays") or ()),
            frozenset(answers.get("dayparts") or ()),
            timezone or "UTC",
            answers.get("language") or EITHER,
            int(answers.get("capacity") or 0),
            name,
        )


@dataclass(frozen=True)
class Weights:
    field: float = 3.0
    topics: float = 2.0
    availability: float = 3.0
    language: float = 2.0

    def __post_init__(self) -> None:
        values = [getattr(self, f.name) for f in fields(self)]
        if any(v < 0 for v in values) or sum(values) <= 0:
            raise ValueError("matching weights must be >= 0 and not all zero")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> Weights:
        """From a programme's config, e.g. {"field": 1, "availability": 5}; missing keys keep
        their default, unknown keys or non-numbers raise ValueError."""
        data = data or {}
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown matching weights: {', '.join(sorted(unknown))}")
        for key, value in data.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"matching weight {key!r} must be a number")
        return cls(**{k: float(v) for k, v in data.items()})

    @property
    def total(self) -> float:
        return self.field + self.topics + self.availability + self.language


@dataclass(frozen=True)
class Fit:
    score: float
    """Weighted mean of the components, in [0, 1]; 0 when the languages are incompatible."""
    reasons: tuple[Text, ...]


@lru_cache(maxsize=4096)
def utc_slots(
    weekdays: frozenset[str], dayparts: frozenset[str], timezone: str, week: date = DEFAULT_WEEK
) -> tuple[tuple[int, int], ...]:
    """Each stated slot as (start, end) minutes from the reference Monday 00:00 UTC; start is
    wrapped into the week, end may run past it. Unknown time zones are read as UTC."""
    try:
        zone: Any = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    monday = week - timedelta(days=week.weekday())
    origin = datetime.combine(monday, time(0), tzinfo=UTC)
    slots = []
    for index, day in enumerate(DAYS):
        if day not in weekdays:
            continue
        for part, (begin, end) in DAYPARTS.items():
            if part not in dayparts:
                continue
            local = monday + timedelta(days=index)
            start = datetime.combine(local, time(begin), tzinfo=zone) - origin
            stop = datetime.combine(local, time(end), tzinfo=zone) - origin
            minutes = int(start.total_seconds()) // 60
            length = int((stop - start).total_seconds()) // 60
            slots.append((minutes % WEEK, minutes % WEEK + length))
    return tuple(slots)


MENTORS_AT_ONCE = 32
"""Mentors whose availability is compared with every mentee's at once: a minute mask of two
weeks per mentor (and the mentors × mentee slots overlaps) for all of them at once took
~80 MB at 1,000 mentees and 200 mentors, and the process keeps much of what it once took."""


def _availability_prefix(mentors: Sequence[MentorProfile], week: date) -> np.ndarray:
    """Mentor availability as minute masks over two weeks, so mentee slots that run past the
    end of the week need no special case, summed up (prefix sums give overlaps by
    subtraction): row j, column t holds the minutes mentor j is available before minute t."""
    import numpy as np

    avail = np.zeros((len(mentors), 2 * WEEK + 1), dtype=np.int32)
    for j, p in enumerate(mentors):
        for start, end in utc_slots(p.weekdays, p.dayparts, p.timezone, week):
            avail[j, start + 1 : end + 1] = 1
            if end > WEEK:
                avail[j, 1 : end - WEEK + 1] = 1
    avail[:, WEEK + 1 :] = avail[:, 1 : WEEK + 1]
    return np.cumsum(avail, axis=1, dtype=np.int32)


class Scores:
    """Fit of every mentee (rows) with every mentor (columns), with what explains it."""

    def __init__(
        self,
        mentees: Sequence[MenteeProfile],
        mentors: Sequence[MentorProfile],
        weights: Weights | None = None,
        week: date | None = None,
    ) -> None:
        import numpy as np  # here, not at the top: most processes never match

        self.mentees, self.mentors = list(mentees), list(mentors)
        n, m = len(self.mentees), len(self.mentors)
        weights = weights or Weights()
        week = week or DEFAULT_WEEK

        fields_ = {f for p in [*self.mentees, *self.mentors] if (f := normalise_field(p.field))}
        ids = {f: i for i, f in enumerate(sorted(fields_))}
        e_field = np.array([ids.get(normalise_field(p.field) or "", -1) for p in self.mentees])
        m_field = np.array([ids.get(normalise_field(p.field) or "", -2) for p in self.mentors])
        self.same_field = e_field.reshape(n, 1) == m_field.reshape(1, m)

        topics = sorted({t for p in self.mentees for t in p.topics})
        column = {t: i for i, t in enumerate(topics)}
        wanted = np.zeros((n, len(topics)))
        offered = np.zeros((m, len(topics)))
        for i, p in enumerate(self.mentees):
            wanted[i, [column[t] for t in p.topics]] = 1
        for j, p in enumerate(self.mentors):
            offered[j, [column[t] for t in p.expertise if t in column]] = 1
        self.shared_topics = (wanted @ offered.T).round().astype(int)
        topic_part = self.shared_topics / np.maximum(wanted.sum(axis=1), 1).reshape(n, 1)

        self.shared_slots = np.zeros((n, m), dtype=int)
        own_slots = np.zeros(n)
        if n and m:
            self._count_slots(week, own_slots)
        slot_part = np.minimum(self.shared_slots, ENOUGH_SLOTS) / np.maximum(
            np.minimum(own_slots, ENOUGH_SLOTS), 1
        ).reshape(n, 1)

        e_lang = np.array([_language(p.language) for p in self.mentees], dtype=object)
        m_lang = np.array([_language(p.language) for p in self.mentors], dtype=object)
        self.compatible = (
            (e_lang.reshape(n, 1) == EITHER)
            | (m_lang.reshape(1, m) == EITHER)
            | (e_lang.reshape(n, 1) == m_lang.reshape(1, m))
        )
        total = (
            weights.field * self.same_field
            + weights.topics * topic_part
            + weights.availability * slot_part
            + weights.language
        ) / weights.total
        self.matrix: np.ndarray = np.where(self.compatible, total, 0.0)

    def _count_slots(self, week: date, own_slots: np.ndarray) -> None:
        import numpy as np

        starts: list[int] = []
        ends: list[int] = []
        for i, p in enumerate(self.mentees):
            slots = utc_slots(p.weekdays, p.dayparts, p.timezone, week)
            own_slots[i] = len(slots)
            starts += [s for s, _ in slots]
            ends += [e for _, e in slots]
        if not starts:
            return
        has = own_slots > 0
        first = (np.cumsum(own_slots) - own_slots)[has].astype(int)
        for begin in range(0, len(self.mentors), MENTORS_AT_ONCE):
            mentors = self.mentors[begin : begin + MENTORS_AT_ONCE]
            prefix = _availability_prefix(mentors, week)
            overlap = prefix[:, ends] - prefix[:, starts]  # mentors × all mentee slots, in order
            shared = (overlap >= MIN_OVERLAP).T.astype(int)
            self.shared_slots[has, begin : begin + len(mentors)] = np.add.reduceat(
                shared, first, axis=0
            )

    def fit(self, i: int, j: int, topic_labels: Mapping[str, Any] | None = None) -> Fit:
        """The fit of mentee row `i` with mentor column `j`, with its reasons in words."""
        mentee, mentor = self.mentees[i], self.mentors[j]
        if not self.compatible[i, j]:
            return Fit(0.0, (_l("no common language"),))
        reasons: list[Text] = []
        if self.same_field[i, j]:
            reasons.append(_l("same field: {field}", field=(mentee.field or "").strip()))
        shared = sorted(mentee.topics & mentor.expertise)
        if shared:
            labels = [(topic_labels or {}).get(t, t) for t in shared]
            reasons.append(
                _n(
                    "{count} shared topic: {topics}",
                    "{count} shared topics: {topics}",
                    len(shared),
                    topics=labels,
                )
            )
        slots = int(self.shared_slots[i, j])
        reasons.append(_n("{count} shared time slot", "{count} shared time slots", slots))
        language = _language(mentee.language)
        if language == _language(mentor.language) and language in LANGUAGE_NAMES:
            reasons.append(_l("both prefer {language}", language=LANGUAGE_NAMES[language]))
        return Fit(float(self.matrix[i, j]), tuple(reasons))


def score_all(
    mentees: Sequence[MenteeProfile],
    mentors: Sequence[MentorProfile],
    weights: Weights | None = None,
    *,
    week: date | None = None,
) -> Scores:
    """Scores for every mentee × mentor pair (`.matrix`, shape len(mentees) × len(mentors))."""
    return Scores(mentees, mentors, weights, week)


def fit(
    mentee: MenteeProfile,
    mentor: MentorProfile,
    weights: Weights | None = None,
    *,
    week: date | None = None,
    topic_labels: Mapping[str, Any] | None = None,
) -> Fit:
    """How well one mentee and one mentor fit, and why."""
    return Scores([mentee], [mentor], weights, week).fit(0, 0, topic_labels)
