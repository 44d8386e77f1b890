"""The merged-cell grids the HTML, PDF and XLSX renderers share (documents.grid)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from documents.grid import GridCell, Role, _grid, table2_grid, table3_grid, table4_grid
from workflow.catalog.outcomes import FORMATS
from workflow.statistics.fold import checks, table3_from_counts, table4_from_counts
from workflow.statistics.layouts import table2_layout, table3_layout
from workflow.statistics.layouts.table4 import TABLE4_LAYOUT


def at(grid, row: int, col: int) -> GridCell:
    return next(c for c in grid.cells if (c.row, c.col) == (row, col))


@pytest.mark.parametrize("fmt", FORMATS)
def test_table3_official_header(fmt):
    grid = table3_grid(fmt, {})
    layout = table3_layout(fmt)
    assert grid.header_rows == 3 and grid.n_cols == 3 + len(layout.columns)
    note = at(grid, 0, 0)
    assert (note.text, note.role, note.row_span, note.col_span) == (layout.note, Role.NOTE, 3, 3)
    assert (at(grid, 0, 3).text, at(grid, 0, 3).col_span) == ("申请人情况", 7)
    assert (at(grid, 1, 3).text, at(grid, 1, 3).row_span) == ("自然人", 2)
    assert (at(grid, 1, 4).text, at(grid, 1, 4).col_span) == ("法人或其他组织", 5)
    assert [at(grid, 2, c).text for c in range(4, 9)] == [
        "商业企业",
        "科研机构",
        "社会公益组织",
        "法律服务机构",
        "其他",
    ]
    assert (at(grid, 1, 9).text, at(grid, 1, 9).row_span) == ("总计", 2)
    results = at(grid, 5, 0)
    assert results.text == "三、本年度办理结果" and results.row_span == len(layout.outcome_rows) + 1
    assert grid.is_vertical(results) and not grid.is_vertical(at(grid, 3, 0))
    assert abs(sum(grid.widths) - 1) < 1e-9


def test_table3_values_and_keys_match_the_checks():
    counts = table3_from_counts({("new_received", "natural_person"): 10}, "2019")
    grid = table3_grid("2019", counts)
    cell = grid.value_cell("new_received.natural_person")
    assert cell.text == "10" and cell.label == "一、本年新收政府信息公开申请数量·自然人"
    assert grid.value_cell("new_received.total").text == "10"
    assert (
        grid.value_cell("other.commercial_enterprise").label
        == "（六）其他处理·法人或其他组织·商业企业"
    )
    check_cells = {
        c
        for check in checks(counts, table4_from_counts({}), "2019")
        for c in check.cells
        if not c.startswith("previous:")
    }
    t3_cells = {c for c in check_cells if c.split(".")[0] not in TABLE4_LAYOUT.group_keys}
    assert t3_cells <= set(grid.value_keys)
    assert set(table4_grid({}).value_keys) >= check_cells - t3_cells


def test_table4_two_level_header():
    grid = table4_grid(table4_from_counts({("litigation_direct", "upheld"): 2}))
    assert grid.header_rows == 3 and grid.n_cols == 15 and grid.n_rows == 4
    assert (at(grid, 0, 0).text, at(grid, 0, 0).col_span) == ("行政复议", 5)
    assert (at(grid, 0, 5).text, at(grid, 0, 5).col_span) == ("行政诉讼", 10)
    assert (at(grid, 1, 5).text, at(grid, 1, 10).text) == ("未经复议直接起诉", "复议后起诉")
    assert (at(grid, 1, 0).text, at(grid, 1, 0).row_span) == ("结果维持", 2)
    assert [at(grid, 2, c).text for c in range(5, 10)] == [c.label for c in TABLE4_LAYOUT.columns]
    assert [at(grid, 3, c).text for c in range(15)] == list("000002000200000")
    assert grid.value_cell("litigation_direct.total").label == "行政诉讼·未经复议直接起诉·总计"


@pytest.mark.parametrize("fmt", FORMATS)
def test_table2_sections_span_the_table(fmt):
    layout = table2_layout(fmt)
    grid = table2_grid(fmt, {})
    widest = max(len(s.columns) for s in layout.sections)
    assert grid.n_cols == widest + 1
    banners = [c for c in grid.cells if c.col_span == grid.n_cols]
    assert [c.text for c in banners] == [s.label for s in layout.sections]
    assert set(grid.value_keys) == set(layout.cell_keys)
    assert all(c.text == "" for c in grid.cells if c.is_value)


def test_table2_values_as_printed():
    grid = table2_grid(
        "2019", {"licensing.change": -8, "procurement.amount": Decimal("3010869.24")}
    )
    assert grid.value_cell("licensing.change").text == "减8"
    amount = grid.value_cell("procurement.amount")
    assert amount.text == "3010869.24" and amount.col_span == 2
    fees = table2_grid("2021", {}).value_cell("fees.amount")
    assert fees.col_span == 3 and fees.label == "行政事业性收费·本年收费金额（单位：万元）"


def test_a_grid_with_overlapping_or_missing_cells_is_refused():
    with pytest.raises(AssertionError, match="overlaps"):
        _grid("t", "t", 0, [1, 1], [GridCell(0, 0, "a", col_span=2), GridCell(0, 1, "b")])
    with pytest.raises(AssertionError, match="uncovered"):
        _grid("t", "t", 0, [1, 1], [GridCell(0, 0, "a")])
