"""Every message in the source has a Dutch and an English translation with the same
placeholders, and the catalogues are in step with the code."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, Lines, Text, Translator, _l, _n

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def source_messages(tmp_path: Path) -> set[str]:
    pot = tmp_path / "fresh.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "_n:1,2",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_message_is_translated(language: str, tmp_path: Path) -> None:
    with (ROOT / "locales" / language / "LC_MESSAGES" / "maatje.po").open("rb") as fh:
        catalogue = read_po(fh, locale=language)
    translated = {}
    for message in catalogue:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{language}: no translation for {key!r}"
        assert "fuzzy" not in message.flags, f"{language}: fuzzy translation for {key!r}"
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set().union(*(PLACEHOLDER.findall(i) for i in ids))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) <= wanted | {"count"}, (language, key)
            assert set(PLACEHOLDER.findall(string)) >= wanted - {"count"}, (language, key)
        translated[key] = strings
    missing = source_messages(tmp_path) - set(translated)
    assert not missing, f"{language}: messages missing from the catalogue: {sorted(missing)[:5]}"


def test_rendering_uses_the_readers_language_zone_and_escaping() -> None:
    translator = Translator()
    when = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 in Amsterdam (after DST ends)
    text = _l("Hello! Your intake is done; I'll keep you posted. Type 'help' to see what I can do.")
    assert translator.render(text, "nl").startswith("Hoi!")
    assert translator.render(text, "en").startswith("Hello")
    escaped = translator.render(
        _l(
            "I don't know option '{answer}'. Type the numbers of your "
            "choices, separated by commas, for example 1,3.",
            answer="<!channel>",
        ),
        "en",
        escape=lambda s: s.replace("<", "&lt;"),
    )
    assert "&lt;!channel>" in escaped
    assert translator.render(Text("{when}", {"when": when}), "nl", "Europe/Amsterdam") == (
        "zondag 25 oktober 2026, 02:30"
    )
    assert (
        translator.render(
            _n("Please choose at least {count}.", "Please choose at least {count}.", 2), "en"
        )
        == "Please choose at least 2."
    )
    lines = translator.render(Text("{x}", {"x": Lines(("a", "b"))}), "en")
    assert lines == "• a\n• b"


def test_text_survives_the_outbox_round_trip() -> None:
    when = datetime(2026, 10, 25, 12, 0, tzinfo=UTC)
    original = _l(
        "{programme} ({start} – {end})\n{lines}",
        programme="P",
        start=when.date(),
        end=when,
        lines=Lines((_l("Mentors"), "x")),
    )
    assert Text.from_json(original.to_json()) == original


def test_times_for_humans_in_one_zone_or_in_each_of_a_shared_spaces_zones() -> None:
    translator = Translator()
    when = Text("{when}", {"when": datetime(2026, 10, 13, 17, 0, tzinfo=UTC)})
    assert translator.render(when, "en", "America/New_York") == (
        "Tuesday, October 13, 2026, 1:00\u202fPM"
    )
    both = ("Europe/Amsterdam", "America/New_York")
    assert translator.render(when, "nl", both) == (
        "dinsdag 13 oktober 2026, 19:00 (Amsterdam) / 13:00 (New York)"
    )
    late = Text("{when}", {"when": datetime(2026, 10, 13, 2, 30, tzinfo=UTC)})
    assert translator.render(late, "en", both) == (
        "Tuesday, October 13, 2026, 4:30\u202fAM (Amsterdam) / "
        "Monday, October 12, 2026, 10:30\u202fPM (New York)"
    )
    for language in LANGUAGES:  # no seconds, in any language or zone
        for zones in ("UTC", "Asia/Kolkata", both):
            assert not re.search(r"\d:\d\d:\d\d", translator.render(when, language, zones))


def _literal_messages() -> dict[str, str]:
    """Every `_l("...")` and `_n("...", ...)` in the source, read with Python's own parser:
    Babel's extractor misses a message nested in a conditional or a comprehension inside
    another call's arguments, and such a message would reach Dutch readers in English."""
    found = {}
    for folder in ("bot", "flows", "adapters"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in ("_l", "_n")
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.setdefault(node.args[0].value, where)
    return found


def test_every_message_in_the_source_reaches_the_catalogues() -> None:
    with (ROOT / "locales" / "nl" / "LC_MESSAGES" / "maatje.po").open("rb") as fh:
        catalogue = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    missing = {where: text for text, where in _literal_messages().items() if text not in catalogue}
    assert not missing, f"not extracted (build the text outside the call): {missing}"
