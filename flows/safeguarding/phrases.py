"""The safety net's phrase lists: reviewable text files, matched after normalisation.

Matching forgives what people do when they type fast or upset — case, accents ("suïcidaal"),
punctuation, repeated letters ("dooood"), digits for letters inside a word ("k1ll"), invisible
characters, and spaces inside or between words ("zelf moord", "killmyself") — but a phrase must
start and end where words start and end, so "kms" does not match inside "10kms" and "zelfmoord"
does not match inside "zelfmoordpreventie". Nothing here guesses or scores: a phrase is on a
list or it is not (docs/safeguarding.md).

File format (flows/safeguarding/phrases-*.txt):

    # a comment
    [suicide]                  a category: suicide, self-harm, abuse, danger
    denk aan zelfmoord         one phrase per line
    {mezelf|mijzelf} doden     {a|b} is either; {a|} makes a part optional
    [not]                      near-misses: a hit inside one of these does not count
    cut myself shaving
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = (HERE / "phrases-nl.txt", HERE / "phrases-en.txt")
CATEGORIES = ("suicide", "self-harm", "abuse", "danger")
NEAR_MISSES = "not"
PREFIX = 2
"""Phrases are looked up by their first letters at each word boundary."""
MAX_VARIANTS = 500
"""More variants than this from one line is a mistake in the file, not a phrase."""

_WORD = re.compile(r"[^\W_]+")
_REPEATS = re.compile(r"(.)\1+")
_ALTERNATIVES = re.compile(r"\{([^{}]*)\}")
_LEET = str.maketrans("013457", "oieast")


def words(text: str) -> list[str]:
    """The words of `text`, normalised as the lists are."""
    if not text.isascii():
        text = "".join(
            c
            for c in unicodedata.normalize("NFKD", text)
            if not unicodedata.combining(c) and unicodedata.category(c) != "Cf"
        )
    result = []
    for word in _WORD.findall(text.casefold()):
        if not word.isdigit() and not word.isalpha():
            word = word.translate(_LEET)
        result.append(_REPEATS.sub(r"\1", word))
    return result


@dataclass(frozen=True)
class Phrase:
    category: str
    line: str
    """As written in the file (for reviewers and test failures)."""
    key: str
    """Its words, normalised and joined without spaces."""


@dataclass(frozen=True)
class Hit:
    phrase: Phrase
    start: int
    end: int


class _Joined:
    """A text's words joined without spaces, and the offsets where words begin and end."""

    def __init__(self, text: str) -> None:
        parts = words(text)
        self.text = "".join(parts)
        self.bounds = set(itertools.accumulate((len(p) for p in parts), initial=0))

    def hits(self, index: Mapping[str, Sequence[Phrase]]) -> Iterable[Hit]:
        """Phrases of `index` that start and end at word boundaries, by start position."""
        for start in sorted(self.bounds):
            for phrase in index.get(self.text[start : start + PREFIX], ()):
                end = start + len(phrase.key)
                if end in self.bounds and self.text.startswith(phrase.key, start):
                    yield Hit(phrase, start, end)


def _index(phrases: Iterable[Phrase]) -> dict[str, list[Phrase]]:
    index: dict[str, list[Phrase]] = {}
    for phrase in phrases:
        index.setdefault(phrase.key[:PREFIX], []).append(phrase)
    return index


class PhraseList:
    def __init__(self, phrases: Sequence[Phrase], near_misses: Sequence[Phrase] = ()) -> None:
        self.phrases = tuple(phrases)
        self.near_misses = tuple(near_misses)
        self._phrases = _index(self.phrases)
        self._near_misses = _index(self.near_misses)

    @classmethod
    def load(cls, paths: Sequence[Path] = FILES) -> PhraseList:
        phrases: dict[str, Phrase] = {}
        near: dict[str, Phrase] = {}
        for path in paths:
            for phrase in _parse(path):
                found = near if phrase.category == NEAR_MISSES else phrases
                found.setdefault(phrase.key, phrase)
        return cls(tuple(phrases.values()), tuple(near.values()))

    def find(self, text: str) -> Hit | None:
        """The first phrase in `text` that is not part of a near-miss, or None."""
        joined = _Joined(text)
        if not joined.text:
            return None
        excused = [(n.start, n.end) for n in joined.hits(self._near_misses)]
        for hit in joined.hits(self._phrases):
            if not any(s <= hit.start and hit.end <= e for s, e in excused):
                return hit
        return None


def _parse(path: Path) -> Iterable[Phrase]:
    category = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{path.name}:{number}"
        if line.startswith("["):
            category = line.strip("[]").strip()
            if category not in (*CATEGORIES, NEAR_MISSES):
                raise ValueError(f"{where}: unknown category {category!r}")
            continue
        if category is None:
            raise ValueError(f"{where}: a phrase before the first [category]")
        try:
            variants = expand(line)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if len(variants) > MAX_VARIANTS:
            raise ValueError(f"{where}: {len(variants)} variants; split the line")
        for variant in variants:
            key = "".join(words(variant))
            if len(key) < PREFIX:
                raise ValueError(f"{where}: {variant!r} is too short to be a phrase")
            yield Phrase(category, line, key)


def expand(line: str) -> list[str]:
    """`{a|b} c{d|}` → ["a cd", "a c", "b cd", "b c"]."""
    if "{" not in line and "}" not in line:
        return [line]
    pieces = _ALTERNATIVES.split(line)
    if any(c in piece for piece in pieces[::2] for c in "{}|"):
        raise ValueError(f"unbalanced braces or a stray '|' in {line!r}")
    options = [[piece] if i % 2 == 0 else piece.split("|") for i, piece in enumerate(pieces)]
    return ["".join(choice) for choice in itertools.product(*options)]
