"""Questionnaires as data: TOML files loaded and checked before anything is asked.

A questionnaire file (format in docs/questionnaires.md) has a title, optional introduction and
thanks, and items of six kinds — likert, yesno, single, multiple, number, open — each in Dutch
and English. Its texts are translated by the file itself, not by the message catalogues: they
become `Localized` texts, rendered in the reader's language when a message is sent.

A bad file stops loading with a `QuestionnaireError` naming the file and the key.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.i18n import LANGUAGES, Localized

KINDS = ("likert", "yesno", "single", "multiple", "number", "open")
AUDIENCES = {"mentees": "mentee", "mentors": "mentor"}
"""`audience = "mentees"` in a file or an item → the role whose people are asked."""
ROLES = ("mentee", "mentor")
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
ITEM_ID = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")
VALUE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")

DEFAULT_SCALE = (
    Localized({"nl": "helemaal oneens", "en": "strongly disagree"}),
    Localized({"nl": "oneens", "en": "disagree"}),
    Localized({"nl": "neutraal", "en": "neither agree nor disagree"}),
    Localized({"nl": "eens", "en": "agree"}),
    Localized({"nl": "helemaal eens", "en": "strongly agree"}),
)
YES = Localized({"nl": "Ja", "en": "Yes"})
NO = Localized({"nl": "Nee", "en": "No"})


class QuestionnaireError(ValueError):
    def __init__(self, path: Path, key: str, problem: str) -> None:
        super().__init__(f"{path}: {key}: {problem}")
        self.path, self.key, self.problem = path, key, problem


@dataclass(frozen=True)
class Choice:
    value: str
    label: Localized


@dataclass(frozen=True)
class Item:
    id: str
    kind: str
    text: Localized
    choices: tuple[Choice, ...] = ()
    """Options of single and multiple; the scale points (values "1".."n") of likert."""
    required: bool = True
    minimum: int | None = None
    maximum: int | None = None
    """number: the bounds of the answer; multiple: how many options may be chosen."""
    topic: str | None = None
    """A training topic (the mentorscan): named when this item scores among the lowest."""
    audience: str | None = None
    """"mentee" or "mentor": only people in that role are asked this item (None: everyone)."""

    @property
    def points(self) -> int:
        return len(self.choices) if self.kind == "likert" else 0


@dataclass(frozen=True)
class Questionnaire:
    name: str
    title: Localized
    items: tuple[Item, ...]
    version: str
    """A hash of the file: a changed file is a new version of the questionnaire's flow."""
    path: Path
    intro: Localized | None = None
    thanks: Localized | None = None
    anonymous: bool = False
    """True: every poll of this questionnaire is anonymous, whatever the command says."""
    topics: Mapping[str, Localized] | None = None
    lowest: int = 3
    """How many of the lowest-scoring items name their training topic."""

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)

    def items_for(self, role: str | None) -> tuple[Item, ...]:
        """The items someone in `role` is asked (None: every item)."""
        return tuple(i for i in self.items if role is None or i.audience in (None, role))

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles that have anything to answer: only they are invited."""
        return tuple(role for role in ROLES if self.items_for(role))


class _Reader:
    """Checks one file's tables, naming the key of anything wrong."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> QuestionnaireError:
        return QuestionnaireError(self.path, key, problem)

    def table(self, data: Any, key: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key, "must be a table")
        return data

    def only(self, data: Mapping[str, Any], key: str, allowed: Iterable[str]) -> None:
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise self.fail(f"{key}.{unknown[0]}" if key else unknown[0], "unknown key")

    def localized(self, data: Any, key: str) -> Localized:
        table = self.table(data, key)
        self.only(table, key, (*LANGUAGES, "value"))
        texts = {}
        for language in LANGUAGES:
            value = table.get(language)
            if not isinstance(value, str) or not value.strip():
                raise self.fail(f"{key}.{language}", "must be a non-empty text")
            texts[language] = value.strip()
        return Localized(texts)

    def audience(self, data: Mapping[str, Any], key: str, default: str | None) -> str | None:
        value = data.get("audience")
        if value is None:
            return default
        if value not in AUDIENCES:
            raise self.fail(f"{key}.audience" if key else "audience", "must be mentees or mentors")
        return AUDIENCES[value]

    def integer(self, data: Mapping[str, Any], key: str, name: str) -> int | None:
        value = data.get(name)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(f"{key}.{name}", "must be a whole number")
        return value

    def labels(self, data: Any, key: str) -> tuple[Choice, ...]:
        if not isinstance(data, list) or not 2 <= len(data) <= 10:
            raise self.fail(key, "must be a list of 2 to 10 labels")
        return tuple(
            Choice(str(n), self.localized(label, f"{key}[{n - 1}]"))
            for n, label in enumerate(data, start=1)
        )

    def options(self, data: Any, key: str) -> tuple[Choice, ...]:
        if not isinstance(data, list) or not 2 <= len(data) <= 25:
            raise self.fail(key, "must be a list of 2 to 25 options")
        seen: set[str] = set()
        choices = []
        for index, option in enumerate(data):
            where = f"{key}[{index}]"
            value = self.table(option, where).get("value")
            if not isinstance(value, str) or not VALUE.match(value):
                raise self.fail(f"{where}.value", "must be a short id of letters, digits, - or _")
            if value in seen:
                raise self.fail(f"{where}.value", f"'{value}' is used twice")
            seen.add(value)
            choices.append(Choice(value, self.localized(option, where)))
        return tuple(choices)


