"""Meeting times and calendar files, without a store: a daylight-saving change, two time
zones in one pair, quiet periods, the guide's dates for meetings 2 and 3, and what an .ics
says."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from bot.domain import Meeting, MeetingStatus, Pair
from bot.services import calendar, scheduling
from bot.services.meetings import used_dates
from bot.services.scheduling import Availability, QuietPeriod, SlotRules
from flows.matchmaking import kennismaking

AMS, NYC, HNL = "Europe/Amsterdam", "America/New_York", "Pacific/Honolulu"


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def plan(earliest: datetime, count: int, cadence: str, rules: SlotRules) -> list[datetime]:
    """`count` successive meetings, each proposed one cadence step after the one before (as
    the meetings flow does after each held meeting)."""
    slots: list[datetime] = []
    while len(slots) < count and (slot := scheduling.next_slot(earliest, rules)) is not None:
        slots.append(slot)
        earliest = scheduling.following(slot, cadence, rules.anchor_zone)
    return slots


def test_a_weekly_tuesday_evening_stays_at_seven_across_the_dst_change() -> None:
    slots = plan(
        datetime(2026, 10, 12, tzinfo=UTC),
        3,
        "weekly",
        SlotRules(Availability(("tue",), ("evening",)), [AMS]),
    )
    assert [local(s, AMS).strftime("%a %d %H:%M") for s in slots] == [
        "Tue 13 19:00",
        "Tue 20 19:00",
        "Tue 27 19:00",  # after 25 October: winter time
    ]
    assert [s.hour for s in slots] == [17, 17, 18]  # so UTC moves by an hour
    assert slots[2] - slots[1] == timedelta(days=7, hours=1)


def test_two_time_zones_in_one_pair_meet_in_both_their_agreed_times_of_day() -> None:
    slots = plan(
        datetime(2026, 10, 12, tzinfo=UTC),
        4,
        "weekly",
        SlotRules(Availability(("tue",), ("afternoon", "evening")), [AMS, NYC]),
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
        SlotRules(Availability(("mon",), ("morning",)), [AMS, NYC]),
    )
    assert slot is not None  # Amsterdam mornings are night in New York
    assert local(slot, AMS).weekday() == 0
    assert local(slot, AMS).hour >= 8 and local(slot, AMS).hour + 1 <= 22
    assert local(slot, NYC).hour >= 8 and local(slot, NYC).hour + 1 <= 22


def test_quiet_periods_get_no_meetings() -> None:
    quiet = (QuietPeriod(date(2026, 10, 19), date(2026, 10, 30), "herfstvakantie"),)
    slots = plan(
        datetime(2026, 10, 12, tzinfo=UTC),
        2,
        "weekly",
        SlotRules(Availability(("tue",), ("evening",)), [AMS], quiet=quiet, quiet_zone=AMS),
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
    assert scheduling.add_cadence(date(2026, 10, 13), "weekly", 2) == date(2026, 10, 27)
    assert scheduling.add_cadence(date(2026, 12, 31), "monthly", 2) == date(2027, 2, 28)


PREVIOUS = datetime(2026, 10, 13, 17, tzinfo=UTC)  # meeting 1: Tuesday 13 October, 19:00 AMS
NEXT_MORNING = datetime(2026, 10, 14, 9, tzinfo=UTC)  # "we met" + a day's notice, roughly


def guide_slot(
    days: list[str],
    cadence: str = "weekly",
    earliest: datetime = NEXT_MORNING,
    used: frozenset[date] = frozenset(),
    **quiet,
) -> datetime | None:
    """The slot for meeting 2 of a weekly Tuesday-evening pair in Amsterdam, given the dates
    from their guide (`quiet`: the quiet periods and their zone)."""
    return scheduling.guide_slot(
        [date.fromisoformat(d) for d in days],
        PREVIOUS,
        cadence,
        earliest,
        SlotRules(Availability(("tue",), ("evening",)), [AMS], **quiet),
        used,
    )


def test_a_guide_date_comes_first_at_an_agreed_time_of_day() -> None:
    # Thursday is no agreed weekday, so the waking-hours pass: the agreed evening still first
    slot = guide_slot(["2026-10-22"])
    assert slot is not None and local(slot, AMS) == datetime(2026, 10, 22, 19, tzinfo=ZoneInfo(AMS))
    # an agreed Tuesday after the change to winter time: still 19:00, UTC moves
    slot = guide_slot(["2026-10-27"])
    assert slot is not None and local(slot, AMS) == datetime(2026, 10, 27, 19, tzinfo=ZoneInfo(AMS))
    assert slot.hour == 18
    # of several dates in the window, the earliest
    slot = guide_slot(["2026-10-27", "2026-10-15"])
    assert slot is not None and local(slot, AMS).date() == date(2026, 10, 15)


def test_the_guide_window_runs_from_the_next_day_to_two_cadence_steps() -> None:
    assert scheduling.guide_window(date(2026, 10, 13), "weekly") == (
        date(2026, 10, 14),
        date(2026, 10, 27),
    )
    assert scheduling.guide_window(date(2026, 12, 31), "monthly") == (
        date(2027, 1, 1),
        date(2027, 2, 28),
    )
    assert guide_slot(["2026-10-13"]) is None  # the day of the previous meeting
    assert guide_slot(["2026-10-12"]) is None
    assert guide_slot(["2026-10-28"]) is None  # more than two weekly steps later
    assert guide_slot(["2026-10-28"], cadence="biweekly") is not None


def test_guide_dates_that_passed_are_quiet_or_were_used_are_skipped() -> None:
    late = datetime(2026, 10, 14, 20, 30, tzinfo=UTC)  # 22:30 in Amsterdam: too late that day
    assert guide_slot(["2026-10-14"]) is not None
    assert guide_slot(["2026-10-14"], earliest=late) is None
    assert guide_slot(["2026-10-14", "2026-10-15"], earliest=late) == datetime(
        2026, 10, 15, 17, tzinfo=UTC
    )
    quiet = (QuietPeriod(date(2026, 10, 19), date(2026, 10, 23), "herfstvakantie"),)
    slot = guide_slot(["2026-10-22", "2026-10-27"], quiet=quiet, quiet_zone=AMS)
    assert slot is not None and local(slot, AMS).date() == date(2026, 10, 27)
    slot = guide_slot(["2026-10-15", "2026-10-22"], used=frozenset({date(2026, 10, 15)}))
    assert slot is not None and local(slot, AMS).date() == date(2026, 10, 22)


def test_a_guide_date_is_that_date_for_both_members() -> None:
    # Amsterdam 08:00 on Wednesday is Tuesday 21:00 in Honolulu: inside waking hours for both,
    # but not on the proposed date for the mentee
    slot = scheduling.slot_on(
        date(2026, 11, 4),
        datetime(2026, 11, 1, tzinfo=UTC),
        SlotRules(Availability(("mon",), ("morning",)), [AMS, HNL]),
    )
    assert slot is not None
    assert local(slot, AMS) == datetime(2026, 11, 4, 19, tzinfo=ZoneInfo(AMS))
    assert local(slot, HNL) == datetime(2026, 11, 4, 8, tzinfo=ZoneInfo(HNL))


def _meeting(status: str, starts_at: datetime, confirmed: tuple[str, ...] = ()) -> Meeting:
    return Meeting(
        programme_id=1,
        pair_id=1,
        number=1,
        starts_at=starts_at,
        status=status,
        confirmations={"confirmed": {who: "yes" for who in confirmed}, "met": {}},
        ics_uid="m@maatje",
        created_at=starts_at,
    )


def test_used_dates_are_those_of_meetings_held_or_confirmed() -> None:
    rows = [
        _meeting(MeetingStatus.HELD, datetime(2026, 10, 13, 17, tzinfo=UTC)),
        _meeting(MeetingStatus.MISSED, datetime(2026, 10, 15, 17, tzinfo=UTC)),
        _meeting(MeetingStatus.RESCHEDULED, datetime(2026, 10, 20, 17, tzinfo=UTC), ("1", "2")),
        _meeting(MeetingStatus.RESCHEDULED, datetime(2026, 10, 22, 17, tzinfo=UTC), ("1",)),
        _meeting(MeetingStatus.CONFIRMED, datetime(2026, 10, 27, 18, tzinfo=UTC), ("1", "2")),
        _meeting(MeetingStatus.PROPOSED, datetime(2026, 10, 29, 18, tzinfo=UTC)),
    ]
    days = [date(2026, 10, d) for d in (13, 15, 20, 27)]
    assert used_dates(rows, [AMS]) == set(days)
    # 21:00 in Amsterdam is the next morning in Tokyo: both local dates count
    late = [_meeting(MeetingStatus.HELD, datetime(2026, 10, 13, 19, tzinfo=UTC))]
    assert used_dates(late, [AMS, "Asia/Tokyo"]) == {date(2026, 10, 13), date(2026, 10, 14)}


def test_the_guide_dates_for_meeting_2_and_for_meeting_3() -> None:
    guide = {
        "mentor": {"dates": {"second": "2026-10-22", "third": "2026-11-05"}},
        "mentee": {"dates": {"second": "2026-10-20", "third": None}},
    }
    pair = Pair(
        programme_id=1,
        group_id=1,
        mentor_id=1,
        mentee_id=2,
        matched_at=PREVIOUS,
        guide=guide,
        agreement=kennismaking.agreement(guide),
    )
    assert kennismaking.meeting_dates(pair, 2) == [date(2026, 10, 20), date(2026, 10, 22)]
    assert kennismaking.meeting_dates(pair, 3) == [date(2026, 11, 5)]  # one side's date counts
    assert kennismaking.meeting_dates(pair, 1) == kennismaking.meeting_dates(pair, 4) == []
    # an agreement without the guide's fields (a pair set up elsewhere): its dates suit
    # meetings 2 and 3, and no other
    pair.guide, pair.agreement = {}, {"dates": ["2026-10-22", "not a date"]}
    assert kennismaking.meeting_dates(pair, 2) == [date(2026, 10, 22)]
    assert kennismaking.meeting_dates(pair, 3) == [date(2026, 10, 22)]
    assert kennismaking.meeting_dates(pair, 4) == []


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


def test_an_invite_is_folded_escaped_and_its_zone_changes_at_the_right_moment() -> None:
    text = 'Thema: "één", twee; drie\\vier\nvijf ' * 4
    raw = calendar.invite(
        uid="m1@maatje",
        sequence=0,
        starts_at=datetime(2026, 10, 27, 18, 0, tzinfo=UTC),
        minutes=60,
        summary="Mentoring",
        description=text,
        timezone=AMS,
        now=datetime(2026, 10, 5, 9, 0, tzinfo=UTC),
    )
    lines = raw.split(b"\r\n")
    assert lines[-1] == b"" and all(b"\n" not in line for line in lines)
    assert max(len(line) for line in lines) <= 75 and any(len(line) == 75 for line in lines)
    for line in lines:
        line.decode()  # no character is split by a fold
    (event,) = Calendar.from_ical(raw).walk("VEVENT")
    assert str(event["DESCRIPTION"]) == text
    # Onsets are local times in the offset before the change (RFC 5545 3.6.5): summer time
    # begins at 02:00 CET and ends at 03:00 CEST.
    joined = raw.decode().replace("\r\n ", "")
    assert (
        "BEGIN:DAYLIGHT\r\nDTSTART:20250330T020000\r\nRDATE:20260329T020000,20270328T020000\r\n"
        in joined
    )
    assert (
        "BEGIN:STANDARD\r\nDTSTART:20251026T030000\r\nRDATE:20261025T030000,20271031T030000\r\n"
        in joined
    )
    (zone,) = Calendar.from_ical(raw).walk("VTIMEZONE")
    as_written = zone.to_tz(lookup_tzid=False)
    for moment in (
        datetime(2026, 3, 29, 1, 30),
        datetime(2026, 3, 29, 3, 30),
        datetime(2026, 7, 1),
    ):
        mine = moment.replace(tzinfo=as_written).utcoffset()
        assert mine == moment.replace(tzinfo=ZoneInfo(AMS)).utcoffset()


def test_an_invite_for_a_zone_always_at_utc_is_written_in_utc() -> None:
    raw = _ics(timezone="Africa/Abidjan").to_ical().decode()
    assert "VTIMEZONE" not in raw and "DTSTART:20261027T180000Z" in raw
