"""CSV that is safe to open in a spreadsheet: the one writer every export uses.

Exported cells hold what applicants and staff typed. A cell starting with ``=``, ``+``,
``-`` or ``@`` (or a tab / carriage return, which Excel strips before looking) is run as
a formula when the file is opened, so an applicant named ``=HYPERLINK(...)`` could make a
clerk's spreadsheet fetch a URL or worse (CSV injection). Such cells get a leading
apostrophe, which spreadsheets show as plain text. Numbers are left alone: ``-3`` from
an ``int`` is data we produced, not text someone typed.

The bytes are UTF-8 with a BOM because Excel on Chinese Windows otherwise reads a CSV as
GBK and shows every Chinese character garbled.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

#: First characters that make a spreadsheet treat a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """``value`` as cell text that a spreadsheet will not evaluate.

    ``None`` is an empty cell, dates are ISO, numbers (not bools) are written as is;
    any other text starting with a formula character gets a leading apostrophe.
    """
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(rows: Iterable[Sequence[Any]], header: Sequence[str]) -> bytes:
    """A whole CSV file (header first, CRLF lines, every cell neutralised) as UTF-8 + BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in header])
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")
