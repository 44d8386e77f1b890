"""Tables 二, 三 and 四 of the annual report as an XLSX workbook.

Offices paste the tables into the provincial template or a web form, so each table is a
sheet laid out like the printed one: the same merged header cells and row labels (from
the same ``documents.grid``), thin borders on every cell of a merged range, counts as
numbers so a spreadsheet can sum them. 本年增/减 keeps the printed form ("减8"), as in
the official table. The same report gives the same bytes every time: creation and
modification dates are fixed (the data, not the moment of export, is what the workbook
is about), and so are the time stamps of the zip entries, so an export can be
fingerprinted like the PDFs.
"""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from documents.grid import Grid, Role, report_grids
from workflow.annual_report.report import AnnualReport

#: Sheet names (at most 31 characters, no ``[]:*?/\``).
SHEET_NAMES: dict[str, str] = {
    "table2": "二、主动公开政府信息情况",
    "table3": "三、收到和处理申请情况",
    "table4": "四、行政复议行政诉讼情况",
}
#: Rows above each table: the report title and the table title.
TABLE_TOP = 3
#: Width in characters of the whole table (scaled by the grid's relative widths).
TABLE_WIDTH = 120
FIXED_TIME = datetime(2000, 1, 1)

_SIDE = Side(style="thin", color="000000")
_BORDER = Border(left=_SIDE, right=_SIDE, top=_SIDE, bottom=_SIDE)


def _text(cell: Any, text: str) -> Any:
    """Store ``text`` as a string cell, never a formula.

    openpyxl stores any string starting with ``=`` as a formula (review V13: an agency
    named ``=HYPERLINK(…)`` became a live link in the report). Setting the value and then
    the type keeps it text, exactly as typed, which a spreadsheet shows and never runs.
    """
    cell.value = text
    cell.data_type = "s"
    return cell


def _value(cell_text: str, role: Role) -> int | Decimal | str:
    """Numbers as numbers (so a spreadsheet can sum them), text as text."""
    if role == Role.VALUE and cell_text:
        if cell_text.isdigit():
            return int(cell_text)
        try:
            return Decimal(cell_text)
        except ArithmeticError:
            return cell_text
    return cell_text


def _write_grid(sheet: Worksheet, grid: Grid, title: str) -> None:
    _text(sheet.cell(1, 1), title).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=grid.n_cols)
    _text(sheet.cell(2, 1), grid.title).font = Font(bold=True, size=12)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=grid.n_cols)
    for cell in grid.cells:
        row, col = TABLE_TOP + cell.row, 1 + cell.col
        value = _value(cell.text, cell.role)
        target = sheet.cell(row, col)
        if isinstance(value, str):
            _text(target, value)
        else:
            target.value = value
        left = cell.role in (Role.LABEL, Role.NOTE) and cell.col_span > 1
        target.alignment = Alignment(
            horizontal="left" if left else "center", vertical="center", wrap_text=True
        )
        for r in range(row, row + cell.row_span):
            for c in range(col, col + cell.col_span):
                sheet.cell(r, c).border = _BORDER
        if cell.row_span > 1 or cell.col_span > 1:
            sheet.merge_cells(
                start_row=row,
                start_column=col,
                end_row=row + cell.row_span - 1,
                end_column=col + cell.col_span - 1,
            )
    for i, width in enumerate(grid.widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = max(4.0, round(width * TABLE_WIDTH))
    sheet.freeze_panes = sheet.cell(TABLE_TOP + grid.header_rows, 1)


def render_report_xlsx(report: AnnualReport) -> bytes:
    """The three tables of ``report`` as XLSX bytes (one sheet per table)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for grid in report_grids(report.fmt, report.table2, report.table3, report.table4):
        _write_grid(workbook.create_sheet(SHEET_NAMES[grid.name]), grid, report.title)
    workbook.properties.title = report.title
    workbook.properties.creator = "Gongkai 依申请公开办理系统"
    workbook.properties.created = FIXED_TIME
    # ``Workbook.save`` would stamp "now" as the modification time: write it ourselves.
    workbook.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    with _FixedTimeZip(buffer, "w", ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).save()
    return buffer.getvalue()


class _FixedTimeZip(ZipFile):
    """A zip whose entries carry ``FIXED_TIME`` instead of the moment they were written
    (openpyxl adds entries three ways: ``writestr``, ``open(name, "w")`` and, for the
    sheets, ``write`` from a temporary file, which would carry the file's mtime)."""

    def _entry(self, name: str | ZipInfo) -> str | ZipInfo:
        if not isinstance(name, str):
            return name
        entry = ZipInfo(name, FIXED_TIME.timetuple()[:6])
        entry.compress_type = self.compression
        return entry

    def writestr(self, zinfo_or_arcname: str | ZipInfo, data: Any, *args: Any, **kw: Any) -> None:
        super().writestr(self._entry(zinfo_or_arcname), data, *args, **kw)

    def write(self, filename: Any, arcname: str | None = None, *args: Any, **kw: Any) -> None:
        with open(filename, "rb") as source:
            self.writestr(arcname or str(filename), source.read())

    def open(self, name: str | ZipInfo, mode: str = "r", *args: Any, **kw: Any) -> Any:
        return super().open(self._entry(name) if mode == "w" else name, mode, *args, **kw)
