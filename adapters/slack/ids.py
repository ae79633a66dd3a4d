"""The ids Maatje puts into Slack blocks and gets back in interaction payloads.

They carry only what finds the conversation again: the core's `choice_token` and option
values, or a form's id and definition. Everything else is reloaded by the core, so a button
sent last week still works after a restart.
"""

from __future__ import annotations

import json
from typing import Any

from bot.events import SpaceKind
from bot.replies import FieldKind, OutgoingField, OutgoingForm

PREFIX = "maatje_"
CHOICE = "maatje_choice"  # a button; action_id f"{CHOICE}_{i}", block_id = token, value = option
SELECT = "maatje_select"  # a static select; action_id f"{SELECT}_{i}", block_id = token
PICK = "maatje_pick"  # checkboxes or multi-select of a multiple choice; read from state
SUBMIT = "maatje_submit"  # the button that sends a multiple choice; value = token
OPEN_FORM = "maatje_form_open"  # the button that opens a form's modal; value = encode_form()
FORM_VIEW = "maatje_form"  # callback_id of a form's modal

BUTTON_VALUE_LIMIT = 2000
METADATA_LIMIT = 3000


def encode_form(form: OutgoingForm) -> str:
    """The form as a button value: its full definition when it fits, else only its id."""
    full = json.dumps(
        {
            "i": form.form_id,
            "t": form.title,
            "s": form.submit,
            "f": [
                [f.name, f.label, f.kind.value, int(f.required), f.max_length] for f in form.fields
            ],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    if len(full) <= BUTTON_VALUE_LIMIT:
        return full
    return json.dumps({"i": form.form_id}, ensure_ascii=False, separators=(",", ":"))


def decode_form(value: str) -> tuple[str, OutgoingForm | None]:
    """The form id, and the form when the value carried its definition."""
    data = json.loads(value)
    form_id = str(data["i"])
    if "f" not in data:
        return form_id, None
    fields = tuple(
        OutgoingField(name, label, FieldKind(kind), bool(required), int(max_length))
        for name, label, kind, required, max_length in data["f"]
    )
    return form_id, OutgoingForm(form_id, data["t"], data["s"], "", fields)


def encode_view_metadata(form_id: str, channel_id: str, kind: SpaceKind) -> str:
    """A modal's private_metadata: the form and where it was opened from."""
    return json.dumps({"f": form_id, "c": channel_id, "k": kind.value}, separators=(",", ":"))


def decode_view_metadata(metadata: str) -> tuple[str, str, SpaceKind]:
    data: dict[str, Any] = json.loads(metadata)
    return str(data["f"]), str(data["c"]), SpaceKind(data.get("k", SpaceKind.DIRECT.value))
