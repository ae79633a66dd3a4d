"""Localisation: lazy messages, translated per reader at send time.

A `Text` is a message id plus parameters. Nothing is translated when a flow builds a reply;
the outbox stores the `Text` as JSON and the dispatcher renders it in the recipient's language
and time zone just before sending. Parameters that are plain strings are treated as untrusted
(they may be something a user typed) and pass through the adapter's `escape`.

A moment (`datetime`) is shown for humans: weekday, date and hours and minutes, never seconds,
in the reader's zone — or, for a shared space whose members live in different zones, in each
of them ("Tuesday, October 13, 2026, 7:00 PM (Amsterdam) / 1:00 PM (New York)").

Source strings are marked with `_l` (and `_n` for plurals) so `pybabel extract` finds them.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot import zones

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "en"
DOMAIN = "maatje"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


@dataclass(frozen=True)
class Text:
    """A translatable message with its parameters."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)
    plural: str | None = None
    count: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"msgid": self.msgid, "params": _params_to_json(self.params)}
        if self.plural is not None:
            data["plural"] = self.plural
            data["count"] = self.count
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Text:
        return cls(
            data["msgid"],
            _params_from_json(data.get("params", {})),
            data.get("plural"),
            data.get("count"),
        )


def _l(msgid: str, **params: Any) -> Text:
    """Mark a message for translation; it is rendered later, per reader."""
    return Text(msgid, params)


def _n(singular: str, plural: str, count: int, **params: Any) -> Text:
    """A message whose form depends on `count` (available as `{count}`)."""
    return Text(singular, {"count": count, **params}, plural, count)


@dataclass(frozen=True)
class Raw:
    """Text that must not be escaped (already rendered by the core, e.g. a list of lines)."""

    value: str


@dataclass(frozen=True)
class Localized:
    """Text that arrives already translated, one string per language (a questionnaire file
    written by a coordinator): the reader's language is picked when it is rendered, and the
    string is treated as user input (escaped)."""

    texts: Mapping[str, str]

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.texts.items())))

    def pick(self, language: str) -> str:
        return (
            self.texts.get(language)
            or self.texts.get(DEFAULT_LANGUAGE)
            or next(iter(self.texts.values()), "")
        )


@dataclass(frozen=True)
class Lines:
    """A list rendered one item per line (a plain list renders as 'a, b and c')."""

    items: tuple[Any, ...]


@dataclass(frozen=True)
class Mention:
    """A person, named the way their platform mentions people (Slack `<@U…>`, Discord
    `<@…>`, a name in the console). The delivery resolves it for the space's platform
    (`with_mentions`) before the text is rendered."""

    person_id: int


def _param_to_json(value: Any) -> Any:
    if isinstance(value, Lines):
        return {"$lines": [_param_to_json(v) for v in value.items]}
    if isinstance(value, Text):
        return {"$text": value.to_json()}
    if isinstance(value, Raw):
        return {"$raw": value.value}
    if isinstance(value, Localized):
        return {"$localized": dict(value.texts)}
    if isinstance(value, Mention):
        return {"$mention": value.person_id}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, list | tuple):
        return {"$list": [_param_to_json(v) for v in value]}
    return value


def _param_from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if "$text" in value:
            return Text.from_json(value["$text"])
        if "$raw" in value:
            return Raw(value["$raw"])
        if "$localized" in value:
            return Localized(dict(value["$localized"]))
        if "$mention" in value:
            return Mention(int(value["$mention"]))
        if "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        if "$lines" in value:
            return Lines(tuple(_param_from_json(v) for v in value["$lines"]))
        if "$list" in value:
            return [_param_from_json(v) for v in value["$list"]]
    return value


def _params_to_json(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _param_to_json(v) for k, v in params.items()}


def _params_from_json(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _param_from_json(v) for k, v in params.items()}


def text_to_json(value: Text | str | None) -> Any:
    return _param_to_json(value)


def text_from_json(value: Any) -> Text | str | None:
    return _param_from_json(value)


def mentioned(value: Any) -> set[int]:
    """The people a text mentions (in its parameters, at any depth)."""
    if isinstance(value, Mention):
        return {value.person_id}
    if isinstance(value, Text):
        return set().union(*(mentioned(v) for v in value.params.values()))
    if isinstance(value, Lines):
        return set().union(*(mentioned(v) for v in value.items))
    if isinstance(value, list | tuple):
        return set().union(*(mentioned(v) for v in value))
    return set()


