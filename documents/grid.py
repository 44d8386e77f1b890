"""Report tables as grids of merged cells: the one geometry HTML, PDF and XLSX share.

The layouts (``workflow.statistics.layouts``) say *what* the official tables contain; a
``Grid`` says *where*: every cell with its row, column, spans and text, header rows
first. Building it once, here, is what makes the three renderers agree: each of them
only walks ``Grid.cells`` and draws a box per cell (``<td rowspan colspan>``, a
reportlab ``SPAN``, an openpyxl merged range).

The tables follow the national template:

* 三 — the consistency note fills the top-left block (three label columns × three header
  rows); 申请人情况 spans the data columns; 自然人 and 总计 span two header rows;
  法人或其他组织 spans its five columns. Row labels are the layout's merged label cells.
* 四 — no label column: 行政复议 over its five columns, 行政诉讼 over ten with its routes
  (未经复议直接起诉 / 复议后起诉) below; the result columns under the lowest heading.
* 二 — one table: per clause a banner row (第二十条第（一）项), a header row (信息内容 and
  the clause's columns) and one row per item; a clause with fewer columns than the
  widest lets its last column span the rest, as the template does.

Value cells carry a ``key`` — ``"row.column"`` (三), ``"group.column"`` (四), the table 二
cell key — the same keys ``statistics.Check.cells`` name, so a page can highlight the
cells a failed check compares or link a cell to the requests behind it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from workflow.annual_report.table2_values import display
from workflow.statistics.fold import Table2Value
from workflow.statistics.layouts.table2 import table2_layout
from workflow.statistics.layouts.table3 import LABEL_DEPTH, table3_layout
from workflow.statistics.layouts.table4 import TABLE4_LAYOUT


class Role(StrEnum):
    """What a cell is, for styling: a header, a row label, a number, the note."""

    HEADER = "header"
    LABEL = "label"
    VALUE = "value"
    NOTE = "note"


@dataclass(frozen=True)
class GridCell:
    row: int
    col: int
    text: str
    row_span: int = 1
    col_span: int = 1
    role: Role = Role.HEADER
    key: str | None = None
    #: For a value cell, its row and column in words ("（一）予以公开·自然人"): the
    #: accessible name of an input or link, and the name a check detail uses.
    label: str = ""

    @property
    def is_value(self) -> bool:
        return self.role == Role.VALUE


@dataclass(frozen=True)
class Grid:
    """A table: its title, size, header row count, cells and relative column widths."""

    name: str
    title: str
    n_rows: int
    n_cols: int
    header_rows: int
    cells: tuple[GridCell, ...]
    #: Relative column widths (they sum to 1); the PDF and XLSX scale them.
    widths: tuple[float, ...]
    #: Label columns one character wide, set vertically (三、本年度办理结果).
    vertical_cols: tuple[int, ...] = ()

    def is_vertical(self, cell: GridCell) -> bool:
        return cell.role == Role.LABEL and cell.col_span == 1 and cell.col in self.vertical_cols

    def rows(self) -> list[list[GridCell]]:
        """Cells by the row they start in, left to right (the HTML ``<tr>`` order)."""
        rows: list[list[GridCell]] = [[] for _ in range(self.n_rows)]
        for cell in sorted(self.cells, key=lambda c: (c.row, c.col)):
            rows[cell.row].append(cell)
        return rows

    def value_cell(self, key: str) -> GridCell:
        for cell in self.cells:
            if cell.key == key:
                return cell
        raise KeyError(key)

    @property
    def value_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.cells if c.key is not None)


def _grid(
    name: str,
    title: str,
    header_rows: int,
    widths: list[float],
    cells: list[GridCell],
    vertical_cols: tuple[int, ...] = (),
) -> Grid:
    """Assemble a grid, refusing one where a position is covered twice or not at all."""
    n_cols = len(widths)
    n_rows = max(c.row + c.row_span for c in cells)
    covered: dict[tuple[int, int], GridCell] = {}
    for cell in cells:
        for r in range(cell.row, cell.row + cell.row_span):
            for c in range(cell.col, cell.col + cell.col_span):
                if (r, c) in covered or c >= n_cols:
                    raise AssertionError(f"{name}: cell {cell.text!r} overlaps at {(r, c)}")
                covered[(r, c)] = cell
    if len(covered) != n_rows * n_cols:
        raise AssertionError(f"{name}: {n_rows * n_cols - len(covered)} positions uncovered")
    total = sum(widths)
    return Grid(
        name,
        title,
        n_rows,
        n_cols,
        header_rows,
        tuple(cells),
        tuple(w / total for w in widths),
        vertical_cols,
    )


T = TypeVar("T")


def _runs(labels: Sequence[T | None]) -> list[tuple[int, int, T | None]]:
    """Consecutive equal labels as (start, length, label): the spans of a header row."""
    runs: list[tuple[int, int, T | None]] = []
    for i, label in enumerate(labels):
        if runs and runs[-1][2] == label and label is not None:
            start, length, _ = runs[-1]
            runs[-1] = (start, length + 1, label)
        else:
            runs.append((i, 1, label))
    return runs


# --------------------------------------------------------------------------- table 三

#: Label columns of table 三: the narrow section column (三、本年度办理结果 set vertically),
#: the group column ((三)不予公开), the item column; then the data columns.
_T3_LABEL_WIDTHS = (0.045, 0.15, 0.295)


def table3_grid(fmt: str, counts: Mapping[str, Mapping[str, int]]) -> Grid:
    """Table 三 of format ``fmt`` with ``counts`` (``{row: {column: n}}``, missing = 0)."""
    layout = table3_layout(fmt)
    groups = [c.group for c in layout.columns]
    header_rows = 3 if any(groups) else 2
    cells = [
        GridCell(0, 0, layout.note, header_rows, LABEL_DEPTH, Role.NOTE),
        GridCell(0, LABEL_DEPTH, layout.column_header, col_span=len(layout.columns)),
    ]
    for start, length, group in _runs(groups):
        col = LABEL_DEPTH + start
        if group is None:  # 自然人, 总计: one cell down to the bottom header row
            cells.append(GridCell(1, col, layout.columns[start].label, header_rows - 1))
            continue
        cells.append(GridCell(1, col, group, col_span=length))
        cells.extend(GridCell(2, col + i, layout.columns[start + i].label) for i in range(length))
    cells.extend(
        GridCell(header_rows + lc.row, lc.column, lc.text, lc.row_span, lc.col_span, Role.LABEL)
        for lc in layout.label_cells()
    )
    for i, row in enumerate(layout.rows):
        row_name = "·".join(row.path[1:]) or row.label
        for j, column in enumerate(layout.columns):
            value = int(counts.get(row.key, {}).get(column.key, 0))
            cells.append(
                GridCell(
                    header_rows + i,
                    LABEL_DEPTH + j,
                    str(value),
                    role=Role.VALUE,
                    key=f"{row.key}.{column.key}",
                    label=f"{row_name}·{column.full_label}",
                )
            )
    data_width = (1 - sum(_T3_LABEL_WIDTHS)) / len(layout.columns)
    widths = [*_T3_LABEL_WIDTHS, *([data_width] * len(layout.columns))]
    return _grid("table3", layout.title, header_rows, widths, cells, vertical_cols=(0,))


# --------------------------------------------------------------------------- table 四


def table4_grid(counts: Mapping[str, Mapping[str, int]]) -> Grid:
    """Table 四 (``{group: {column: n}}``, missing = 0): headings from the group paths."""
    layout = TABLE4_LAYOUT
    groups, columns = layout.groups, layout.columns
    depth = max(len(g.path) for g in groups)
    header_rows = depth + 1
    width = len(columns)
    cells: list[GridCell] = []
    for level in range(depth):
        prefixes = [g.path[: level + 1] if len(g.path) > level else None for g in groups]
        for start, length, prefix in _runs(prefixes):
            if prefix is not None:
                cells.append(GridCell(level, start * width, prefix[-1], col_span=length * width))
    for gi, group in enumerate(groups):
        for ci, column in enumerate(columns):
            col = gi * width + ci
            cells.append(
                GridCell(len(group.path), col, column.label, header_rows - len(group.path))
            )
            value = int(counts.get(group.key, {}).get(column.key, 0))
            cells.append(
                GridCell(
                    header_rows,
                    col,
                    str(value),
                    role=Role.VALUE,
                    key=f"{group.key}.{column.key}",
                    label=f"{group.label}·{column.label}",
                )
            )
    return _grid("table4", layout.title, header_rows, [1.0] * (len(groups) * width), cells)


# --------------------------------------------------------------------------- table 二

_T2_LABEL_WIDTH = 0.34


def _spans(count: int, total: int) -> list[int]:
    """Column spans of a clause with ``count`` columns in a table ``total`` wide."""
    return [1] * (count - 1) + [total - count + 1]


def table2_grid(fmt: str, values: Mapping[str, Table2Value]) -> Grid:
    """Table 二 of format ``fmt`` with the entered ``values`` by cell key (missing = blank)."""
    layout = table2_layout(fmt)
    widest = max(len(s.columns) for s in layout.sections)
    cells: list[GridCell] = []
    row = 0
    for section in layout.sections:
        cells.append(GridCell(row, 0, section.label, col_span=widest + 1))
        cells.append(GridCell(row + 1, 0, layout.item_header))
        spans = _spans(len(section.columns), widest)
        col = 1
        for column, span in zip(section.columns, spans, strict=True):
            cells.append(GridCell(row + 1, col, column.label, col_span=span))
            col += span
        for i, item in enumerate(section.items):
            r = row + 2 + i
            cells.append(GridCell(r, 0, item.label, role=Role.LABEL))
            col = 1
            for column, span in zip(section.columns, spans, strict=True):
                key = f"{item.key}.{column.key}"
                text = display(column.kind, values.get(key))
                cells.append(
                    GridCell(
                        r,
                        col,
                        text,
                        col_span=span,
                        role=Role.VALUE,
                        key=key,
                        label=f"{item.label}·{column.label}",
                    )
                )
                col += span
        row += 2 + len(section.items)
    widths = [_T2_LABEL_WIDTH, *([(1 - _T2_LABEL_WIDTH) / widest] * widest)]
    return _grid("table2", layout.title, 0, widths, cells)


def report_grids(
    fmt: str,
    table2: Mapping[str, Table2Value],
    table3: Mapping[str, Mapping[str, int]],
    table4: Mapping[str, Mapping[str, int]],
) -> tuple[Grid, Grid, Grid]:
    """The three tables of a report, in the order they are printed (二, 三, 四)."""
    return table2_grid(fmt, table2), table3_grid(fmt, table3), table4_grid(table4)
