"""The one CSV writer: formulas neutralised, numbers intact, UTF-8 with BOM for Excel."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.kernel.csv_safe import FORMULA_STARTS, safe_cell, write_csv


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ('=HYPERLINK("http://x","点击")', '\'=HYPERLINK("http://x","点击")'),
        ("张三", "张三"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (-3, "-3"),
        (2.5, "2.5"),
        (True, "True"),
        (date(2026, 1, 2), "2026-01-02"),
    ],
)
def test_safe_cell(value, expected) -> None:
    assert safe_cell(value) == expected


@settings(max_examples=50)
@given(st.lists(st.lists(st.text(max_size=30), min_size=1, max_size=4), max_size=5))
def test_round_trip_never_starts_with_a_formula(rows) -> None:
    data = write_csv(rows, ["列"] * 4)
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert parsed[0] == ["列"] * 4
    for written, original in zip(parsed[1:], rows, strict=True):
        assert len(written) == len(original)
        for cell, raw in zip(written, original, strict=True):
            assert not cell.startswith(FORMULA_STARTS)
            assert cell in (raw, "'" + raw)
