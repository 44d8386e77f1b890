"""The full 台账 as an XLSX workbook (rows from ``workflow.ledger.export``).

One sheet, the first (the one an import reads), header in row 1. Dates are date cells in
YYYY-MM-DD, fees are numbers, and every text is a text cell: an applicant's name or a
subject beginning with "=", "+", "-" or "@" stays the text it is, never a formula
(openpyxl would otherwise store "=…" as one). Characters XML cannot hold (control
characters pasted from elsewhere) are dropped, since they would make the file unreadable.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from workflow.ledger.reader import LedgerCell as Cell

SHEET_TITLE = "申请台账"
DATE_FORMAT = "yyyy-mm-dd"


def _cell(sheet: WriteOnlyWorksheet, value: Cell, *, bold: bool = False) -> WriteOnlyCell:
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # text, whatever it starts with
    else:
        cell = WriteOnlyCell(sheet, value)
        if isinstance(value, date):
            cell.number_format = DATE_FORMAT
    if bold:
        cell.font = Font(bold=True)
    return cell


def ledger_xlsx(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """The workbook's bytes: ``header`` in bold, then one row per request."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_TITLE)
    sheet.freeze_panes = "C2"
    sheet.append([_cell(sheet, h, bold=True) for h in header])
    for row in rows:
        sheet.append([_cell(sheet, v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
