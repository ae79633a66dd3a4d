"""Meeting times from what a pair agreed: pure functions, no store, no clock.

A slot is a UTC start time. It falls on one of the pair's agreed weekdays at an agreed time of
day *in the mentor's time zone* (the anchor), and — where the pair spans two zones — at a
sensible local time for the other person too: first we look for a time inside an agreed time of
day for everyone, then (when the zones leave no such overlap) for one inside waking hours
(08:00–22:00 local) for everyone, agreed times of day first. Every local calendar
day is computed in its own zone, so a weekly Tuesday 19:00 stays 19:00 across a
daylight-saving change. No slot falls on a day inside a quiet period (programme time zone).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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


def add_cadence(day: date, cadence: str) -> date:
    """The day one cadence step after `day` (a calendar month for 'monthly')."""
    if cadence in INTERVAL_DAYS:
        return day + timedelta(days=INTERVAL_DAYS[cadence])
    month = day.month % 12 + 1
    year = day.year + (day.month == 12)
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
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


def next_slot(
    earliest: datetime,
    available: Availability,
    anchor_zone: str,
    zones: Sequence[str],
    minutes: int = 60,
    quiet: Sequence[QuietPeriod] = (),
    quiet_zone: str = "UTC",
    horizon_days: int = 120,
) -> datetime | None:
    """The first slot at or after `earliest` (UTC), or None within the horizon."""
    anchor = ZoneInfo(anchor_zone)
    first_day = earliest.astimezone(anchor).date()
    weekdays = {WEEKDAY_INDEX[d] for d in available.weekdays}
    for strict in (True, False):
        for offset in range(horizon_days):
            day = first_day + timedelta(days=offset)
            if day.weekday() not in weekdays:
                continue
            dayparts = available.dayparts
            if not strict:  # the agreed times of day first, then any waking hour
                dayparts += tuple(p for p in DAYPARTS if p not in dayparts)
            for daypart in dayparts:
                for hour in _candidate_hours(daypart, minutes):
                    start = datetime.combine(day, time(hour), anchor).astimezone(ZoneInfo("UTC"))
                    if start < earliest or quiet_at(start, quiet, quiet_zone):
                        continue
                    if all(_fits(start, minutes, z, available, strict) for z in zones):
                        return start
    return None


def plan(
    first_earliest: datetime,
    count: int,
    cadence: str,
    available: Availability,
    anchor_zone: str,
    zones: Sequence[str],
    minutes: int = 60,
    quiet: Sequence[QuietPeriod] = (),
    quiet_zone: str = "UTC",
) -> list[datetime]:
    """`count` successive slots, each at least one cadence step (by local date) after the
    one before."""
    slots: list[datetime] = []
    earliest = first_earliest
    for _ in range(count):
        slot = next_slot(earliest, available, anchor_zone, zones, minutes, quiet, quiet_zone)
        if slot is None:
            break
        slots.append(slot)
        earliest = following(slot, cadence, anchor_zone)
    return slots


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
