"""Meeting times and calendar files, without a store: a daylight-saving change, two time
zones in one pair, quiet periods, and what an .ics says."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from bot.services import calendar, scheduling
from bot.services.scheduling import Availability, QuietPeriod

AMS, NYC = "Europe/Amsterdam", "America/New_York"


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def test_a_weekly_tuesday_evening_stays_at_seven_across_the_dst_change() -> None:
    slots = scheduling.plan(
        datetime(2026, 10, 12, tzinfo=UTC),
        3,
        "weekly",
        Availability(("tue",), ("evening",)),
        AMS,
        [AMS],
    )
    assert [local(s, AMS).strftime("%a %d %H:%M") for s in slots] == [
        "Tue 13 19:00",
        "Tue 20 19:00",
        "Tue 27 19:00",  # after 25 October: winter time
    ]
    assert [s.hour for s in slots] == [17, 17, 18]  # so UTC moves by an hour
    assert slots[2] - slots[1] == timedelta(days=7, hours=1)


def test_two_time_zones_in_one_pair_meet_in_both_their_agreed_times_of_day() -> None:
    slots = scheduling.plan(
        datetime(2026, 10, 12, tzinfo=UTC),
        4,
        "weekly",
        Availability(("tue",), ("afternoon", "evening")),
        AMS,
        [AMS, NYC],
    )
    for slot in slots:
        for zone in (AMS, NYC):
            assert 12 <= local(slot, zone).hour < 21, (slot, zone)
            assert local(slot, zone).weekday() == 1
    # Between 25 October (Europe) and 1 November (US) the two are five hours apart, not six.
    assert local(slots[0], AMS).hour - local(slots[0], NYC).hour == 6
    assert local(slots[2], AMS).hour - local(slots[2], NYC).hour == 5


def test_without_a_shared_time_of_day_it_falls_back_to_waking_hours() -> None:
    slot = scheduling.next_slot(
        datetime(2026, 10, 12, tzinfo=UTC),
        Availability(("mon",), ("morning",)),
        AMS,
        [AMS, NYC],
    )
    assert slot is not None  # Amsterdam mornings are night in New York
    assert local(slot, AMS).weekday() == 0
    assert local(slot, AMS).hour >= 8 and local(slot, AMS).hour + 1 <= 22
    assert local(slot, NYC).hour >= 8 and local(slot, NYC).hour + 1 <= 22


def test_quiet_periods_get_no_meetings() -> None:
    quiet = (QuietPeriod(date(2026, 10, 19), date(2026, 10, 30), "herfstvakantie"),)
    slots = scheduling.plan(
        datetime(2026, 10, 12, tzinfo=UTC),
        2,
        "weekly",
        Availability(("tue",), ("evening",)),
        AMS,
        [AMS],
        quiet=quiet,
        quiet_zone=AMS,
    )
    assert [local(s, AMS).date() for s in slots] == [date(2026, 10, 13), date(2026, 11, 3)]


def test_something_due_in_a_quiet_period_moves_to_its_end() -> None:
    quiet = (
        QuietPeriod(date(2026, 12, 21), date(2027, 1, 3)),
        QuietPeriod(date(2027, 1, 4), date(2027, 1, 4)),
    )
    moved = scheduling.after_quiet(datetime(2026, 12, 24, 12, tzinfo=UTC), quiet, AMS)
    assert local(moved, AMS) == datetime(2027, 1, 5, 8, 0, tzinfo=ZoneInfo(AMS))
    outside = datetime(2026, 12, 20, 12, tzinfo=UTC)
    assert scheduling.after_quiet(outside, quiet, AMS) == outside


def test_cadences() -> None:
    assert scheduling.add_cadence(date(2026, 1, 31), "monthly") == date(2026, 2, 28)
    assert scheduling.add_cadence(date(2026, 12, 15), "monthly") == date(2027, 1, 15)
    assert scheduling.add_cadence(date(2026, 10, 13), "biweekly") == date(2026, 10, 27)


def test_agreement_without_days_uses_weekday_afternoons() -> None:
    available = Availability.from_agreement({"weekdays": [], "dayparts": None})
    assert available.weekdays == ("mon", "tue", "wed", "thu", "fri")
    assert available.dayparts == ("afternoon",)


def _ics(**overrides) -> Calendar:
    values = {
        "uid": "m1@maatje",
        "sequence": 0,
        "starts_at": datetime(2026, 10, 27, 18, 0, tzinfo=UTC),
        "minutes": 60,
        "summary": "Mentoring: meeting 1 with Anna",
        "description": "Theme: getting to know each other",
        "timezone": AMS,
        "now": datetime(2026, 10, 5, 9, 0, tzinfo=UTC),
    }
    return Calendar.from_ical(calendar.invite(**{**values, **overrides}))


def test_an_invite_is_in_the_readers_zone_with_uid_and_sequence() -> None:
    ics = _ics()
    raw = ics.to_ical().decode()
    assert ics["METHOD"] == "REQUEST"
    assert "DTSTART;TZID=Europe/Amsterdam:20261027T190000" in raw
    assert "DTEND;TZID=Europe/Amsterdam:20261027T200000" in raw
    assert "BEGIN:VTIMEZONE" in raw and "TZID:Europe/Amsterdam" in raw
    (event,) = ics.walk("VEVENT")
    assert str(event["UID"]) == "m1@maatje" and event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == datetime(2026, 10, 27, 18, 0, tzinfo=UTC)

    other = _ics(timezone=NYC).to_ical().decode()
    assert "DTSTART;TZID=America/New_York:20261027T140000" in other


def test_a_moved_meeting_keeps_its_uid_and_a_cancellation_says_so() -> None:
    moved = _ics(sequence=1, starts_at=datetime(2026, 11, 3, 18, 0, tzinfo=UTC))
    (event,) = moved.walk("VEVENT")
    assert (str(event["UID"]), event["SEQUENCE"]) == ("m1@maatje", 1)
    cancelled = _ics(sequence=2, cancel=True)
    (event,) = cancelled.walk("VEVENT")
    assert cancelled["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 2
