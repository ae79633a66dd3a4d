"""Poll reports, computed from the responses alone: per item the options with count and
percentage and the total n (as programme evaluations report them), mean and distribution for
Likert items, open answers listed, a bar chart per item, CSV exports, and — for a questionnaire
with training topics, such as the mentorscan — the topics to plan.

Everything here is pure: given a questionnaire and answers, it returns data, a `Text`, or bytes.
Texts that end up in files (CSV, PNG) are rendered with the `render` function the caller passes
for the reader's language.
"""

from __future__ import annotations

import io
import textwrap
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from babel.numbers import format_decimal

from bot.i18n import Lines, Localized, Raw, Text, _l, _n
from bot.services.csvfile import table
from bot.services.questionnaires import NO, YES, Item, Questionnaire

Render = Callable[[Any], str]
Label = Text | Localized | str


@dataclass(frozen=True)
class Count:
    value: str
    label: Label
    count: int
    percent: float
    """Of the n people who answered the item (for multiple choice they add up to over 100)."""


@dataclass(frozen=True)
class ItemResult:
    item: Item
    n: int
    counts: tuple[Count, ...] = ()
    mean: float | None = None
    open_answers: tuple[tuple[str | None, str], ...] = ()
    """(who, what) — who is None in an anonymous poll."""


@dataclass(frozen=True)
class TopicAdvice:
    topic: str
    label: Localized
    item: Item
    score: float
    """The item's result from 0 (lowest possible) to 1 (highest possible)."""


@dataclass(frozen=True)
class Report:
    questionnaire: Questionnaire
    respondents: int
    items: tuple[ItemResult, ...]
    topics: tuple[TopicAdvice, ...] = ()


def _answered(value: Any) -> bool:
    return value is not None and value != [] and value != ""


def _counts(item: Item, values: list[Any], n: int) -> tuple[Count, ...]:
    if item.kind == "yesno":
        options: list[tuple[Any, str, Label]] = [(True, "yes", YES), (False, "no", NO)]
    elif item.kind == "likert":
        options = [(int(c.value), c.value, c.label) for c in item.choices]
    elif item.kind in ("single", "multiple"):
        options = [(c.value, c.value, c.label) for c in item.choices]
    else:  # number: each value given
        options = [(v, str(v), str(v)) for v in sorted(set(values))]
    tally: Counter[Any] = Counter()
    for value in values:
        tally.update(value if item.kind == "multiple" else [value])
    return tuple(
        Count(key, label, tally[raw], 100 * tally[raw] / n if n else 0.0)
        for raw, key, label in options
    )


def _item_result(item: Item, answers: Sequence[Mapping[str, Any]], names: Sequence[str | None]):
    given = [(name, a.get(item.id)) for name, a in zip(names, answers, strict=True)]
    given = [(name, v) for name, v in given if _answered(v)]
    n = len(given)
    values = [v for _, v in given]
    if item.kind == "open":
        return ItemResult(item, n, open_answers=tuple((name, str(v)) for name, v in given))
    numbers = [float(v) for v in values] if item.kind in ("likert", "number") else []
    mean = sum(numbers) / len(numbers) if numbers else None
    return ItemResult(item, n, _counts(item, values, n), mean)


def _score(result: ItemResult) -> float | None:
    if result.n == 0:
        return None
    if result.item.kind == "likert" and result.mean is not None:
        return (result.mean - 1) / max(result.item.points - 1, 1)
    if result.item.kind == "yesno":
        return next(c.count for c in result.counts if c.value == "yes") / result.n
    return None


def _topics(questionnaire: Questionnaire, results: Sequence[ItemResult]) -> tuple[TopicAdvice, ...]:
    if not questionnaire.topics:
        return ()
    scored = [
        (score, index, result)
        for index, result in enumerate(results)
        if result.item.topic and (score := _score(result)) is not None
    ]
    scored.sort(key=lambda entry: (entry[0], entry[1]))
    advice: list[TopicAdvice] = []
    for score, _, result in scored[: questionnaire.lowest]:
        topic = result.item.topic
        assert topic is not None
        if all(a.topic != topic for a in advice):
            advice.append(TopicAdvice(topic, questionnaire.topics[topic], result.item, score))
    return tuple(advice)


OWN_BELOW = 0.75
"""An item points one person to its training topic only when their own answer scores below this
(on a 1–5 scale: 3 or lower; a yes/no item: no). A mentor who scores high everywhere is pointed
nowhere: the lowest of their answers is not low."""


