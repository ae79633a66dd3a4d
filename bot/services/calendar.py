"""Calendar invites: an RFC 5545 `.ics` for a meeting, in the reader's time zone.

A meeting keeps one UID for its whole life; every change is sent again with a higher SEQUENCE,
so calendar programs move the event instead of adding a second one. A cancellation is the same
event with METHOD:CANCEL and STATUS:CANCELLED.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

PRODID = "-//Maatje//Mentoring meetings//EN"
MIMETYPE = "text/calendar"


def invite(
    *,
    uid: str,
    sequence: int,
    starts_at: datetime,
    minutes: int,
    summary: str,
    description: str,
    timezone: str,
    now: datetime,
    cancel: bool = False,
) -> bytes:
    """One VEVENT (with its VTIMEZONE) as bytes, times written with the reader's TZID."""
    zone = ZoneInfo(timezone)
    local = starts_at.astimezone(zone)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancel else "REQUEST")
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", now.astimezone(ZoneInfo("UTC")))
    event.add("dtstart", local)
    event.add("dtend", local + timedelta(minutes=minutes))
    event.add("summary", summary)
    event.add("description", description)
    event.add("status", "CANCELLED" if cancel else "CONFIRMED")
    calendar.add_component(event)
    if timezone != "UTC":
        year = local.year
        calendar.add_missing_timezones(
            first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1)
        )
    return calendar.to_ical()


def filename(number: int) -> str:
    return f"maatje-meeting-{number}.ics"
