"""Meeting times from what a pair agreed: pure functions, no store, no clock.

A slot is a UTC start time. It falls on one of the pair's agreed weekdays at an agreed time of
day *in the mentor's time zone* (the anchor), and — where the pair spans two zones — at a
sensible local time for the other person too: first we look for a time inside an agreed time of
day for everyone, then (when the zones leave no such overlap) for one inside waking hours
(08:00–22:00 local) for everyone, agreed times of day first. Every local calendar
day is computed in its own zone, so a weekly Tuesday 19:00 stays 19:00 across a
daylight-saving change. No slot falls on a day inside a quiet period (programme time zone).

The dates a pair proposed in its kennismakingsgids for meetings 2 and 3 come first when they
are close to where the cadence would put the next meeting (`guide_slot`); otherwise the next
meeting is one cadence step after the previous one (`following`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAY_INDEX = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
DAYPARTS: dict[str, tuple[int, int, int]] = {
    # name: (window start hour, window end hour, preferred start hour)
    "morning": (8, 12, 10),
    "afternoon": (12, 18, 14),
    "evening": (18, 22, 19),
}
WAKING = (8, 22)
DEFAULT_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
DEFAULT_DAYPARTS = ("afternoon",)
INTERVAL_DAYS = {"weekly": 7, "biweekly": 14}
QUIET_RESUME = time(8, 0)
"""Nudges that fall in a quiet period wait until this time on the first day after it."""


@dataclass(frozen=True)
class QuietPeriod:
    start: date
    end: date
    """Inclusive."""
    reason: str = ""


def quiet_periods(settings: Mapping[str, Any]) -> tuple[QuietPeriod, ...]:
    """The programme's quiet periods from its stored settings."""
    return tuple(
        QuietPeriod(date.fromisoformat(q["from"]), date.fromisoformat(q["to"]), q.get("reason", ""))
        for q in settings.get("quiet_periods", [])
    )


def quiet_at(moment: datetime, periods: Iterable[QuietPeriod], timezone: str) -> QuietPeriod | None:
    """The quiet period `moment` falls in (by its local date in `timezone`), if any."""
    day = moment.astimezone(ZoneInfo(timezone)).date()
    return next((q for q in periods if q.start <= day <= q.end), None)


def after_quiet(moment: datetime, periods: Sequence[QuietPeriod], timezone: str) -> datetime:
    """`moment` itself, or — when it falls in a quiet period — 08:00 local on the first day
    after that period (repeated for back-to-back periods)."""
    zone = ZoneInfo(timezone)
    while (period := quiet_at(moment, periods, timezone)) is not None:
        moment = datetime.combine(period.end + timedelta(days=1), QUIET_RESUME, zone)
    return moment.astimezone(ZoneInfo("UTC"))


def outside_quiet(
    start: datetime, end: datetime, periods: Sequence[QuietPeriod], timezone: str
) -> timedelta:
    """How much of the time from `start` to `end` lies outside the quiet periods (each from
    00:00 on its first day to 24:00 on its last, programme time): the clock that stalled-pair
    rules count with, so a holiday neither makes a pair "stalled" nor counts towards it."""
    zone = ZoneInfo(timezone)
    total = max(end - start, timedelta(0))
    for period in periods:
        begin = datetime.combine(period.start, time(0), zone)
        stop = datetime.combine(period.end + timedelta(days=1), time(0), zone)
        total -= max(min(end, stop) - max(start, begin), timedelta(0))
    return total


