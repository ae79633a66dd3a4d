"""The `[[programmes]]` section: one programme's calendar, people, meetings and evaluation."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config.model import AgendaItem, ProgrammeConfig, QuietPeriod
from bot.config.section import ConfigError, Section
from bot.i18n import LANGUAGES

CADENCES = ("weekly", "biweekly", "monthly")
MIN_POLL_RESPONSES = 5
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _timezone(section: Section, name: str, default: Any = ...) -> str:
    value = section.text(name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(section.key(name), f"unknown time zone {value!r}") from None
    return value


def _date(section: Section, name: str) -> date:
    value = section.get(name, (date, str))
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ConfigError(
                section.key(name), f"must be a date (YYYY-MM-DD), not {value!r}"
            ) from None
    return value


WEIGHT_KEYS = ("field", "topics", "availability", "language")


def _weights(s: Section) -> dict[str, float]:
    w = Section(s.get("matching_weights", dict, {}), s.key("matching_weights"))
    weights = {}
    for key in WEIGHT_KEYS:
        value = w.get(key, (int, float), None)
        if value is not None:
            if value < 0:
                raise ConfigError(w.key(key), "must not be negative")
            weights[key] = float(value)
    w.finish()
    return weights


def _agenda(s: Section) -> tuple[AgendaItem, ...]:
    items = []
    for i, raw in enumerate(s.get("meeting_agenda", list, [])):
        a = Section(raw, f"{s.key('meeting_agenda')}[{i}]")
        items.append(AgendaItem(a.text("theme"), a.text("exercise", "")))
        a.finish()
    return tuple(items)


def _nudge_hours(s: Section) -> tuple[int, ...]:
    hours = s.get("nudge_hours", list, [24, 1])
    if not all(isinstance(h, int) and not isinstance(h, bool) and 0 < h <= 24 * 14 for h in hours):
        raise ConfigError(s.key("nudge_hours"), "must be a list of whole hours from 1 to 336")
    return tuple(sorted(set(hours), reverse=True))


def _meeting_keys(s: Section) -> dict[str, Any]:
    values = {
        "meeting_minutes": s.get("meeting_minutes", int, 60),
        "nudge_hours": _nudge_hours(s),
        "meeting_agenda": _agenda(s),
        "stalled_first_meeting_days": s.get("stalled_first_meeting_days", int, 21),
        "stalled_missed_in_row": s.get("stalled_missed_in_row", int, 2),
        "stalled_silence_days": s.get("stalled_silence_days", int, 10),
        "stalled_step_days": s.get("stalled_step_days", int, 3),
        "digest_weekday": s.text("digest_weekday", "monday", choices=WEEKDAYS),
    }
    if not 10 <= values["meeting_minutes"] <= 480:
        raise ConfigError(s.key("meeting_minutes"), "must be between 10 and 480")
    for key in ("stalled_first_meeting_days", "stalled_missed_in_row", "stalled_silence_days"):
        if values[key] < 0:
            raise ConfigError(s.key(key), "must not be negative (0 switches the rule off)")
    if values["stalled_step_days"] < 1:
        raise ConfigError(s.key("stalled_step_days"), "must be at least 1")
    return values


def _evaluation_keys(s: Section) -> dict[str, Any]:
    """Polls (the k threshold, reminders) and certificates (text and criteria)."""
    c = Section(s.get("certificate_criteria", dict, {"mentees": 1}), s.key("certificate_criteria"))
    criteria = {
        "mentees": c.get("mentees", int, 1),
        "meetings": c.get("meetings", int, 1),
        "evaluation": c.text("evaluation", ""),
    }
    c.finish()
    comprised = []
    for i, raw in enumerate(s.get("certificate_comprised", list, [])):
        entry = Section(raw, f"{s.key('certificate_comprised')}[{i}]")
        comprised.append({"nl": entry.text("nl"), "en": entry.text("en")})
        entry.finish()
    values = {
        "retention_days": s.get("retention_days", int, 365),
        "poll_min_responses": s.get("poll_min_responses", int, 5),
        "poll_reminder_days": s.get("poll_reminder_days", int, 3),
        "poll_reminders": s.get("poll_reminders", int, 2),
        "final_evaluation_anonymous": s.get("final_evaluation_anonymous", bool, True),
        "institution": s.text("institution", ""),
        "certificate_signer": s.text("certificate_signer", ""),
        "certificate_signer_role": s.text("certificate_signer_role", ""),
        "certificate_criteria": criteria,
        "certificate_comprised": tuple(comprised),
    }
    if values["retention_days"] < 0:
        raise ConfigError(s.key("retention_days"), "must not be negative (0 keeps everything)")
    if values["poll_min_responses"] < MIN_POLL_RESPONSES:
        raise ConfigError(
            s.key("poll_min_responses"),
            f"must be at least {MIN_POLL_RESPONSES}: with fewer answers, results can show "
            "who said what",
        )
    return values


def parse_programme(data: Any, index: int) -> ProgrammeConfig:
    s = Section(data, f"programmes[{index}]")
    slug = s.text("slug")
    if not slug.replace("-", "").replace("_", "").isalnum() or slug.lower() != slug:
        raise ConfigError(s.key("slug"), "use lower-case letters, digits, '-' and '_' only")
    start, end = _date(s, "start"), _date(s, "end")
    if end < start:
        raise ConfigError(s.key("end"), "must not be before start")
    meetings = s.get("meetings", int)
    if not 1 <= meetings <= 52:
        raise ConfigError(s.key("meetings"), "must be between 1 and 52")
    quiet = []
    for i, item in enumerate(s.get("quiet_periods", list, [])):
        q = Section(item, f"{s.key('quiet_periods')}[{i}]")
        period = QuietPeriod(_date(q, "from"), _date(q, "to"), q.text("reason", ""))
        if period.end < period.start:
            raise ConfigError(q.key("to"), "must not be before 'from'")
        q.finish()
        quiet.append(period)
    coordinators = {}
    c = Section(s.get("coordinators", dict, {}), s.key("coordinators"))
    for platform in ("slack", "discord", "teams", "console"):
        ids = c.get(platform, list, [])
        if not all(isinstance(i, str | int) and not isinstance(i, bool) for i in ids):
            raise ConfigError(c.key(platform), "must be a list of user ids")
        coordinators[platform] = tuple(str(i) for i in ids)
    c.finish()
    programme = ProgrammeConfig(
        name=s.text("name"),
        slug=slug,
        language=s.text("language", choices=LANGUAGES),
        timezone=_timezone(s, "timezone"),
        start=start,
        end=end,
        meeting_cadence=s.text("meeting_cadence", choices=CADENCES),
        meetings=meetings,
        quiet_periods=tuple(quiet),
        coordinators=coordinators,
        referral=s.text("referral", ""),
        crisis_line=s.text("crisis_line", ""),
        intake_reminder_hours=s.get("intake_reminder_hours", int, 48),
        intake_expiry_days=s.get("intake_expiry_days", int, 21),
        guide_reminder_hours=s.get("guide_reminder_hours", int, 72),
        fit_check_days=s.get("fit_check_days", int, 7),
        mentor_reflection_months=s.get("mentor_reflection_months", int, 3),
        group_size=s.get("group_size", int, None),
        min_fit=float(s.get("min_fit", (int, float), 0.2)),
        matching_weights=_weights(s),
        **_meeting_keys(s),
        **_evaluation_keys(s),
    )
    if not 0 <= programme.mentor_reflection_months <= 12:
        raise ConfigError(s.key("mentor_reflection_months"), "must be between 0 and 12")
    if programme.group_size is not None and programme.group_size < 1:
        raise ConfigError(s.key("group_size"), "must be at least 1")
    if not 0 <= programme.min_fit <= 1:
        raise ConfigError(s.key("min_fit"), "must be between 0 and 1")
    s.finish()
    return programme
