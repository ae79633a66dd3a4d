"""Making text a person typed inert in Teams: no mentions, no links, no markup.

Teams renders a bot's message text as markdown with a little HTML (`<at>` mentions, `<a>` links),
and Adaptive Card text blocks as markdown. So `&`, `<` and `>` become entities (no `<at>` and no
`<a href>` can form); the markdown that makes links and emphasis (`[`, `]`, `*`, `_`, `~`, `` ` ``,
`\\`, and a `(` right after `]`) is backslash-escaped; and addresses Teams would turn into links
by themselves (`https://…`, `www.…`, `name@host`) get an invisible zero-width space inside.
"""

from __future__ import annotations

import re

ZERO_WIDTH_SPACE = "\u200b"
_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_MARKDOWN = re.compile(r"([\\`*_~\[\]])")
_AUTOLINK = re.compile(r"(?i)(://|(?<![\w.])www\.|(?<=\w)@(?=\w))")


def escape(text: str) -> str:
    """`text` as Teams should show it: literally, with nothing live in it."""
    text = _MARKDOWN.sub(r"\\\1", text.translate(_ENTITIES)).replace("\\](", "\\]\\(")
    return _AUTOLINK.sub(lambda m: m.group(1)[:-1] + ZERO_WIDTH_SPACE + m.group(1)[-1], text)


def unescape(text: str) -> str:
    """What a person reads of escaped text (tests and logs use it)."""
    text = text.replace(ZERO_WIDTH_SPACE, "")
    text = re.sub(r"\\([\\`*_~\[\]])", r"\1", text.replace("\\]\\(", "\\]("))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