def add_cadence(day: date, cadence: str, steps: int = 1) -> date:
    """The day `steps` cadence steps after `day` (calendar months for 'monthly', the day of
    the month clipped to the month's end)."""
    if cadence in INTERVAL_DAYS:
        return day + timedelta(days=INTERVAL_DAYS[cadence] * steps)
    months = day.year * 12 + day.month - 1 + steps
    year, month = divmod(months, 12)
    for last in (31, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Availability:
    weekdays: tuple[str, ...]
    dayparts: tuple[str, ...]

    @classmethod
    def from_agreement(cls, agreement: Mapping[str, Any]) -> Availability:
        weekdays = tuple(d for d in agreement.get("weekdays") or () if d in WEEKDAY_INDEX)
        dayparts = tuple(p for p in DAYPARTS if p in (agreement.get("dayparts") or ()))
        return cls(weekdays or DEFAULT_WEEKDAYS, dayparts or DEFAULT_DAYPARTS)


def _candidate_hours(daypart: str, minutes: int) -> list[int]:
    low, high, preferred = DAYPARTS[daypart]
    last = high - max(1, -(-minutes // 60))  # the meeting ends inside the window
    hours = [h for h in range(low, last + 1)]
    return sorted(hours, key=lambda h: (h != preferred, h))


def _fits(start: datetime, minutes: int, zone: str, available: Availability, strict: bool) -> bool:
    local = start.astimezone(ZoneInfo(zone))
    end = local + timedelta(minutes=minutes)
    hours = (local.hour + local.minute / 60, end.hour + end.minute / 60 or 24)
    if end.date() != local.date():
        return False
    if not strict:
        return WAKING[0] <= hours[0] and hours[1] <= WAKING[1]
    if local.weekday() not in {WEEKDAY_INDEX[d] for d in available.weekdays}:
        return False
    return any(
        DAYPARTS[p][0] <= hours[0] and hours[1] <= DAYPARTS[p][1] for p in available.dayparts
    )


def _starts(
    day: date, available: Availability, anchor_zone: str, minutes: int, strict: bool
) -> Iterator[datetime]:
    """Candidate starts on the local `day` in the anchor zone, best first: the agreed times of
    day (preferred hour first), and in the second pass then the other times of day."""
    anchor, utc = ZoneInfo(anchor_zone), ZoneInfo("UTC")
    dayparts = available.dayparts
    if not strict:
        dayparts += tuple(p for p in DAYPARTS if p not in dayparts)
    for daypart in dayparts:
        for hour in _candidate_hours(daypart, minutes):
            yield datetime.combine(day, time(hour), anchor).astimezone(utc)


@dataclass(frozen=True)
class SlotRules:
    """What a pair's meeting time must respect: the weekdays and times of day they agreed,
    their time zones (the first, the mentor's, is the anchor: slots start on its hours), the
    meeting's length, and the programme's quiet periods (dates in `quiet_zone`)."""

    available: Availability
    zones: Sequence[str]
    minutes: int = 60
    quiet: Sequence[QuietPeriod] = ()
    quiet_zone: str = "UTC"

    @property
    def anchor_zone(self) -> str:
        return self.zones[0]


def next_slot(earliest: datetime, rules: SlotRules, horizon_days: int = 120) -> datetime | None:
    """The first slot at or after `earliest` (UTC), or None within the horizon."""
    first_day = earliest.astimezone(ZoneInfo(rules.anchor_zone)).date()
    weekdays = {WEEKDAY_INDEX[d] for d in rules.available.weekdays}
    days = [
        day
        for offset in range(horizon_days)
        if (day := first_day + timedelta(days=offset)).weekday() in weekdays
    ]
    return _first_slot(days, earliest, rules, same_date=False)


def slot_on(day: date, earliest: datetime, rules: SlotRules) -> datetime | None:
    """A slot at or after `earliest` on the calendar date `day` — that date in every zone of
    the pair — or None. The same two passes as `next_slot`: the agreed weekdays and times of
    day for everyone, else waking hours for everyone (agreed times of day first); a date on a
    weekday nobody agreed on can only be met in the second pass."""
    return _first_slot([day], earliest, rules, same_date=True)


def _first_slot(
    days: Sequence[date], earliest: datetime, rules: SlotRules, same_date: bool
) -> datetime | None:
    """The first start on `days` (anchor-zone dates; with `same_date`, that date in every
    zone too) that fits everyone: the strict pass over all days first, then waking hours."""
    available, minutes = rules.available, rules.minutes
    for strict in (True, False):
        for day in days:
            for start in _starts(day, available, rules.anchor_zone, minutes, strict):
                if start < earliest or quiet_at(start, rules.quiet, rules.quiet_zone):
                    continue
                if all(
                    (not same_date or start.astimezone(ZoneInfo(z)).date() == day)
                    and _fits(start, minutes, z, available, strict)
                    for z in rules.zones
                ):
                    return start
    return None


GUIDE_WINDOW_STEPS = 2
"""A date from the guide is used for the next meeting when it lies after the previous
meeting's day and at most this many cadence steps after it."""


def guide_window(previous_day: date, cadence: str) -> tuple[date, date]:
    """The first and last date (inclusive) a guide date may have for the meeting after one on
    `previous_day` (its local date in the anchor zone)."""
    return previous_day + timedelta(days=1), add_cadence(previous_day, cadence, GUIDE_WINDOW_STEPS)


def guide_slot(
    dates: Iterable[date],
    previous: datetime,
    cadence: str,
    earliest: datetime,
    rules: SlotRules,
    used: Collection[date] = (),
) -> datetime | None:
    """A slot for the meeting after the one at `previous` on a date the pair proposed in their
    guide, or None (then the cadence decides).

    The earliest date that lies in `guide_window`, is not in `used` (dates that already had a
    meeting), and has a slot (`slot_on`) at or after `earliest`, outside quiet periods."""
    first, last = guide_window(previous.astimezone(ZoneInfo(rules.anchor_zone)).date(), cadence)
    for day in sorted(set(dates)):
        if not first <= day <= last or day in used:
            continue
        slot = slot_on(day, earliest, rules)
        if slot is not None:
            return slot
    return None


def following(previous: datetime, cadence: str, anchor_zone: str) -> datetime:
    """The earliest moment for the meeting after one at `previous`: the start of the local day
    one cadence step later."""
    zone = ZoneInfo(anchor_zone)
    day = add_cadence(previous.astimezone(zone).date(), cadence)
    return datetime.combine(day, time(0), zone).astimezone(ZoneInfo("UTC"))


def group_slots(
    earliest: datetime,
    members: Sequence[tuple[str, Availability]],
    anchor_zone: str,
    count: int = 4,
    minutes: int = 60,
    quiet: Sequence[QuietPeriod] = (),
    quiet_zone: str = "UTC",
    horizon_days: int = 21,
) -> list[datetime]:
    """Up to `count` candidate slots for a group's poll, one per local day (in `anchor_zone`),
    in time order.

    `members` holds each member's (time zone, agreed weekdays and times of day). A candidate
    starts on the hour in the anchor zone, lies inside waking hours for every member and suits
    at least one member's own weekdays and times of day (each in their own zone). Per day the
    hour that suits most members wins (a preferred start hour, then the earlier hour, on a
    tie); of the days, those whose best hour suits most members, earliest first."""
    anchor = ZoneInfo(anchor_zone)
    first_day = earliest.astimezone(anchor).date()
    preferred = {start for _, _, start in DAYPARTS.values()}
    best: list[tuple[int, datetime]] = []
    for offset in range(horizon_days):
        day = first_day + timedelta(days=offset)
        found: tuple[int, bool, int, datetime] | None = None
        for hour in range(WAKING[0], WAKING[1]):
            start = datetime.combine(day, time(hour), anchor).astimezone(ZoneInfo("UTC"))
            if start < earliest or quiet_at(start, quiet, quiet_zone):
                continue
            if not all(_fits(start, minutes, zone, a, strict=False) for zone, a in members):
                continue
            suits = sum(_fits(start, minutes, zone, a, strict=True) for zone, a in members)
            key = (-suits, hour not in preferred, hour, start)
            if suits and (found is None or key < found):
                found = key
        if found is not None:
            best.append((found[0], found[3]))
    best.sort()
    return sorted(start for _, start in best[:count])
