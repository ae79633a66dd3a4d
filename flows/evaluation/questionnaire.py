"""A questionnaire file as a conversation: one question at a time, buttons or typed answers.

Each questionnaire becomes one flow, `poll:<name>`, whose steps are its items (by id) and
whose version comes from the file's hash. An item for mentees or mentors only (`audience`) is
skipped for the others. Editing a file while a poll runs is safe: the engine
continues a run at the step of the same id, and asks an item that is new (docs/flows.md).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.engine import (
    STOP,
    Flow,
    FlowContext,
    FreeText,
    InputKind,
    MultiChoice,
    Number,
    SingleChoice,
    Step,
    YesNo,
)
from bot.engine.inputs import ParseContext
from bot.i18n import Text, _l
from bot.replies import Option
from bot.services.questionnaires import Item, Questionnaire

FLOW_PREFIX = "poll:"
SKIP = "-"
_SKIP_WORDS = ("-", "skip", "overslaan", "pass")


def flow_name(questionnaire: str) -> str:
    return f"{FLOW_PREFIX}{questionnaire}"


def _fold(raw: str) -> str:
    return unicodedata.normalize("NFC", raw).strip().casefold()


@dataclass(frozen=True)
class Likert(SingleChoice):
    """A scale with a label per point; the answer is the point (1..n) as a number."""

    def parse_text(self, raw: str, ctx: ParseContext) -> int:
        return int(super().parse_text(raw, ctx))

    def parse_choice(self, values: Sequence[str], ctx: ParseContext) -> int:
        return int(super().parse_choice(values, ctx))


@dataclass(frozen=True)
class Skippable(InputKind):
    """Any input, plus a 'Skip' option (or typing '-'): the answer is then None."""

    inner: InputKind = field(default_factory=FreeText)

    @property
    def multiple(self) -> bool:  # type: ignore[override]
        return self.inner.multiple

    def options(self) -> tuple[Option, ...]:
        return (*self.inner.options(), Option(SKIP, _l("Skip this question")))

    def parse_text(self, raw: str, ctx: ParseContext) -> Any:
        folded = _fold(raw)
        skip_number = str(len(self.inner.options()) + 1) if self.inner.options() else None
        if folded in _SKIP_WORDS or folded == skip_number:
            return None
        if folded == _fold(ctx.label_of(_l("Skip this question"))):
            return None
        return self.inner.parse_text(raw, ctx)

    def parse_choice(self, values: Sequence[str], ctx: ParseContext) -> Any:
        rest = [v for v in values if v != SKIP]
        if not rest:
            return None
        return self.inner.parse_choice(rest, ctx)

    def describe(self, value: Any) -> Any:
        return _l("skipped") if value is None else self.inner.describe(value)


def input_for(item: Item) -> InputKind:
    options = tuple(Option(c.value, c.label) for c in item.choices)
    kind: InputKind
    if item.kind == "likert":
        kind = Likert(options)
    elif item.kind == "yesno":
        kind = YesNo()
    elif item.kind == "single":
        kind = SingleChoice(options)
    elif item.kind == "multiple":
        kind = MultiChoice(options, min_count=item.minimum or 1, max_count=item.maximum)
    elif item.kind == "number":
        kind = Number(item.minimum or 0, 1000 if item.maximum is None else item.maximum)
    else:
        kind = FreeText()
    return kind if item.required else Skippable(kind)


RoleOf = Callable[[FlowContext], str | None]
"""Whether the person answering is a mentee or a mentor (None: unknown, asked everything)."""


def build_flow(
    questionnaire: Questionnaire, on_finish: Callable[[FlowContext], None], role_of: RoleOf
) -> Flow:
    """One step per item. Items meant for another role (`audience`) are skipped, and the
    numbering counts only the items this person is asked."""
    by_role = any(item.audience for item in questionnaire.items)

    def mine(ctx: FlowContext) -> tuple[Item, ...]:
        return questionnaire.items_for(role_of(ctx)) if by_role else questionnaire.items

    def ask(item: Item) -> Callable[[FlowContext], Text]:
        def question(ctx: FlowContext) -> Text:
            asked = mine(ctx)
            number = asked.index(item) + 1 if item in asked else 0
            return _l(
                "({number}/{total}) {question}", number=number, total=len(asked), question=item.text
            )

        return question

    def not_mine(item: Item) -> Callable[[FlowContext], bool]:
        return lambda ctx: item not in mine(ctx)

    last = len(questionnaire.items)
    steps = tuple(
        Step(
            item.id,
            ask=ask(item),
            accepts=input_for(item),
            skip_if=not_mine(item) if item.audience else None,
            next=STOP if number == last else None,
        )
        for number, item in enumerate(questionnaire.items, start=1)
    )
    return Flow(
        flow_name(questionnaire.name),
        version=int(questionnaire.version[:7], 16),
        steps=steps,
        title=_l("Fill in the questionnaire “{title}”", title=questionnaire.title),
        on_finish=on_finish,
    )