ITEM_KEYS = (
    *("id", "kind", *LANGUAGES, "options", "labels", "scale", "required", "min", "max"),
    "audience",
)
TOP_KEYS = (
    *("name", "title", "intro", "thanks", "anonymous", "scales", "topics", "training"),
    "audience",
)


def _item(
    reader: _Reader,
    data: Any,
    key: str,
    scales: Mapping[str, tuple[Choice, ...]],
    topics: Mapping[str, Localized],
    audience: str | None,
) -> Item:
    table = reader.table(data, key)
    reader.only(table, key, (*ITEM_KEYS, "topic"))
    item_id = table.get("id")
    if not isinstance(item_id, str) or not ITEM_ID.match(item_id):
        raise reader.fail(f"{key}.id", "must be a short id: lowercase letters, digits and _")
    kind = table.get("kind")
    if kind not in KINDS:
        raise reader.fail(f"{key}.kind", f"must be one of {', '.join(KINDS)}")
    text = reader.localized({k: table.get(k) for k in LANGUAGES}, key)
    required = table.get("required", True)
    if not isinstance(required, bool):
        raise reader.fail(f"{key}.required", "must be true or false")
    low, high = reader.integer(table, key, "min"), reader.integer(table, key, "max")
    choices: tuple[Choice, ...] = ()
    if kind == "likert":
        if "labels" in table:
            choices = reader.labels(table["labels"], f"{key}.labels")
        elif "scale" in table:
            if table["scale"] not in scales:
                raise reader.fail(f"{key}.scale", f"no scale '{table['scale']}' in [scales]")
            choices = scales[table["scale"]]
        else:
            choices = tuple(Choice(str(n), label) for n, label in enumerate(DEFAULT_SCALE, 1))
    elif kind in ("single", "multiple"):
        choices = reader.options(table.get("options"), f"{key}.options")
    elif "options" in table:
        raise reader.fail(f"{key}.options", f"a {kind} item has no options")
    if kind == "number":
        low, high = (0 if low is None else low), (1000 if high is None else high)
        if low > high:
            raise reader.fail(f"{key}.min", "must not be larger than max")
    if kind == "multiple" and high is not None and high < (low or 1):
        raise reader.fail(f"{key}.max", "must be at least min")
    topic = table.get("topic")
    if topic is not None:
        if topic not in topics:
            raise reader.fail(f"{key}.topic", f"no topic '{topic}' in [topics]")
        if kind not in ("likert", "yesno"):
            raise reader.fail(f"{key}.topic", "only likert and yesno items can name a topic")
    return Item(
        item_id,
        kind,
        text,
        choices,
        required,
        low,
        high,
        topic,
        reader.audience(table, key, audience),
    )


def parse(path: Path, content: bytes) -> Questionnaire:
    """One questionnaire from the bytes of its file; `QuestionnaireError` when it is wrong."""
    reader = _Reader(path)
    try:
        data = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise reader.fail("(file)", f"not valid TOML: {exc}") from None
    reader.only(data, "", (*TOP_KEYS, "items"))
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not NAME.match(name):
        raise reader.fail("name", "must be lowercase letters, digits and -, at most 32")
    title = reader.localized(data.get("title"), "title")
    intro = reader.localized(data["intro"], "intro") if "intro" in data else None
    thanks = reader.localized(data["thanks"], "thanks") if "thanks" in data else None
    anonymous = data.get("anonymous", False)
    if not isinstance(anonymous, bool):
        raise reader.fail("anonymous", "must be true or false")
    scales = {
        scale: reader.labels(reader.table(v, f"scales.{scale}").get("labels"), f"scales.{scale}")
        for scale, v in reader.table(data.get("scales", {}), "scales").items()
    }
    topics = {
        topic: reader.localized(v, f"topics.{topic}")
        for topic, v in reader.table(data.get("topics", {}), "topics").items()
    }
    training = reader.table(data.get("training", {}), "training")
    reader.only(training, "training", ("lowest",))
    lowest = reader.integer(training, "training", "lowest") or 3
    audience = reader.audience(data, "", None)
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise reader.fail("items", "must be a list of at least one [[items]] table")
    items = tuple(
        _item(reader, raw, f"items[{index}]", scales, topics, audience)
        for index, raw in enumerate(raw_items)
    )
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.id in seen:
            raise reader.fail(f"items[{index}].id", f"'{item.id}' is used twice")
        seen.add(item.id)
    return Questionnaire(
        name=name,
        title=title,
        items=items,
        version=hashlib.sha256(content).hexdigest()[:12],
        path=path,
        intro=intro,
        thanks=thanks,
        anonymous=anonymous,
        topics=topics or None,
        lowest=max(lowest, 1),
    )


def load(directories: Sequence[Path]) -> dict[str, Questionnaire]:
    """Every `*.toml` in the directories, by name. A later directory may replace a questionnaire
    of an earlier one (a programme's own version of a built-in); one directory may not hold two
    files with the same name."""
    found: dict[str, Questionnaire] = {}
    for directory in directories:
        here: dict[str, Path] = {}
        for path in sorted(Path(directory).glob("*.toml")):
            questionnaire = parse(path, path.read_bytes())
            if questionnaire.name in here:
                raise QuestionnaireError(
                    path, "name", f"'{questionnaire.name}' is also in {here[questionnaire.name]}"
                )
            here[questionnaire.name] = path
            found[questionnaire.name] = questionnaire
    return found
