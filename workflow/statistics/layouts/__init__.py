"""The national annual-report table layouts (docs/domain.md §7), defined once as data.

The HTML preview, the JSON export, the PDF and the XLSX are renderers of the same
(layout, counts) pair, so they cannot disagree about a label, a row order or a merged
cell. The format of a year is chosen by ``format_for_year`` and can be overridden.
"""

from __future__ import annotations

from workflow.catalog.outcomes import FORMATS
from workflow.statistics.layouts.table2 import TABLE2_LAYOUTS, Table2Layout, table2_layout
from workflow.statistics.layouts.table3 import TABLE3_LAYOUTS, Table3Layout, table3_layout
from workflow.statistics.layouts.table4 import TABLE4_LAYOUT, Table4Layout

#: The first year reported in the 2021 format (the national template changed then).
FIRST_2021_FORMAT_YEAR = 2021

__all__ = [
    "FIRST_2021_FORMAT_YEAR",
    "FORMATS",
    "TABLE2_LAYOUTS",
    "TABLE3_LAYOUTS",
    "TABLE4_LAYOUT",
    "Table2Layout",
    "Table3Layout",
    "Table4Layout",
    "format_for_year",
    "table2_layout",
    "table3_layout",
]


def format_for_year(year: int, override: str | None = None) -> str:
    """The report format of ``year``: "2019" up to 2020, "2021" from 2021.

    Years before 2019 (reports entered by hand for continuity checks) use the 2019
    format, the oldest one the system knows. An ``override`` (the admin's per-year
    setting or ``--format``) wins but must name a known format.
    """
    if override is not None:
        if override not in FORMATS:
            raise ValueError(f"未知的报表格式：{override}（可选：{'、'.join(FORMATS)}）")
        return override
    return "2021" if year >= FIRST_2021_FORMAT_YEAR else "2019"
