"""The supervisor's per-agency table as an XLSX workbook.

Counts are numbers and shares are numbers formatted as percentages, so a spreadsheet can
sum and sort them; agency codes and names are written as text cells (``@`` format, type
string), so a code like ``001`` keeps its zeros and a name starting with ``=`` is never
taken for a formula. Fixed document dates keep the bytes the same for the same figures.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from workflow.statistics.supervision import COLUMNS, AgencyFigures, Period, column_value

FIXED_TIME = datetime(2000, 1, 1)
SHEET_NAME = "各机关办理情况"


def _text(cell: Cell, value: str) -> None:
    cell.value = value
    cell.data_type = "s"
    cell.number_format = "@"


def render_supervision_xlsx(
    title: str, period: Period, rows: Sequence[AgencyFigures], total: AgencyFigures
) -> bytes:
    """One sheet: a title line, the period, the header, a line per agency, the total."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET_NAME
    _text(sheet.cell(1, 1), title)
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    _text(sheet.cell(2, 1), f"统计期间：{period.label}")
    header = ["机关代码", "机关名称", *(c.label for c in COLUMNS)]
    for col, label in enumerate(header, start=1):
        _text(sheet.cell(4, col), label)
        sheet.cell(4, col).font = Font(bold=True)
    for line, row in enumerate([*rows, total], start=5):
        _text(sheet.cell(line, 1), row.code)
        _text(sheet.cell(line, 2), "　" * row.depth + row.name)
        for col, column in enumerate(COLUMNS, start=3):
            value = column_value(row, column)
            cell = sheet.cell(line, col)
            if value is None:
                _text(cell, "—")
                continue
            cell.value = value
            if column.kind == "share":
                cell.number_format = "0.0%"
            elif column.kind == "days":
                cell.number_format = "0.0"
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 30
    for col in range(3, len(header) + 1):
        sheet.column_dimensions[get_column_letter(col)].width = 12
    sheet.freeze_panes = "C5"
    book.properties.created = FIXED_TIME
    book.properties.modified = FIXED_TIME
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
