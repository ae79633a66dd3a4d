"""Cleaning what arrives from a platform before the core stores or echoes it.

Two rules, applied where events enter the core (`Core.accept`, `Core.handle`) and wherever a
display name is stored:

- **Text** keeps what the person typed, minus what no database should see: NUL characters
  (PostgreSQL refuses them in text, so one NUL turned a message into an error) and lone UTF-16
  surrogates (which cannot be encoded as UTF-8 at all).
- **Names** are shown to other people, so they also lose every invisible formatting
  character (Unicode category Cf: zero-width spaces and joiners, bidi embeddings, overrides and
  isolates, the byte-order mark, …) and control characters, and runs of whitespace become one
  space. A name can then neither look like someone else's nor turn the text around it
  right-to-left. Right-to-left scripts need none of these characters to show correctly; an
  emoji sequence joined by a zero-width joiner is shown as its separate emoji.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from typing import Any, TypeVar

E = TypeVar("E")

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SPACES = re.compile(r"\s+")
NAME_LENGTH = 200


def clean_text(text: str) -> str:
    """`text` without NUL characters and lone surrogates."""
    return _UNSTORABLE.sub("", text)


def clean_name(name: str | None) -> str | None:
    """A display name fit to store and show: no invisible or control characters, single
    spaces, at most `NAME_LENGTH` characters; None when nothing visible is left."""
    if name is None:
        return None
    visible = "".join(
        " " if unicodedata.category(c) == "Cc" else c
        for c in clean_text(name)
        if unicodedata.category(c) != "Cf"
    )
    cleaned = _SPACES.sub(" ", visible).strip()[:NAME_LENGTH].strip()
    return cleaned or None


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(item.name for item in dataclasses.fields(cls))


def _clean_value(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if value is None or isinstance(value, int | float):
        return value
    if isinstance(value, tuple):
        return tuple(_clean_value(v) for v in value)
    if isinstance(value, list):
        return [_clean_value(v) for v in value]
    if isinstance(value, dict):
        return {_clean_value(k): _clean_value(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return clean_event(value)
    return value


def clean_event(event: E) -> E:
    """A copy of a (frozen dataclass) event with every string cleaned by `clean_text` and its
    display name by `clean_name`; the event itself when nothing needed cleaning."""
    assert dataclasses.is_dataclass(event) and not isinstance(event, type)
    changes: dict[str, Any] = {}
    for name in _field_names(type(event)):
        value = getattr(event, name)
        cleaned = clean_name(value) if name == "display_name" else _clean_value(value)
        if cleaned is not value and cleaned != value:
            changes[name] = cleaned
    return dataclasses.replace(event, **changes) if changes else event
