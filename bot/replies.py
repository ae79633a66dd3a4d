"""Neutral outgoing replies, and their rendered form handed to adapters.

A flow builds a `Reply` out of `Text`; the dispatcher renders it for its readers into an
`Outgoing` message of plain strings, which an adapter maps onto its platform (Block Kit,
discord.py views, numbered options in the console). Readers of one language get it once; a
shared space whose members share no language gets it in each of theirs (`render_for`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bot.i18n import Escape, Text, Translator, Zones, _l, text_from_json, text_to_json


class FieldKind(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    DATE = "date"


@dataclass(frozen=True)
class Option:
    value: str
    label: Text | str


@dataclass(frozen=True)
class Field:
    name: str
    label: Text | str
    kind: FieldKind = FieldKind.TEXT
    required: bool = True
    max_length: int = 500


@dataclass(frozen=True)
class Form:
    form_id: str
    title: Text | str
    fields: tuple[Field, ...]
    submit: Text | str | None = None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "application/octet-stream"


@dataclass(frozen=True)
class Reply:
    """What the core says. `choice_token` finds the flow step again when an option is chosen."""

    text: Text | str
    choices: tuple[Option, ...] = ()
    choice_token: str | None = None
    multiple: bool = False
    form: Form | None = None
    files: tuple[Attachment, ...] = ()
    ephemeral: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "text": text_to_json(self.text),
            "choices": [{"value": o.value, "label": text_to_json(o.label)} for o in self.choices],
            "choice_token": self.choice_token,
            "multiple": self.multiple,
            "form": _form_to_json(self.form) if self.form else None,
            "files": [
                {"filename": f.filename, "content": f.content.hex(), "mimetype": f.mimetype}
                for f in self.files
            ],
            "ephemeral": self.ephemeral,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        return cls(
            text=text_from_json(data["text"]),
            choices=tuple(
                Option(o["value"], text_from_json(o["label"])) for o in data.get("choices", [])
            ),
            choice_token=data.get("choice_token"),
            multiple=data.get("multiple", False),
            form=_form_from_json(data["form"]) if data.get("form") else None,
            files=tuple(
                Attachment(f["filename"], bytes.fromhex(f["content"]), f["mimetype"])
                for f in data.get("files", [])
            ),
            ephemeral=data.get("ephemeral", False),
        )


def _form_to_json(form: Form) -> dict[str, Any]:
    return {
        "form_id": form.form_id,
        "title": text_to_json(form.title),
        "submit": text_to_json(form.submit),
        "fields": [
            {
                "name": f.name,
                "label": text_to_json(f.label),
                "kind": f.kind.value,
                "required": f.required,
                "max_length": f.max_length,
            }
            for f in form.fields
        ],
    }


def _form_from_json(data: dict[str, Any]) -> Form:
    return Form(
        form_id=data["form_id"],
        title=text_from_json(data["title"]),
        submit=text_from_json(data.get("submit")),
        fields=tuple(
            Field(
                f["name"],
                text_from_json(f["label"]),
                FieldKind(f["kind"]),
                f["required"],
                f["max_length"],
            )
            for f in data["fields"]
        ),
    )


# Rendered: plain strings in the reader's language, ready for an adapter.


@dataclass(frozen=True)
class OutgoingOption:
    value: str
    label: str


@dataclass(frozen=True)
class OutgoingField:
    name: str
    label: str
    kind: FieldKind
    required: bool
    max_length: int


@dataclass(frozen=True)
class OutgoingForm:
    form_id: str
    title: str
    submit: str
    open_label: str
    fields: tuple[OutgoingField, ...]


@dataclass(frozen=True)
class Mentioned:
    """A platform user the text mentions, as the adapter's `mention` wrote them into it."""

    user_id: str
    name: str


@dataclass(frozen=True)
class Outgoing:
    text: str
    language: str
    timezone: str
    choices: tuple[OutgoingOption, ...] = ()
    choice_token: str | None = None
    multiple: bool = False
    multiple_hint: str = ""
    form: OutgoingForm | None = None
    files: tuple[Attachment, ...] = field(default=())
    ephemeral: bool = False
    mentions: tuple[Mentioned, ...] = ()
    """Who the text mentions: platforms notify exactly these people (Discord's
    allowed_mentions) or attach a mention entity per person (Teams)."""


LANGUAGE_DIVIDER = "\n\n—\n\n"
"""Between the languages of a message rendered for readers who share none."""


def render_for(
    reply: Reply,
    translator: Translator,
    languages: Sequence[str],
    timezones: Zones,
    escape: Escape,
    mentions: tuple[Mentioned, ...] = (),
) -> Outgoing:
    """A reply for its readers: in their one language, or in each of `languages` in turn
    (text one after the other, labels side by side)."""
    each = [render_reply(reply, translator, lang, timezones, escape) for lang in languages]
    first = replace(each[0], mentions=mentions)
    if len(each) == 1:
        return first

    def joined(values: Sequence[str], separator: str = " / ") -> str:
        return separator.join(dict.fromkeys(v for v in values if v))

    form = None
    if first.form is not None:
        forms = [m.form for m in each if m.form is not None]
        form = replace(
            first.form,
            title=joined([f.title for f in forms]),
            submit=joined([f.submit for f in forms]),
            open_label=joined([f.open_label for f in forms]),
            fields=tuple(
                replace(field, label=joined([f.fields[i].label for f in forms]))
                for i, field in enumerate(first.form.fields)
            ),
        )
    return replace(
        first,
        text=joined([m.text for m in each], LANGUAGE_DIVIDER),
        choices=tuple(
            replace(option, label=joined([m.choices[i].label for m in each]))
            for i, option in enumerate(first.choices)
        ),
        multiple_hint=joined([m.multiple_hint for m in each]),
        form=form,
    )


def render_reply(
    reply: Reply, translator: Translator, language: str, timezone: Zones, escape: Escape
) -> Outgoing:
    """Translate a reply for one reader. Option labels and form labels are ours, not escaped."""

    def plain(value: Text | str | None) -> str:
        return "" if value is None else translator.render(value, language, timezone)

    form = None
    if reply.form:
        form = OutgoingForm(
            form_id=reply.form.form_id,
            title=plain(reply.form.title),
            submit=plain(reply.form.submit or _l("Send")),
            open_label=plain(_l("Fill in")),
            fields=tuple(
                OutgoingField(f.name, plain(f.label), f.kind, f.required, f.max_length)
                for f in reply.form.fields
            ),
        )
    return Outgoing(
        text=translator.render(reply.text, language, timezone, escape),
        language=language,
        timezone=timezone if isinstance(timezone, str) else timezone[0],
        choices=tuple(
            OutgoingOption(o.value, translator.render(o.label, language, timezone, escape))
            for o in reply.choices
        ),
        choice_token=reply.choice_token,
        multiple=reply.multiple,
        multiple_hint=plain(_l("you can choose several, for example 1,3"))
        if reply.multiple
        else "",
        form=form,
        files=reply.files,
        ephemeral=reply.ephemeral,
    )