def own_topics(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> tuple[TopicAdvice, ...]:
    """The training topics one person's own answers point to: their lowest items, if low."""
    results = [_item_result(item, [answers], [None]) for item in questionnaire.items]
    low = [r for r in results if (score := _score(r)) is not None and score < OWN_BELOW]
    return _topics(questionnaire, low)


def build(
    questionnaire: Questionnaire,
    answers: Sequence[Mapping[str, Any]],
    names: Sequence[str | None] | None = None,
    k: int = 1,
) -> Report:
    """The report of these responses. `names` (one per response) attributes open answers;
    leave it out for an anonymous poll. An item for mentees or mentors only is left out when
    fewer than `k` (at least one) answered it: in an anonymous poll pass the programme's k, so
    the answers of the few mentors among many mentees cannot be singled out."""
    who = list(names) if names is not None else [None] * len(answers)
    results = tuple(
        result
        for item in questionnaire.items
        if (result := _item_result(item, answers, who)).n >= max(k, 1) or item.audience is None
    )
    return Report(questionnaire, len(answers), results, _topics(questionnaire, results))


# -- the report as a message ------------------------------------------------------------------


def _number(value: float, language: str) -> str:
    return format_decimal(value, "0.0", locale=language)


def _item_text(number: int, result: ItemResult, language: str) -> Text:
    item = result.item
    lines: list[Any] = []
    if item.kind == "open":
        lines = [
            _l("{name}: {answer}", name=name, answer=text) if name else text
            for name, text in result.open_answers
        ] or [_l("no answers")]
    else:
        lines = [
            _l(
                "{label}: {percent}% ({count})",
                label=_l("{value} {label}", value=Raw(c.value), label=c.label)
                if item.kind == "likert"
                else c.label,
                percent=round(c.percent),
                count=c.count,
            )
            for c in result.counts
        ]
        if result.mean is not None:
            lines.append(
                _l(
                    "mean {mean} (scale 1–{points})",
                    mean=_number(result.mean, language),
                    points=item.points,
                )
                if item.kind == "likert"
                else _l("mean {mean}", mean=_number(result.mean, language))
            )
    return _l(
        "{number}. {question} (n = {n})\n{lines}",
        number=number,
        question=item.text,
        n=result.n,
        lines=Lines(tuple(lines)),
    )


def topics_text(topics: Sequence[TopicAdvice], language: str) -> Text:
    lines = tuple(
        _l(
            "{topic} — lowest: “{item}” ({score}%)",
            topic=a.label,
            item=a.item.text,
            score=round(a.score * 100),
        )
        for a in topics
    )
    return _l("Training topics to plan, lowest-scoring first:\n{topics}", topics=Lines(lines))


def summary_text(report: Report, language: str) -> Text:
    """The whole report as one message, numbers formatted for `language`."""
    body = [_item_text(i, r, language) for i, r in enumerate(report.items, start=1)]
    if report.topics:
        body.append(topics_text(report.topics, language))
    return _n(
        "{title}: {count} response\n\n{items}",
        "{title}: {count} responses\n\n{items}",
        report.respondents,
        title=report.questionnaire.title,
        items=_join(body),
    )


def _join(blocks: Sequence[Text]) -> Text:
    """Blocks separated by blank lines (a template, not a message: nothing to translate)."""
    template = "\n\n".join(f"{{b{i}}}" for i in range(len(blocks)))
    return Text(template, {f"b{i}": b for i, b in enumerate(blocks)})


# -- files ---------------------------------------------------------------------------------------


def _cell(item: Item, value: Any) -> str:
    if not _answered(value):
        return ""
    if item.kind == "yesno":
        return "yes" if value else "no"
    if item.kind == "multiple":
        return ";".join(str(v) for v in value)
    return str(value)


def summary_csv(report: Report, render: Render) -> bytes:
    """One row per item and option: item, question, option, label, count, percent, n, mean."""
    rows: list[list[Any]] = []
    for result in report.items:
        question = render(result.item.text)
        mean = "" if result.mean is None else f"{result.mean:.2f}"
        if result.item.kind == "open":
            rows.append([result.item.id, question, "", "", result.n, "", result.n, ""])
            continue
        for c in result.counts:
            rows.append(
                [
                    result.item.id,
                    question,
                    c.value,
                    render(c.label),
                    c.count,
                    f"{c.percent:.1f}",
                    result.n,
                    mean,
                ]
            )
    return table(["item", "question", "option", "label", "count", "percent", "n", "mean"], rows)


def responses_csv(
    report: Report,
    answers: Sequence[Mapping[str, Any]],
    names: Sequence[str | None] | None = None,
) -> bytes:
    """One row per response, one column per item of the report (by id); a `person` column only
    when names are given (never for an anonymous poll)."""
    items = [result.item for result in report.items]
    header = [*(["person"] if names is not None else []), *(i.id for i in items)]
    return table(
        header,
        (
            [
                *([names[index] or ""] if names is not None else []),
                *(_cell(item, response.get(item.id)) for item in items),
            ]
            for index, response in enumerate(answers)
        ),
    )


def chart_png(result: ItemResult, render: Render) -> bytes | None:
    """A horizontal bar chart of one item's answers (None for open questions)."""
    if result.item.kind == "open" or not result.counts:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = [
        "\n".join(textwrap.wrap(render(c.label), 34)[:3])
        if result.item.kind != "likert"
        else "\n".join(textwrap.wrap(f"{c.value} {render(c.label)}", 34)[:3])
        for c in result.counts
    ]
    counts = [c.count for c in result.counts]
    figure = Figure(figsize=(7.0, 1.2 + 0.45 * len(counts)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(counts)))
    axes.barh(positions, counts, color="#2f6db5")
    axes.set_yticks(positions, labels=labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, max(max(counts) * 1.3, 1))
    axes.xaxis.get_major_locator().set_params(integer=True)
    for position, c in zip(positions, result.counts, strict=True):
        axes.text(c.count, position, f" {c.count} ({c.percent:.0f}%)", va="center", fontsize=8)
    title = "\n".join(textwrap.wrap(render(result.item.text), 70)[:3])
    axes.set_title(f"{title}\n(n = {result.n})", fontsize=9, loc="left")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
