"""What Maatje puts into Adaptive Card actions, and reads back from `adaptiveCard/action`.

Every action is `Action.Execute` with verb `maatje` and a small `data` object that carries only
what finds the conversation again (the core's `choice_token` or form id) plus what the updated
card shows (the chosen label, the question). Everything else is reloaded by the core, so a card
sent last week still works after a restart. Inputs are named `mj_pick` (a choice set) and
`v_<field>` (a form field), so they never collide with the keys below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.replies import FieldKind, OutgoingField, OutgoingForm

VERB = "maatje"
KIND = "mj"
CHOICE, PICKED, FORM = "c", "m", "f"
PICK_INPUT = "mj_pick"
FIELD_PREFIX = "v_"
QUESTION_LIMIT = 1000
FORM_DATA_LIMIT = 6000


def field_input(name: str) -> str:
    return FIELD_PREFIX + name


def choice_data(token: str, value: str, label: str, question: str) -> dict[str, Any]:
    return {KIND: CHOICE, "t": token, "v": value, "l": label, "q": question[:QUESTION_LIMIT]}


def picked_data(token: str, options: list[tuple[str, str]], question: str) -> dict[str, Any]:
    return {KIND: PICKED, "t": token, "o": options, "q": question[:QUESTION_LIMIT]}


def form_data(form: OutgoingForm, question: str) -> dict[str, Any]:
    """The form's id and definition (to show it again with errors), when it fits."""
    fields = [[f.name, f.label, f.kind.value, int(f.required), f.max_length] for f in form.fields]
    data = {KIND: FORM, "f": form.form_id, "d": [form.title, form.submit, fields]}
    if len(str(data)) > FORM_DATA_LIMIT:
        data = {KIND: FORM, "f": form.form_id}
    return {**data, "q": question[:QUESTION_LIMIT]}


@dataclass(frozen=True)
class CardAction:
    kind: str
    token: str
    values: tuple[str, ...]
    labels: tuple[str, ...]
    question: str
    form: OutgoingForm | None = None
    form_values: dict[str, str] | None = None


def read(data: Any) -> CardAction | None:
    """The action behind an `adaptiveCard/action` (or an `Action.Submit` message's value)."""
    if not isinstance(data, dict) or data.get(KIND) not in (CHOICE, PICKED, FORM):
        return None
    question = str(data.get("q") or "")
    if data[KIND] == CHOICE:
        value, label = str(data.get("v") or ""), str(data.get("l") or "")
        return CardAction(CHOICE, str(data.get("t") or ""), (value,), (label,), question)
    if data[KIND] == PICKED:
        raw = data.get(PICK_INPUT)
        values = tuple(v for v in str(raw or "").split(",") if v)
        labels_by_value = {str(v): str(label) for v, label in data.get("o") or []}
        labels = tuple(labels_by_value.get(v, v) for v in values)
        return CardAction(PICKED, str(data.get("t") or ""), values, labels, question)
    values = {
        key[len(FIELD_PREFIX) :]: "" if value is None else str(value)
        for key, value in data.items()
        if key.startswith(FIELD_PREFIX)
    }
    return CardAction(
        FORM, str(data.get("f") or ""), (), (), question, _form(data), form_values=values
    )


def _form(data: dict[str, Any]) -> OutgoingForm | None:
    definition = data.get("d")
    if not definition:
        return None
    title, submit, fields = definition
    return OutgoingForm(
        str(data.get("f")),
        str(title),
        str(submit),
        "",
        tuple(
            OutgoingField(str(n), str(label), FieldKind(kind), bool(req), int(most))
            for n, label, kind, req, most in fields
        ),
    )
