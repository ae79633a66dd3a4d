"""What a step accepts, and how a typed answer, a button or a form becomes a value.

Every parser raises `Invalid` with a localised reason; the engine answers with that reason and
asks the same question again. Typed answers are accepted everywhere (a number, an option's
value or its label), so a platform without buttons loses nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import zones
from bot.i18n import Text, _l, _n
from bot.replies import Field, FieldKind, Option

MAX_TEXT = 1000


class Invalid(Exception):
    def __init__(self, reason: Text) -> None:
        super().__init__(reason.msgid)
        self.reason = reason


class FormInvalid(Exception):
    def __init__(self, errors: dict[str, Text]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class ParseContext:
    """What a parser may need to know about the reader."""

    now: datetime
    timezone: str
    label_of: Callable[[Text | str], str]


def _clean(raw: str) -> str:
    return unicodedata.normalize("NFC", raw).strip()


def _fold(value: str) -> str:
    return _clean(value).casefold()


def _require(raw: str) -> str:
    value = _clean(raw)
    if not value:
        raise Invalid(_l("I didn't get an answer. Could you type one?"))
    return value


class InputKind:
    """Base: free typing is refused unless a subclass accepts it."""

    choices: tuple[Option, ...] = ()
    multiple = False

    def options(self) -> tuple[Option, ...]:
        return self.choices

    def parse_text(self, raw: str, ctx: ParseContext) -> Any:
        raise NotImplementedError

    def parse_choice(self, values: Sequence[str], ctx: ParseContext) -> Any:
        raise Invalid(_l("Please answer by typing."))

    def describe(self, value: Any) -> Any:
        """How an answer is shown back in a summary (a Text, a list, a date...)."""
        return value


@dataclass(frozen=True)
class FreeText(InputKind):
    max_length: int = MAX_TEXT
    min_length: int = 1

    def parse_text(self, raw: str, ctx: ParseContext) -> str:
        value = _require(raw)
        if len(value) > self.max_length:
            raise Invalid(
                _l(
                    "That is {length} characters; please keep it under {limit}.",
                    length=len(value),
                    limit=self.max_length,
                )
            )
        if len(value) < self.min_length:
            raise Invalid(_l("Please write at least {limit} characters.", limit=self.min_length))
        return value


def _option_by_typed(options: Sequence[Option], raw: str, ctx: ParseContext) -> Option | None:
    folded = _fold(raw).rstrip(".)")
    if folded.isdigit():
        index = int(folded) - 1
        return options[index] if 0 <= index < len(options) else None
    for option in options:
        if folded in (_fold(option.value), _fold(ctx.label_of(option.label))):
            return option
    return None


def _unknown_option(options: Sequence[Option]) -> Invalid:
    return Invalid(
        _l("Please pick one of the options: a number from 1 to {count}.", count=len(options))
    )


@dataclass(frozen=True)
class SingleChoice(InputKind):
    choices: tuple[Option, ...] = ()

    def parse_text(self, raw: str, ctx: ParseContext) -> str:
        option = _option_by_typed(self.choices, _require(raw), ctx)
        if option is None:
            raise _unknown_option(self.choices)
        return option.value

    def parse_choice(self, values: Sequence[str], ctx: ParseContext) -> str:
        known = {o.value for o in self.choices}
        if len(values) != 1 or values[0] not in known:
            raise _unknown_option(self.choices)
        return values[0]

    def describe(self, value: Any) -> Any:
        return next((o.label for o in self.choices if o.value == value), value)


@dataclass(frozen=True)
class MultiChoice(InputKind):
    choices: tuple[Option, ...] = ()
    min_count: int = 1
    max_count: int | None = None
    multiple = True

    def parse_text(self, raw: str, ctx: ParseContext) -> list[str]:
        parts = [p for p in re.split(r"[,;\s]+", _require(raw)) if p]
        picked: list[str] = []
        for part in parts:
            option = _option_by_typed(self.choices, part, ctx)
            if option is None:
                raise Invalid(
                    _l(
                        "I don't know option '{answer}'. Type the numbers of your choices, "
                        "separated by commas, for example 1,3.",
                        answer=part[:40],
                    )
                )
            if option.value not in picked:
                picked.append(option.value)
        return self._checked(picked)

    def parse_choice(self, values: Sequence[str], ctx: ParseContext) -> list[str]:
        known = [o.value for o in self.choices]
        if any(v not in known for v in values):
            raise _unknown_option(self.choices)
        return self._checked([v for v in known if v in values])

    def _checked(self, picked: list[str]) -> list[str]:
        if len(picked) < self.min_count:
            raise Invalid(_n_choose(self.min_count))
        if self.max_count is not None and len(picked) > self.max_count:
            raise Invalid(_l("Please choose at most {count}.", count=self.max_count))
        return picked

    def describe(self, value: Any) -> Any:
        labels = {o.value: o.label for o in self.choices}
        return [labels.get(v, v) for v in value]


def _n_choose(count: int) -> Text:
    return _n("Please choose at least {count}.", "Please choose at least {count}.", count)


@dataclass(frozen=True)
class YesNo(InputKind):
    choices: tuple[Option, ...] = (Option("yes", _l("Yes")), Option("no", _l("No")))
    _YES = ("yes", "y", "ja", "j", "yep", "sure", "ok", "oké", "okay", "👍")
    _NO = ("no", "n", "nee", "nope", "👎")

    def parse_text(self, raw: str, ctx: ParseContext) -> bool:
        folded = _fold(_require(raw)).rstrip(".!")
        if folded in self._YES or folded == "1" or folded == _fold(ctx.label_of(_l("Yes"))):
            return True
        if folded in self._NO or folded == "2" or folded == _fold(ctx.label_of(_l("No"))):
            return False
        raise Invalid(_l("Please answer yes or no."))

    def parse_choice(self, values: Sequence[str], ctx: ParseContext) -> bool:
        if list(values) == ["yes"]:
            return True
        if list(values) == ["no"]:
            return False
        raise Invalid(_l("Please answer yes or no."))

    def describe(self, value: Any) -> Any:
        return _l("Yes") if value else _l("No")


def _scale_label(i: int, low: Text, high: Text) -> Text | str:
    if i == 1:
        return _l("{n} – {label}", n=i, label=low)
    if i == 5:
        return _l("{n} – {label}", n=i, label=high)
    return str(i)


@dataclass(frozen=True)
class Scale(InputKind):
    """A 1–5 scale; the extremes carry labels (e.g. 'not at all' – 'very much')."""

    low: Text = field(default_factory=lambda: _l("not at all"))
    high: Text = field(default_factory=lambda: _l("very much"))

    def options(self) -> tuple[Option, ...]:
        return tuple(Option(str(i), _scale_label(i, self.low, self.high)) for i in range(1, 6))

    def parse_text(self, raw: str, ctx: ParseContext) -> int:
        value = _fold(_require(raw)).split(" ")[0].rstrip(".)")
        if value in {"1", "2", "3", "4", "5"}:
            return int(value)
        raise Invalid(_l("Please answer with a number from 1 to 5."))

    def parse_choice(self, values: Sequence[str], ctx: ParseContext) -> int:
        if len(values) == 1 and values[0] in {"1", "2", "3", "4", "5"}:
            return int(values[0])
        raise Invalid(_l("Please answer with a number from 1 to 5."))


@dataclass(frozen=True)
class Number(InputKind):
    minimum: int = 0
    maximum: int = 1000

    def parse_text(self, raw: str, ctx: ParseContext) -> int:
        value = _require(raw)
        try:
            number = int(value.replace(" ", ""))
        except ValueError:
            raise Invalid(_l("Please answer with a whole number, like 3.")) from None
        if not self.minimum <= number <= self.maximum:
            raise Invalid(
                _l(
                    "Please give a number from {minimum} to {maximum}.",
                    minimum=self.minimum,
                    maximum=self.maximum,
                )
            )
        return number


_WORDS_TODAY = {"today": 0, "vandaag": 0, "tomorrow": 1, "morgen": 1, "overmorgen": 2}
_DATE_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{1,2})[-/.](\d{1,2})$"), ("d", "m")),
)
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")


def parse_date(raw: str, today: date) -> date | None:
    """Day-first dates as both our languages write them (2026-12-01, 1-12-2026, 1/12)."""
    value = _fold(raw)
    if value in _WORDS_TODAY:
        return today + timedelta(days=_WORDS_TODAY[value])
    for pattern, order in _DATE_PATTERNS:
        match = pattern.match(value)
        if not match:
            continue
        parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
        year = parts.get("y")
        try:
            if year is None:
                candidate = date(today.year, parts["m"], parts["d"])
                return (
                    candidate
                    if candidate >= today
                    else date(today.year + 1, parts["m"], parts["d"])
                )
            return date(year, parts["m"], parts["d"])
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class DateTimeInput(InputKind):
    """A date, or a date and a time ('12-03-2027 14:30'), in the reader's time zone."""

    with_time: bool = False
    allow_past: bool = False
    max_days_ahead: int = 730

    def parse_text(self, raw: str, ctx: ParseContext) -> str:
        value = _require(raw)
        zone = ZoneInfo(ctx.timezone)
        local_now = ctx.now.astimezone(zone)
        parts = value.split()
        clock: time | None = None
        if self.with_time:
            match = _TIME.match(parts[-1]) if len(parts) >= 2 else None
            if not match or int(match[1]) > 23 or int(match[2]) > 59:
                raise Invalid(_l("Please give a date and a time, for example 14-03-2027 15:30."))
            clock = time(int(match[1]), int(match[2]))
            parts = parts[:-1]
        day = parse_date(" ".join(parts), local_now.date())
        if day is None:
            raise Invalid(_l("I can't read that date. Please write it like 14-03-2027."))
        if day > local_now.date() + timedelta(days=self.max_days_ahead):
            raise Invalid(_l("That date is too far ahead."))
        if clock is None:
            if not self.allow_past and day < local_now.date():
                raise Invalid(_l("That date has already passed. Please give a date from today on."))
            return day.isoformat()
        moment = datetime.combine(day, clock, zone)
        if not self.allow_past and moment < local_now:
            raise Invalid(_l("That moment has already passed. Please give one in the future."))
        return moment.isoformat()

    def describe(self, value: Any) -> Any:
        return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)


