"""Refresh the gettext catalogues from the source: `python scripts/catalogues.py`.

Extracts every `_l`/`_n` message into locales/maatje.pot, merges it into locales/nl and
locales/en, and fills the English catalogue with the source text where it is still empty
(English is the source language; its catalogue exists so the English wording can be polished
without touching code). Dutch entries left empty are listed: the test suite fails until they
are translated.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "maatje.pot"


def run(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "--quiet", *args], check=True, cwd=ROOT
    )


def main() -> int:
    run(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "-k",
        "_n:1,2",
        "--no-location",
        "--sort-output",
        "--project",
        "maatje",
        "-o",
        str(POT),
        ".",
    )
    for language in ("nl", "en"):
        po = LOCALES / language / "LC_MESSAGES" / "maatje.po"
        if po.exists():
            run(
                "update",
                "-i",
                str(POT),
                "-o",
                str(po),
                "-l",
                language,
                "--no-fuzzy-matching",
                "--ignore-obsolete",
            )
        else:
            run("init", "-i", str(POT), "-o", str(po), "-l", language)
    english = LOCALES / "en" / "LC_MESSAGES" / "maatje.po"
    with english.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for message in catalog:
        if (isinstance(message.id, tuple) and not all(message.string)) or (
            message.id and not message.string
        ):
            message.string = message.id
        message.flags.discard("fuzzy")
    with english.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False)
    with (LOCALES / "nl" / "LC_MESSAGES" / "maatje.po").open("rb") as fh:
        dutch = read_po(fh, locale="nl")
    missing = [
        m.id
        for m in dutch
        if m.id
        and (
            not m.string
            or "fuzzy" in m.flags
            or (isinstance(m.string, tuple) and not all(m.string))
        )
    ]
    for msgid in missing:
        print(f"nl: untranslated: {msgid if isinstance(msgid, str) else msgid[0]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
