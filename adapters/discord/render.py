"""Outgoing messages as Discord messages, components and modals.

Pure: an `Outgoing` in, discord.py objects out, no network. Discord's limits live here: 2,000
characters per message, 5 buttons per row, 25 options per select, 5 rows per message, 5 text
inputs per modal (longer forms get pages), 45 characters per modal title and input label,
100 characters per custom_id.

    choices ≤ 5, one answer   → buttons
    more, or several answers  → select menu(s) (`multiple` → one select with max_values)
    more than fits            → numbered lines; the person types the number(s)
    form                      → a button that opens the form's modal
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import discord

from adapters.discord import ids
from bot.replies import FieldKind, Outgoing, OutgoingField, OutgoingForm, OutgoingOption

TEXT_LIMIT = 2000
BUTTONS = 5
SELECT_OPTIONS = 25
ROWS = 5
MODAL_INPUTS = 5
MODAL_TITLE = 45
INPUT_LABEL = 45
INPUT_PLACEHOLDER = 100
INPUT_MAX = 4000
BUTTON_LABEL = 80
OPTION_LABEL = 100
OPTION_VALUE = 100
FILES_PER_MESSAGE = 10
# Components outlive the view object: the catch-all handler answers them, so discord.py need
# not keep views in memory (they only stay in its store briefly when sent as followups).
VIEW_TIMEOUT = 60.0
MODAL_TIMEOUT = 15 * 60.0


@dataclass
class Rendered:
    """One Discord message."""

    content: str
    view: discord.ui.View | None = None
    files: list[discord.File] = field(default_factory=list)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Parts of at most `limit` characters, cut at a paragraph, line or word where possible."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[: limit + 1]  # a separator right after the limit still counts
        cuts = (window.rfind(separator) for separator in ("\n\n", "\n", " "))
        cut = next((c for c in cuts if c >= limit // 2), limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not parts:
        parts.append(rest)
    return parts


def render(message: Outgoing) -> list[Rendered]:
    """The Discord messages for one outgoing message (components and files on the last)."""
    text = message.text
    view: discord.ui.View | None = None
    if message.form is not None:
        view = form_button(message.form)
    elif message.choices and message.choice_token:
        view = choice_view(message.choices, message.choice_token, message.multiple)
        if view is None:
            text = f"{text}\n\n{numbered(message.choices, message.multiple_hint)}"
    parts = [Rendered(part) for part in split_text(text)]
    parts[-1].view = view
    files = [discord.File(io.BytesIO(f.content), filename=f.filename) for f in message.files]
    parts[-1].files = files[:FILES_PER_MESSAGE]
    for start in range(FILES_PER_MESSAGE, len(files), FILES_PER_MESSAGE):
        parts.append(Rendered("", files=files[start : start + FILES_PER_MESSAGE]))
    return parts


def numbered(options: Sequence[OutgoingOption], hint: str = "") -> str:
    lines = [f"{i}) {o.label}" for i, o in enumerate(options, start=1)]
    return "\n".join([*lines, f"({hint})"] if hint else lines)


def choice_view(
    options: Sequence[OutgoingOption], token: str, multiple: bool
) -> discord.ui.View | None:
    """Buttons or select menus for the options; None when Discord cannot carry them."""
    if not multiple and len(options) <= BUTTONS:
        custom_ids = [ids.button(token, o.value) for o in options]
        if all(ids.fits(c) for c in custom_ids):
            view = discord.ui.View(timeout=VIEW_TIMEOUT)
            for option, custom_id in zip(options, custom_ids, strict=True):
                view.add_item(
                    discord.ui.Button(
                        label=clip(option.label, BUTTON_LABEL),
                        custom_id=custom_id,
                        style=discord.ButtonStyle.primary,
                    )
                )
            return view
    chunks = [options[i : i + SELECT_OPTIONS] for i in range(0, len(options), SELECT_OPTIONS)]
    if len(chunks) > ROWS or (multiple and len(chunks) > 1):
        return None
    custom_ids = [ids.select(token, index) for index in range(len(chunks))]
    if not all(map(ids.fits, custom_ids)) or any(len(o.value) > OPTION_VALUE for o in options):
        return None
    view = discord.ui.View(timeout=VIEW_TIMEOUT)
    for custom_id, chunk in zip(custom_ids, chunks, strict=True):
        view.add_item(
            discord.ui.Select(
                custom_id=custom_id,
                options=[
                    discord.SelectOption(label=clip(o.label, OPTION_LABEL), value=o.value)
                    for o in chunk
                ],
                min_values=1,
                max_values=len(chunk) if multiple else 1,
            )
        )
    return view


def form_button(form: OutgoingForm) -> discord.ui.View:
    view = discord.ui.View(timeout=VIEW_TIMEOUT)
    view.add_item(
        discord.ui.Button(
            label=clip(f"📝 {form.open_label}", BUTTON_LABEL),
            custom_id=ids.open_form(form.form_id),
            style=discord.ButtonStyle.primary,
        )
    )
    return view


# -- modals ----------------------------------------------------------------------------------


def pages(form: OutgoingForm) -> list[tuple[OutgoingField, ...]]:
    """The form's fields, five to a modal page."""
    fields = form.fields
    return [fields[i : i + MODAL_INPUTS] for i in range(0, len(fields), MODAL_INPUTS)] or [()]


