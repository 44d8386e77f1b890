"""Table 三 (收到和处理政府信息公开申请情况) of both national formats, as data.

Rows are built from the outcome catalogue, so the outcome labels are never retyped and
a new outcome cannot be forgotten here. Each row carries its *path* of labels from the
outermost header to its own label; equal prefixes of consecutive rows are the merged
cells of the official table (三、本年度办理结果 spanning the result rows, （三）不予公开
spanning its eight sub-rows), which ``label_cells`` turns into row and column spans for
the HTML, PDF and XLSX renderers.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.catalog.applicants import APPLICANT_KINDS, ORGANISATION_GROUP_LABEL
from workflow.catalog.outcomes import FORMATS, GROUP_BY_CODE, OUTCOME_BY_CODE, OUTCOMES

TITLE = "三、收到和处理政府信息公开申请情况"
#: Printed under the title; the same identity is check 1 of docs/domain.md §6.
CONSISTENCY_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
#: Header spanning every data column.
COLUMN_HEADER = "申请人情况"

NEW_RECEIVED = "new_received"
CARRIED_OVER = "carried_over"
TOTAL_CONCLUDED = "total_concluded"
CARRIED_FORWARD = "carried_forward"
TOTAL = "total"

SECTION_NEW = "一、本年新收政府信息公开申请数量"
SECTION_CARRIED_OVER = "二、上年结转政府信息公开申请数量"
SECTION_RESULTS = "三、本年度办理结果"
SECTION_CARRIED_FORWARD = "四、结转下年度继续办理"
TOTAL_CONCLUDED_LABEL = "（七）总计"
TOTAL_LABEL = "总计"

#: Depth of the label area in the official table: section | group | item.
LABEL_DEPTH = 3


@dataclass(frozen=True)
class Column:
    """A data column; ``group`` is the header above it (法人或其他组织) if any."""

    key: str
    label: str
    group: str | None = None

    @property
    def full_label(self) -> str:
        """Unambiguous name for check details (two tables have a column called 其他)."""
        return f"{self.group}·{self.label}" if self.group else self.label


@dataclass(frozen=True)
class Table3Row:
    """One data row of table 三.

    ``path`` runs from the outermost header to the row's own label; ``outcome_codes``
    are the outcome codes counted in it (empty for the non-result rows).
    """

    key: str
    path: tuple[str, ...]
    outcome_codes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.path[-1]

    @property
    def headers(self) -> tuple[str, ...]:
        return self.path[:-1]

    @property
    def is_outcome(self) -> bool:
        return bool(self.outcome_codes)


@dataclass(frozen=True)
class LabelCell:
    """A label cell to draw: at ``(row, column)`` of the label area, with its spans.

    Cells covered by another cell's span are simply not emitted, as in HTML tables.
    """

    row: int
    column: int
    text: str
    row_span: int
    col_span: int


@dataclass(frozen=True)
class Table3Layout:
    fmt: str
    rows: tuple[Table3Row, ...]
    columns: tuple[Column, ...]
    title: str = TITLE
    note: str = CONSISTENCY_NOTE
    column_header: str = COLUMN_HEADER

    @property
    def row_keys(self) -> tuple[str, ...]:
        return tuple(r.key for r in self.rows)

    @property
    def column_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)

    @property
    def kind_keys(self) -> tuple[str, ...]:
        """The applicant columns, i.e. every column but 总计."""
        return tuple(c.key for c in self.columns if c.key != TOTAL)

    @property
    def outcome_rows(self) -> tuple[Table3Row, ...]:
        """The rows (一) to (六) whose sum is (七)总计."""
        return tuple(r for r in self.rows if r.is_outcome)

    def row(self, key: str) -> Table3Row:
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(key)

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    def row_for_outcome(self, code: str) -> str:
        """The row an outcome code is counted under in this format."""
        return OUTCOME_BY_CODE[code].row_key(self.fmt)

    def label_cells(self) -> tuple[LabelCell, ...]:
        return label_cells([r.path for r in self.rows], LABEL_DEPTH)


def label_cells(paths: list[tuple[str, ...]], depth: int) -> tuple[LabelCell, ...]:
    """Merged label cells of a table whose rows are label paths.

    A header (every path element but the last) is merged downwards over the consecutive
    rows that share the path up to it; a row's own label spans the remaining label
    columns to the right.
    """
    cells: list[LabelCell] = []
    for i, path in enumerate(paths):
        for level, text in enumerate(path):
            own = level == len(path) - 1
            prefix = path[: level + 1]
            if not own and i > 0 and _is_header_of(paths[i - 1], prefix):
                continue  # covered by the header cell started on an earlier row
            span = 1
            if not own:
                while i + span < len(paths) and _is_header_of(paths[i + span], prefix):
                    span += 1
            cells.append(LabelCell(i, level, text, span, depth - level if own else 1))
    return tuple(cells)


def _is_header_of(path: tuple[str, ...], prefix: tuple[str, ...]) -> bool:
    return len(path) > len(prefix) and path[: len(prefix)] == prefix


def _outcome_rows(fmt: str) -> list[Table3Row]:
    """Result rows in catalogue order, grouped by the row each outcome counts under."""
    codes_by_row: dict[str, list[str]] = {}
    for outcome in OUTCOMES:
        codes_by_row.setdefault(outcome.row_key(fmt), []).append(outcome.code)
    rows = []
    for key, codes in codes_by_row.items():
        first = OUTCOME_BY_CODE[codes[0]]
        if key not in OUTCOME_BY_CODE:  # a whole group folded into one row: 2019 （六）
            path: tuple[str, ...] = (SECTION_RESULTS, GROUP_BY_CODE[key].label)
        elif "." in key:  # a numbered sub-row under its group header
            path = (SECTION_RESULTS, first.group.label, first.label)
        else:  # a group that is a single outcome: （一）, （二）
            path = (SECTION_RESULTS, first.label)
        rows.append(Table3Row(key, path, tuple(codes)))
    return rows


def _columns() -> tuple[Column, ...]:
    kinds = tuple(
        Column(k.code, k.label, ORGANISATION_GROUP_LABEL if k.is_organisation else None)
        for k in APPLICANT_KINDS
    )
    return (*kinds, Column(TOTAL, TOTAL_LABEL))


def _build(fmt: str) -> Table3Layout:
    rows = (
        Table3Row(NEW_RECEIVED, (SECTION_NEW,)),
        Table3Row(CARRIED_OVER, (SECTION_CARRIED_OVER,)),
        *_outcome_rows(fmt),
        Table3Row(TOTAL_CONCLUDED, (SECTION_RESULTS, TOTAL_CONCLUDED_LABEL)),
        Table3Row(CARRIED_FORWARD, (SECTION_CARRIED_FORWARD,)),
    )
    layout = Table3Layout(fmt, rows, _columns())
    _validate(layout)
    return layout


def _validate(layout: Table3Layout) -> None:
    """Fail at import if the layout contradicts itself (it would skew every report)."""
    keys = layout.row_keys
    assert len(keys) == len(set(keys)), f"duplicate row key in {layout.fmt}"
    counted = [c for r in layout.outcome_rows for c in r.outcome_codes]
    assert sorted(counted) == sorted(OUTCOME_BY_CODE), "every outcome in exactly one row"
    assert all(len(r.path) <= LABEL_DEPTH for r in layout.rows)


TABLE3_LAYOUTS: dict[str, Table3Layout] = {fmt: _build(fmt) for fmt in FORMATS}


def table3_layout(fmt: str) -> Table3Layout:
    """The table 三 layout of a national format ("2019" or "2021")."""
    try:
        return TABLE3_LAYOUTS[fmt]
    except KeyError:
        raise ValueError(f"未知的报表格式：{fmt}（可选：{'、'.join(FORMATS)}）") from None