SAME_ZONE = "same"
"""The option that keeps the zone the reader has now (the programme's, until they answer)."""


@dataclass(frozen=True)
class TimeZoneInput(InputKind):
    """A time zone, typed as its name or a city in it ("New York", "Europe/Amsterdam"), or the
    button keeping the reader's current zone. The answer is an IANA name."""

    choices: tuple[Option, ...] = (Option(SAME_ZONE, _l("That's right")),)

    def parse_text(self, raw: str, ctx: ParseContext) -> str:
        value = _require(raw)
        if _option_by_typed(self.choices, value, ctx) is not None:
            return ctx.timezone
        zone = zones.find(value)
        if zone is None:
            raise Invalid(
                _l(
                    "I don't know the time zone '{zone}'. Type a large city in your zone, like "
                    "New York, or the zone's name, like America/New_York.",
                    zone=value[:60],
                )
            )
        return zone

    def parse_choice(self, values: Sequence[str], ctx: ParseContext) -> str:
        if list(values) != [SAME_ZONE]:
            raise _unknown_option(self.choices)
        return ctx.timezone


@dataclass(frozen=True)
class FormInput(InputKind):
    """Several fields at once: a modal on Slack and Discord, one question at a time in a
    console."""

    title: Text = field(default_factory=lambda: _l("A few details"))
    fields: tuple[Field, ...] = ()
    numbers: dict[str, tuple[int, int]] = field(default_factory=dict)

    def parse_text(self, raw: str, ctx: ParseContext) -> Any:
        raise Invalid(_l("Please use the form for this question."))

    def parse_form(self, values: dict[str, str], ctx: ParseContext) -> dict[str, Any]:
        errors: dict[str, Text] = {}
        result: dict[str, Any] = {}
        for f in self.fields:
            raw = _clean(values.get(f.name, "") or "")
            if not raw:
                if f.required:
                    errors[f.name] = _l("This one is required.")
                else:
                    result[f.name] = None
                continue
            try:
                result[f.name] = self._field_value(f, raw, ctx)
            except Invalid as exc:
                errors[f.name] = exc.reason
        if errors:
            raise FormInvalid(errors)
        return result

    def _field_value(self, f: Field, raw: str, ctx: ParseContext) -> Any:
        if f.kind is FieldKind.NUMBER:
            low, high = self.numbers.get(f.name, (0, 1000))
            return Number(low, high).parse_text(raw, ctx)
        if f.kind is FieldKind.DATE:
            return DateTimeInput().parse_text(raw, ctx)
        return FreeText(max_length=f.max_length).parse_text(raw, ctx)
