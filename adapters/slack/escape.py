"""Slack's text escaping: the three characters that make mentions, links and commands.

Slack reads `<...>` as a mention (`<@U123>`), a broadcast (`<!channel>`) or a link
(`<https://x|y>`), and `&` starts an entity. Escaping `&`, `<` and `>` as `&amp;`, `&lt;` and
`&gt;` makes any of them show as typed, and nothing else needs escaping.
"""

from __future__ import annotations

_TABLE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: str) -> str:
    """Return `text` with `&`, `<` and `>` escaped, so Slack shows it literally."""
    return text.translate(_TABLE)
