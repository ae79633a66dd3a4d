"""Pure rendering: neutral `Outgoing` replies into Slack messages, modals and the App Home.

Slack's limits live here and nowhere else: section text of at most 3,000 characters, at most
50 blocks and 40,000 characters of text per message, button and option labels of at most 75
characters, at most 5 buttons before a select is clearer, 100 options per select, 10 per
checkbox group, modal titles of 24 characters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from adapters.slack import ids
from adapters.slack.escape import escape
from bot.replies import FieldKind, Outgoing, OutgoingForm, OutgoingOption

SECTION_LIMIT = 3000
MESSAGE_TEXT_LIMIT = 40000
MESSAGE_BLOCK_LIMIT = 50
BUTTON_LIMIT = 5
SELECT_LIMIT = 100
CHECKBOX_LIMIT = 10
LABEL_LIMIT = 75
OPTION_VALUE_LIMIT = 150
MODAL_TITLE_LIMIT = 24
INPUT_LABEL_LIMIT = 2000
INPUT_MAX_LENGTH = 3000
HOME_TASK_LIMIT = 40

Block = dict[str, Any]
_ENTITY_TAIL = re.compile(r"&[a-z]{0,4}$")


def plain(text: str, limit: int = LABEL_LIMIT) -> Block:
    return {"type": "plain_text", "text": truncate(text, limit) or " ", "emoji": True}


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    tail = _ENTITY_TAIL.search(cut)  # never leave half an escaped `&amp;` behind
    if tail:
        cut = cut[: tail.start()]
    return cut + "…"


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split at paragraph, line or word boundaries into pieces of at most `limit` characters."""
    pieces: list[str] = []
    rest = text.strip("\n")
    while len(rest) > limit:
        window = rest[:limit]
        for boundary in ("\n\n", "\n", " "):
            cut = window.rfind(boundary)
            if cut >= limit // 2:
                break
        else:  # no good boundary: cut hard, but not inside an escaped entity
            tail = _ENTITY_TAIL.search(window)
            cut = tail.start() if tail else limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _option(option: OutgoingOption) -> Block:
    return {"text": plain(option.label), "value": option.value[:OPTION_VALUE_LIMIT]}


def choice_blocks(message: Outgoing) -> list[Block]:
    """Buttons (up to five), a static select (more), or checkboxes/multi-select and a button."""
    token = message.choice_token or ""
    options = message.choices
    if not options:
        return []
    if message.multiple:
        submit = {
            "type": "button",
            "action_id": ids.SUBMIT,
            "text": plain("✓"),
            "value": token,
            "style": "primary",
        }
        if len(options) <= CHECKBOX_LIMIT:
            pick = {
                "type": "checkboxes",
                "action_id": ids.PICK,
                "options": [_option(o) for o in options],
            }
            return [{"type": "actions", "block_id": token, "elements": [pick, submit]}]
        picker = {
            "type": "multi_static_select",
            "action_id": ids.PICK,
            "placeholder": plain("…"),
            "options": [_option(o) for o in options[:SELECT_LIMIT]],
        }
        return [
            {
                "type": "section",
                "block_id": f"{ids.PICK}_block",
                "text": {"type": "mrkdwn", "text": " "},
                "accessory": picker,
            },
            {"type": "actions", "block_id": token, "elements": [submit]},
        ]
    if len(options) <= BUTTON_LIMIT:
        elements = [
            {
                "type": "button",
                "action_id": f"{ids.CHOICE}_{i}",
                "text": plain(o.label),
                "value": o.value,
            }
            for i, o in enumerate(options)
        ]
    else:
        chunks = [options[i : i + SELECT_LIMIT] for i in range(0, len(options), SELECT_LIMIT)]
        elements = [
            {
                "type": "static_select",
                "action_id": f"{ids.SELECT}_{n}",
                "placeholder": plain("…"),
                "options": [_option(o) for o in chunk],
            }
            for n, chunk in enumerate(chunks[:25])
        ]
    return [{"type": "actions", "block_id": token, "elements": elements}]


def form_blocks(form: OutgoingForm) -> list[Block]:
    button = {
        "type": "button",
        "action_id": ids.OPEN_FORM,
        "text": plain(form.open_label or form.title),
        "value": ids.encode_form(form),
        "style": "primary",
    }
    return [{"type": "actions", "block_id": f"{ids.OPEN_FORM}_block", "elements": [button]}]


def render_messages(message: Outgoing) -> list[dict[str, Any]]:
    """One or more `chat.postMessage` payloads (`text` and `blocks`); controls go on the last."""
    sections = [_section(piece) for piece in split_text(message.text)]
    controls = choice_blocks(message)
    if message.form:
        controls += form_blocks(message.form)
    messages: list[list[Block]] = [[]]
    size = 0
    for block in sections:
        length = len(block["text"]["text"])
        if messages[-1] and (
            size + length > MESSAGE_TEXT_LIMIT or len(messages[-1]) >= MESSAGE_BLOCK_LIMIT - 3
        ):
            messages.append([])
            size = 0
        messages[-1].append(block)
        size += length
    messages[-1].extend(controls)
    rendered = []
    for blocks in messages:
        if not blocks:
            continue
        fallback = "\n\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
        rendered.append({"text": truncate(fallback or " ", MESSAGE_TEXT_LIMIT), "blocks": blocks})
    return rendered


def render_modal(form: OutgoingForm, metadata: str) -> dict[str, Any]:
    """A modal for `form`; each input's block_id is the field name, its action_id `value`."""
    blocks = []
    for f in form.fields:
        if f.kind is FieldKind.NUMBER:
            element: Block = {"type": "number_input", "is_decimal_allowed": False}
        elif f.kind is FieldKind.DATE:
            element = {"type": "datepicker"}
        else:
            element = {
                "type": "plain_text_input",
                "multiline": f.kind is FieldKind.LONG_TEXT,
                "max_length": max(1, min(f.max_length, INPUT_MAX_LENGTH)),
            }
        element["action_id"] = "value"
        blocks.append(
            {
                "type": "input",
                "block_id": f.name,
                "optional": not f.required,
                "label": plain(f.label, INPUT_LABEL_LIMIT),
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": ids.FORM_VIEW,
        "private_metadata": metadata,
        "title": plain(form.title, MODAL_TITLE_LIMIT),
        "submit": plain(form.submit or "OK", MODAL_TITLE_LIMIT),
        "blocks": blocks[: MESSAGE_BLOCK_LIMIT * 2],
    }


def render_home(
    title: str, programme: str | None, next_meeting: str | None, tasks: Sequence[str]
) -> dict[str, Any]:
    """The App Home tab. The core's strings are plain text, so they are escaped here."""
    blocks: list[Block] = [{"type": "header", "text": plain(title, 150)}]
    for line in (programme, next_meeting):
        if line:
            blocks.append(_section(truncate(escape(line), SECTION_LIMIT)))
    if tasks:
        blocks.append({"type": "divider"})
        shown = [f"• {escape(t)}" for t in tasks[:HOME_TASK_LIMIT]]
        for piece in split_text("\n".join(shown)):
            blocks.append(_section(piece))
    return {"type": "home", "blocks": blocks}


def render_answered(blocks: Sequence[Block], labels: Sequence[str]) -> list[Block]:
    """The message after a choice: its text kept, the controls replaced by what was chosen."""
    kept = [b for b in blocks if b.get("type") not in ("actions",) and "accessory" not in b]
    answer = ", ".join(labels) or "✓"
    kept.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"✓ {answer}"}]})
    return kept