def modal(
    form: OutgoingForm, page: int = 1, defaults: Mapping[str, str] | None = None
) -> discord.ui.Modal:
    """Page `page` (1-based) of the form as a modal, filled in with `defaults`."""
    all_pages = pages(form)
    count = len(all_pages)
    title = form.title if count == 1 else f"{clip(form.title, MODAL_TITLE - 8)} ({page}/{count})"
    dialog = discord.ui.Modal(
        title=clip(title, MODAL_TITLE) or "Maatje",
        custom_id=ids.modal(form.form_id, page, count),
        timeout=MODAL_TIMEOUT,
    )
    for item in all_pages[page - 1]:
        dialog.add_item(text_input(item, (defaults or {}).get(item.name)))
    return dialog


def text_input(item: OutgoingField, default: str | None = None) -> discord.ui.TextInput:
    limit = max(1, min(item.max_length, INPUT_MAX))
    long_label = len(item.label) > INPUT_LABEL
    return discord.ui.TextInput(
        label=clip(item.label, INPUT_LABEL),
        custom_id=item.name,
        style=discord.TextStyle.paragraph
        if item.kind is FieldKind.LONG_TEXT
        else discord.TextStyle.short,
        required=item.required,
        max_length=limit,
        default=default[:limit] if default else None,
        placeholder=clip(item.label, INPUT_PLACEHOLDER) if long_label else None,
    )


def continue_message(form: OutgoingForm | None, form_id: str, page: int, count: int) -> Rendered:
    """After page `page - 1` of a longer form: a button that opens page `page`."""
    label = form.open_label if form else ""
    view = discord.ui.View(timeout=VIEW_TIMEOUT)
    view.add_item(
        discord.ui.Button(
            label=clip(f"➡️ {label} ({page}/{count})".replace("  ", " "), BUTTON_LABEL),
            custom_id=ids.next_page(form_id, page),
            style=discord.ButtonStyle.primary,
        )
    )
    return Rendered(f"✅ {page - 1}/{count}", view)


def errors_message(
    form: OutgoingForm | None, form_id: str, errors: Mapping[str, str], escape
) -> Rendered:
    """The core's reasons per field, and a button that reopens the form as it was filled in."""
    labels = {f.name: f.label for f in form.fields} if form else {}
    lines = [
        f"• **{escape(labels.get(name, name))}**: {escape(reason)}"
        for name, reason in errors.items()
    ]
    view = discord.ui.View(timeout=VIEW_TIMEOUT)
    view.add_item(
        discord.ui.Button(
            label=clip(f"✏️ {form.open_label}" if form else "✏️", BUTTON_LABEL),
            custom_id=ids.retry(form_id),
            style=discord.ButtonStyle.primary,
        )
    )
    return Rendered(clip("\n".join(lines), TEXT_LIMIT), view)
