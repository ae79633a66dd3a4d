"""Calendar invites: an RFC 5545 `.ics` for a meeting, in the reader's time zone.

A meeting keeps one UID for its whole life; every change is sent again with a higher SEQUENCE,
so calendar programs move the event instead of adding a second one. A cancellation is the same
event with METHOD:CANCEL and STATUS:CANCELLED.

The text is written here directly (CRLF line ends, lines folded at 75 octets, TEXT values
escaped): a general iCalendar library cost about a tenth of the turn that confirms a meeting.
Times are written with the reader's TZID, and the calendar carries that zone's VTIMEZONE for
the year before the meeting to the year after it; a reader in UTC, or in a zone that is at
UTC+0 all that time, gets UTC times and no VTIMEZONE.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

PRODID = "-//Maatje//Mentoring meetings//EN"
MIMETYPE = "text/calendar"
_LINE_OCTETS = 75


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
    local = starts_at.astimezone(ZoneInfo(timezone))
    zone = vtimezone(timezone, local.year)
    tzid = timezone if zone else None
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        f"METHOD:{'CANCEL' if cancel else 'REQUEST'}",
        *zone,
        "BEGIN:VEVENT",
        f"SUMMARY:{_text(summary)}",
        _time("DTSTART", local, tzid),
        _time("DTEND", local + timedelta(minutes=minutes), tzid),
        _time("DTSTAMP", now.astimezone(UTC), None),
        f"UID:{_text(uid)}",
        f"SEQUENCE:{int(sequence)}",
        f"DESCRIPTION:{_text(description)}",
        f"STATUS:{'CANCELLED' if cancel else 'CONFIRMED'}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(_folded(line) for line in lines).encode()


def filename(number: int) -> str:
    return f"maatje-meeting-{number}.ics"


def _text(value: str) -> str:
    """A TEXT value escaped (RFC 5545 3.3.11): backslash, semicolon, comma and line breaks."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def _time(name: str, moment: datetime, tzid: str | None) -> str:
    """A DATE-TIME property: local time with its TZID, or UTC (`Z`) without one."""
    if tzid is None:
        return f"{name}:{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return f"{name};TZID={tzid}:{moment:%Y%m%dT%H%M%S}"


def _folded(line: str) -> str:
    """The content line with CRLF, folded so that no line exceeds 75 octets (a continuation
    starts with a space); a UTF-8 sequence is never split."""
    data = line.encode()
    if len(data) <= _LINE_OCTETS:
        return line + "\r\n"
    parts, start, room = [], 0, _LINE_OCTETS
    while len(data) - start > room:
        end = start + room
        while data[end] & 0xC0 == 0x80:  # a continuation byte: cut before its character
            end -= 1
        parts.append(data[start:end].decode())
        start, room = end, _LINE_OCTETS - 1
    parts.append(data[start:].decode())
    return "\r\n ".join(parts) + "\r\n"


@lru_cache(maxsize=64)
def vtimezone(timezone: str, year: int) -> tuple[str, ...]:
    """The VTIMEZONE of `timezone` from 1 January of the year before `year` to 1 January two
    years after it: the offset at the start, then each kind of transition once with its later
    dates as RDATEs. Onsets are local times in the offset before the change (RFC 5545 3.6.5).
    Empty for a zone at UTC+0 throughout (its times are written in UTC)."""
    zone = ZoneInfo(timezone)
    first = datetime(year - 1, 1, 1, tzinfo=zone)
    last = datetime(year + 2, 1, 1, tzinfo=zone)
    start = _state(first)
    changes = _transitions(zone, first.astimezone(UTC), last.astimezone(UTC))
    if not changes and not start[1]:
        return ()
    observances: dict[tuple, list[datetime]] = {(*start, start[1]): [first.replace(tzinfo=None)]}
    before = start
    for moment in changes:
        after = _state(moment.astimezone(zone))
        onset = (moment + before[1]).replace(tzinfo=None)
        observances.setdefault((*after, before[1]), []).append(onset)
        before = after
    lines = [
        "BEGIN:VTIMEZONE",
        f"TZID:{timezone}",
        f"COMMENT:This timezone only works from {first:%Y-%m-%d} to {last:%Y-%m-%d}.",
    ]
    for (daylight, offset, name, offset_from), onsets in observances.items():
        kind = "DAYLIGHT" if daylight else "STANDARD"
        lines += [f"BEGIN:{kind}", f"DTSTART:{onsets[0]:%Y%m%dT%H%M%S}"]
        if onsets[1:]:
            lines.append("RDATE:" + ",".join(f"{onset:%Y%m%dT%H%M%S}" for onset in onsets[1:]))
        lines += [
            f"TZNAME:{_text(name)}",
            f"TZOFFSETFROM:{_offset(offset_from)}",
            f"TZOFFSETTO:{_offset(offset)}",
            f"END:{kind}",
        ]
    lines.append("END:VTIMEZONE")
    return tuple(lines)


def _state(moment: datetime) -> tuple[bool, timedelta, str]:
    """What is observed at `moment`: daylight saving (a positive DST), UTC offset, name."""
    dst = moment.dst() or timedelta(0)
    return dst > timedelta(0), moment.utcoffset() or timedelta(0), moment.tzname() or ""


def _transitions(zone: ZoneInfo, first: datetime, last: datetime) -> list[datetime]:
    """The UTC moments in [first, last) at which the zone's offset or name changes: found a day
    at a time, then to the second."""
    found: list[datetime] = []
    at, observed = first, _observed(zone, first)
    while at < last:
        step = min(at + timedelta(days=1), last)
        if _observed(zone, step) == observed:
            at = step
            continue
        low, high = at, step  # the first change lies in (low, high]
        while high - low > timedelta(seconds=1):
            middle = (low + (high - low) / 2).replace(microsecond=0)
            if _observed(zone, middle) == observed:
                low = middle
            else:
                high = middle
        found.append(high)
        at, observed = high, _observed(zone, high)
    return found


def _observed(zone: ZoneInfo, moment: datetime) -> tuple[timedelta, str]:
    return _state(moment.astimezone(zone))[1:]


def _offset(offset: timedelta) -> str:
    """A UTC-OFFSET value: +HHMM, or +HHMMSS when it has seconds."""
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")