def with_mentions(value: Any, rendered: Mapping[int, str]) -> Any:
    """`value` with each `Mention` replaced by its platform form (already safe: `Raw`)."""
    if isinstance(value, Mention):
        return Raw(rendered.get(value.person_id, "?"))
    if isinstance(value, Text):
        params = {k: with_mentions(v, rendered) for k, v in value.params.items()}
        return Text(value.msgid, params, value.plural, value.count)
    if isinstance(value, Lines):
        return Lines(tuple(with_mentions(v, rendered) for v in value.items))
    if isinstance(value, list | tuple):
        return [with_mentions(v, rendered) for v in value]
    return value


def normalise_language(code: str | None) -> str | None:
    """Map a platform locale ('nl-NL', 'en_GB', 'en-US') to one of ours, or None."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def _load_catalogue(locales_dir: Path, language: str) -> Translations:
    """Load the compiled catalogue, compiling the .po in memory when no .mo is present."""
    mo = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    po = mo.with_suffix(".po")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return Translations(fh, domain=DOMAIN)
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


Escape = Callable[[str], str]
Zones = str | Sequence[str]
"""One reader's time zone, or the zones of everyone reading a shared space."""


def _no_escape(value: str) -> str:
    return value


class Translator:
    """Renders `Text` for one reader: their language, their time zone, their platform's escaping."""

    def __init__(self, locales_dir: Path = LOCALES_DIR) -> None:
        self._catalogues = {lang: _load_catalogue(locales_dir, lang) for lang in LANGUAGES}

    def gettext(self, language: str, msgid: str) -> str:
        return self._catalogues[self._lang(language)].gettext(msgid)

    def render(
        self,
        value: Text | Localized | str,
        language: str,
        timezone: Zones = "UTC",
        escape: Escape = _no_escape,
    ) -> str:
        lang = self._lang(language)
        timezone = (timezone,) if isinstance(timezone, str) else tuple(timezone) or ("UTC",)
        if isinstance(value, str):
            return escape(value)
        if isinstance(value, Localized):
            return escape(value.pick(lang))
        catalogue = self._catalogues[lang]
        if value.plural is not None:
            template = catalogue.ngettext(value.msgid, value.plural, value.count or 0)
        else:
            template = catalogue.gettext(value.msgid)
        if not value.params:
            return template
        rendered = {
            key: self._param(param, lang, timezone, escape) for key, param in value.params.items()
        }
        return template.format(**rendered)

    def _param(self, value: Any, lang: str, timezone: tuple[str, ...], escape: Escape) -> str:
        if isinstance(value, Text):
            return self.render(value, lang, timezone, escape)
        if isinstance(value, Raw):
            return value.value
        if isinstance(value, Localized):
            return escape(value.pick(lang))
        if isinstance(value, Lines):
            return "\n".join(
                "• " + self._param(item, lang, timezone, escape) for item in value.items
            )
        if isinstance(value, Mention):
            return "?"  # not resolved for a platform (see `with_mentions`)
        if isinstance(value, datetime):
            return moment(value, lang, timezone)
        if isinstance(value, date):
            return format_date(value, "long", locale=lang)
        if isinstance(value, Sequence) and not isinstance(value, str):
            items = [self._param(item, lang, timezone, escape) for item in value]
            return format_list(items, locale=lang) if items else "-"
        if isinstance(value, bool):
            return self.render(_l("yes") if value else _l("no"), lang)
        if isinstance(value, int | float):
            return str(value)
        return escape(str(value))

    @staticmethod
    def _lang(language: str | None) -> str:
        return language if language in LANGUAGES else DEFAULT_LANGUAGE

    @staticmethod
    def language_name(code: str, in_language: str) -> str:
        return Locale.parse(code).get_display_name(in_language) or code


def moment(value: datetime, language: str, timezones: Sequence[str]) -> str:
    """A moment for humans in `language`: weekday, date, hours and minutes (no seconds). With
    several zones, the time in each, named by its city; the date once when it is the same day
    everywhere."""
    locale = Locale.parse(language)
    pattern = str(locale.datetime_formats["long"]).replace("'", "")
    local = [value.astimezone(ZoneInfo(zone)) for zone in timezones]

    def time_of(at: datetime) -> str:
        return format_time(at, "short", tzinfo=at.tzinfo, locale=language)

    def day_of(at: datetime) -> str:
        return format_date(at.date(), "full", locale=language)

    if len(local) == 1:
        return pattern.replace("{0}", time_of(local[0])).replace("{1}", day_of(local[0]))
    named = [
        (at, f"{time_of(at)} ({zones.city(zone, language)})")
        for at, zone in zip(local, timezones, strict=True)
    ]
    if len({at.date() for at in local}) == 1:
        both = " / ".join(text for _, text in named)
        return pattern.replace("{0}", both).replace("{1}", day_of(local[0]))
    return " / ".join(pattern.replace("{0}", text).replace("{1}", day_of(at)) for at, text in named)
