"""The annual statistics (docs/domain.md §6): the reference fold from facts to table 三 and 四.

This is the *reference* implementation: small, obviously right, no SQL. A fast path
(SQL aggregation over a projection) must produce the same numbers; to make that easy to
verify the fold is split in two steps that a fast path can share:

1. ``request_cells`` — the base cells (row, applicant column) one request adds 1 to in a
   year. A fast path computes the same counts with ``GROUP BY``.
2. ``table3_from_counts`` — lays base counts out on the format's rows and columns, with
   zeros everywhere and the derived totals ((七)总计 and the 总计 column).

Dates are effective dates (``RequestFacts`` / ``ChallengeFacts``), year bounds inclusive:

* 一 new_received: received in Y;
* 二 carried_over: received before Y and not concluded before 1 January Y;
* 三 each request concluded in Y, once, in its outcome's row (the 2019 format folds the
  three ``other.*`` codes into one row ``other``); (七) total_concluded is their sum;
* 四 carried_forward: received by 31 December Y and not concluded by then;
* a voided request counts nowhere; the total column is the sum of the six kinds.

Bad data (say, a conclusion dated before receipt after a faulty import) is counted
literally, not repaired: the checks then show the violation, as docs/domain.md §6 asks.
The docs (``docs/counting-rules.md``) give a worked example of each rule.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from workflow.catalog.applicants import KIND_BY_CODE
from workflow.catalog.outcomes import OUTCOME_BY_CODE
from workflow.statistics.facts import RequestFacts
from workflow.statistics.layouts.table2 import IN_FORCE_ITEMS, table2_layout
from workflow.statistics.layouts.table3 import (
    CARRIED_FORWARD,
    CARRIED_OVER,
    NEW_RECEIVED,
    TOTAL,
    TOTAL_CONCLUDED,
    Table3Layout,
    Table3Row,
    table3_layout,
)
from workflow.statistics.layouts.table4 import (
    CORRECTED,
    OTHER,
    PENDING,
    RESULTS,
    TABLE4_LAYOUT,
    UPHELD,
)
from workflow.statistics.layouts.table4 import TOTAL as T4_TOTAL

#: ``{row: {column: count}}`` for table 三, ``{group: {column: count}}`` for table 四.
Table3Counts = dict[str, dict[str, int]]
Table4Counts = dict[str, dict[str, int]]
#: A base cell of table 三: (row key, applicant kind).
Cell = tuple[str, str]

#: Rule texts shown with every report (docs/domain.md §6 勾稽关系), by rule number.
RULES: dict[int, str] = {
    1: "规则1：一、本年新收 + 二、上年结转 = 三、（七）总计 + 四、结转下年度继续办理（每列）",
    2: "规则2：三、（七）总计 = （一）至（六）各行之和（每列）",
    3: "规则3：总计 = 自然人与法人或其他组织五列之和（每行）",
    4: "规则4：表四各组总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结",
    5: "规则5：本年二、上年结转 = 上年四、结转下年度继续办理（每列）",
    6: "规则6：表二现行有效件数 = 上年现行有效件数 + 本年制发件数 − 本年废止件数",
}


def year_bounds(year: int) -> tuple[date, date]:
    """1 January and 31 December of ``year``, both inclusive."""
    return date(year, 1, 1), date(year, 12, 31)


# --------------------------------------------------------------------------- table 三


def request_cells(kind: str, facts: RequestFacts, year: int, fmt: str) -> tuple[Cell, ...]:
    """The base cells of table 三 that one request adds 1 to in ``year``.

    Totals are not included: they are derived in ``table3_from_counts``, so that the
    reference fold and a fast path derive them the same way.
    """
    if kind not in KIND_BY_CODE:
        raise ValueError(f"未知的申请人类型：{kind}")
    if facts.voided:
        return ()
    start, end = year_bounds(year)
    received, concluded = facts.received_on, facts.concluded_on
    cells: list[Cell] = []
    if start <= received <= end:
        cells.append((NEW_RECEIVED, kind))
    if received < start and (concluded is None or concluded >= start):
        cells.append((CARRIED_OVER, kind))
    if concluded is not None and facts.outcome is not None and start <= concluded <= end:
        cells.append((table3_layout(fmt).row_for_outcome(facts.outcome), kind))
    if received <= end and (concluded is None or concluded > end):
        cells.append((CARRIED_FORWARD, kind))
    return tuple(cells)


def table3_from_counts(counts: Mapping[Cell, int], fmt: str) -> Table3Counts:
    """Lay base-cell counts out as the full table 三 of ``fmt``, totals derived.

    Every row and column of the layout is present (zeros included). A row may be given
    as an outcome code instead of a row key (a fast path can ``GROUP BY outcome``); it
    is placed in the row the format counts that outcome under.
    """
    layout = table3_layout(fmt)
    kinds = layout.kind_keys
    table = {row: dict.fromkeys(layout.column_keys, 0) for row in layout.row_keys}
    for (row, kind), n in counts.items():
        if row not in table and row in OUTCOME_BY_CODE:
            row = layout.row_for_outcome(row)
        if row not in table or row == TOTAL_CONCLUDED or kind not in kinds:
            raise ValueError(f"表三没有可计数的单元格：{row}.{kind}")
        table[row][kind] += n
    for kind in kinds:
        table[TOTAL_CONCLUDED][kind] = sum(table[r.key][kind] for r in layout.outcome_rows)
    for cells in table.values():
        cells[TOTAL] = sum(cells[kind] for kind in kinds)
    return table


def table3(items: Iterable[tuple[str, RequestFacts]], year: int, fmt: str) -> Table3Counts:
    """Table 三 of ``year`` in format ``fmt`` from (applicant kind, facts) pairs."""
    counts: Counter[Cell] = Counter()
    for kind, facts in items:
        counts.update(request_cells(kind, facts, year, fmt))
    return table3_from_counts(counts, fmt)


# --------------------------------------------------------------------------- table 四


@dataclass(frozen=True)
class ChallengeFacts:
    """A reconsideration or lawsuit as table 四 sees it.

    An appeal continues the same case, so ``concluded_on`` / ``result`` are those of its
    latest instance (docs/domain.md §5); building them is the caller's job.
    """

    group: str
    filed_on: date
    concluded_on: date | None
    result: str | None

    def __post_init__(self) -> None:
        if self.group not in TABLE4_LAYOUT.group_keys:
            raise ValueError(f"未知的复议/诉讼类别：{self.group}")
        if (self.concluded_on is None) != (self.result is None):
            raise ValueError("concluded_on and result must be given together")
        if self.result is not None and self.result not in RESULTS:
            raise ValueError(f"未知的复议/诉讼结果：{self.result}")


def challenge_column(facts: ChallengeFacts, year: int) -> str | None:
    """The table 四 column a case counts in for ``year``, or ``None`` if it does not."""
    start, end = year_bounds(year)
    if facts.filed_on > end:
        return None  # not yet filed in Y
    if facts.concluded_on is not None and facts.concluded_on < start:
        return None  # concluded (and reported) in an earlier year
    if facts.concluded_on is None or facts.concluded_on > end:
        return PENDING  # still open on 31 December of Y
    return facts.result


def table4_from_counts(counts: Mapping[tuple[str, str], int]) -> Table4Counts:
    """Lay (group, column) counts out as the full table 四, with the derived 总计."""
    counted = (UPHELD, CORRECTED, OTHER, PENDING)
    table = {g: dict.fromkeys(TABLE4_LAYOUT.column_keys, 0) for g in TABLE4_LAYOUT.group_keys}
    for (group, column), n in counts.items():
        if group not in table or column not in counted:
            raise ValueError(f"表四没有可计数的单元格：{group}.{column}")
        table[group][column] += n
    for cells in table.values():
        cells[T4_TOTAL] = sum(cells[c] for c in counted)
    return table


def table4(items: Iterable[ChallengeFacts], year: int) -> Table4Counts:
    """Table 四 of ``year``: cases filed by its end and not concluded before it."""
    counts: Counter[tuple[str, str]] = Counter()
    for facts in items:
        column = challenge_column(facts, year)
        if column is not None:
            counts[(facts.group, column)] += 1
    return table4_from_counts(counts)


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Check:
    """One 勾稽关系 check: the rule, whether it holds, and the cells it compared."""

    rule: str
    ok: bool
    detail: str
    cells: tuple[str, ...]


def _get(table: Mapping[str, Mapping[str, int]], row: str, column: str) -> int:
    """A cell, missing = 0: hand-entered prior-year reports leave empty cells blank."""
    return int(table.get(row, {}).get(column, 0))


def _row_name(row: Table3Row) -> str:
    """A row's name without the section header (sub-row numbers repeat across groups)."""
    return "·".join(row.path[1:]) if len(row.path) > 1 else row.path[0]


def _rule1(t3: Mapping[str, Mapping[str, int]], layout: Table3Layout) -> list[Check]:
    checks = []
    for column in layout.columns:
        c = column.key
        a, b = _get(t3, NEW_RECEIVED, c), _get(t3, CARRIED_OVER, c)
        x, y = _get(t3, TOTAL_CONCLUDED, c), _get(t3, CARRIED_FORWARD, c)
        detail = f"{column.full_label}: 一({a})+二({b})={a + b}, 三(七)({x})+四({y})={x + y}"
        cells = tuple(f"{r}.{c}" for r in (NEW_RECEIVED, CARRIED_OVER, TOTAL_CONCLUDED))
        checks.append(Check(RULES[1], a + b == x + y, detail, (*cells, f"{CARRIED_FORWARD}.{c}")))
    return checks


def _rule2(t3: Mapping[str, Mapping[str, int]], layout: Table3Layout) -> list[Check]:
    checks = []
    for column in layout.columns:
        c = column.key
        total = _get(t3, TOTAL_CONCLUDED, c)
        parts = sum(_get(t3, r.key, c) for r in layout.outcome_rows)
        detail = f"{column.full_label}: 三(七)({total}), (一)至(六)各行之和={parts}"
        cells = (f"{TOTAL_CONCLUDED}.{c}", *(f"{r.key}.{c}" for r in layout.outcome_rows))
        checks.append(Check(RULES[2], total == parts, detail, cells))
    return checks


def _rule3(t3: Mapping[str, Mapping[str, int]], layout: Table3Layout) -> list[Check]:
    checks = []
    for row in layout.rows:
        total = _get(t3, row.key, TOTAL)
        parts = sum(_get(t3, row.key, k) for k in layout.kind_keys)
        detail = f"{_row_name(row)}: 总计({total}), 六列之和={parts}"
        cells = (f"{row.key}.{TOTAL}", *(f"{row.key}.{k}" for k in layout.kind_keys))
        checks.append(Check(RULES[3], total == parts, detail, cells))
    return checks


def _rule4(t4: Mapping[str, Mapping[str, int]]) -> list[Check]:
    checks = []
    for group in TABLE4_LAYOUT.groups:
        g = group.key
        total = _get(t4, g, T4_TOTAL)
        u, k, o, p = (_get(t4, g, c) for c in (UPHELD, CORRECTED, OTHER, PENDING))
        detail = (
            f"{group.label}: 总计({total}), 维持({u})+纠正({k})+其他({o})+尚未审结({p})"
            f"={u + k + o + p}"
        )
        cells = tuple(f"{g}.{c}" for c in TABLE4_LAYOUT.column_keys)
        checks.append(Check(RULES[4], total == u + k + o + p, detail, cells))
    return checks


def _rule5(
    t3: Mapping[str, Mapping[str, int]],
    previous_t3: Mapping[str, Mapping[str, int]],
    layout: Table3Layout,
) -> list[Check]:
    checks = []
    for column in layout.columns:
        c = column.key
        now, before = _get(t3, CARRIED_OVER, c), _get(previous_t3, CARRIED_FORWARD, c)
        detail = f"{column.full_label}: 本年二({now}), 上年四({before})"
        cells = (f"{CARRIED_OVER}.{c}", f"previous:{CARRIED_FORWARD}.{c}")
        checks.append(Check(RULES[5], now == before, detail, cells))
    return checks


def checks(
    t3: Mapping[str, Mapping[str, int]],
    t4: Mapping[str, Mapping[str, int]],
    fmt: str,
    previous_t3: Mapping[str, Mapping[str, int]] | None = None,
) -> list[Check]:
    """docs/domain.md §6 rules 1–5 on a table 三 / 四 pair, one check per column, row or group.

    The tables need not come from ``table3``: a fast path, an import or a prior-year
    report typed in by hand are checked the same way (missing cells count as 0). Rule 5
    runs only when the previous year's table 三 is given (any format: only its
    结转下年度 row is read).
    """
    layout = table3_layout(fmt)
    result = [*_rule1(t3, layout), *_rule2(t3, layout), *_rule3(t3, layout), *_rule4(t4)]
    if previous_t3 is not None:
        result.extend(_rule5(t3, previous_t3, layout))
    return result


Table2Value = int | Decimal | None


def table2_checks(
    current: Mapping[str, Table2Value], previous: Mapping[str, Table2Value]
) -> list[Check]:
    """docs/domain.md §6 rule 6 (2021 format): 现行有效件数 carries over from year to year.

    ``current`` and ``previous`` map table 二 cell keys (``"rules.in_force"`` …) to the
    values entered. An item whose values are not all entered yields no check: an
    unfilled table 二 is reported by the entry form, not as a broken identity.
    """
    layout = table2_layout("2021")
    checks_: list[Check] = []
    for item in IN_FORCE_ITEMS:
        label = layout.cell(f"{item}.in_force").item.label
        keys = (f"{item}.in_force", f"{item}.issued", f"{item}.repealed")
        now, issued, repealed = (current.get(k) for k in keys)
        before = previous.get(f"{item}.in_force")
        if now is None or issued is None or repealed is None or before is None:
            continue
        expected = before + issued - repealed
        detail = (
            f"{label}: 本年现行有效({now}), 上年现行有效({before})+本年制发({issued})"
            f"-本年废止({repealed})={expected}"
        )
        cells = (*keys, f"previous:{item}.in_force")
        checks_.append(Check(RULES[6], now == expected, detail, cells))
    return checks_


# --------------------------------------------------------------------------- output


def stats_json(
    agency_code: str,
    year: int,
    fmt: str,
    t3: Mapping[str, Mapping[str, int]],
    t4: Mapping[str, Mapping[str, int]],
    checks: Sequence[Check],
) -> dict[str, object]:
    """The statistics in the docs/domain.md §11 JSON schema, rows and columns in layout order."""
    layout = table3_layout(fmt)
    return {
        "agency": agency_code,
        "year": year,
        "format": fmt,
        "table3": {
            row: {column: _get(t3, row, column) for column in layout.column_keys}
            for row in layout.row_keys
        },
        "table4": {
            group: {column: _get(t4, group, column) for column in TABLE4_LAYOUT.column_keys}
            for group in TABLE4_LAYOUT.group_keys
        },
        "checks": [{"rule": c.rule, "ok": c.ok, "detail": c.detail} for c in checks],
    }


def _width(text: str) -> int:
    """Terminal columns of ``text``: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


def _center(text: str, width: int) -> str:
    gap = max(0, width - _width(text))
    return " " * (gap // 2) + text + " " * (gap - gap // 2)


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for ch in text:
        if line and _width(line + ch) > width:
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line]


def _render_table3(t3: Mapping[str, Mapping[str, int]], fmt: str, label_width: int) -> list[str]:
    layout = table3_layout(fmt)
    widths = [max(_width(c.label), 6) for c in layout.columns]
    org = [i for i, c in enumerate(layout.columns) if c.group]
    org_width = sum(widths[i] for i in org) + 2 * (len(org) - 1)
    before = sum(widths[i] + 2 for i in range(org[0]))
    group_line = " " * (label_width + 2 + before) + _center(
        layout.columns[org[0]].group or "", org_width
    )
    heads = "  ".join(
        _pad(c.label, w, right=True) for c, w in zip(layout.columns, widths, strict=True)
    )
    lines = [
        f"{layout.title}（{fmt}年格式）",
        layout.note,
        group_line.rstrip(),
        _pad(layout.column_header, label_width) + "  " + heads,
        "-" * (label_width + 2 + _width(heads)),
    ]
    shown: set[tuple[str, ...]] = set()
    for row in layout.rows:
        for level in range(len(row.path) - 1):
            header = row.path[: level + 1]
            if header not in shown:
                shown.add(header)
                lines.extend("  " * level + part for part in _wrap(header[-1], label_width))
        indent = "  " * (len(row.path) - 1)
        parts = _wrap(row.label, label_width - len(indent))
        numbers = "  ".join(
            _pad(str(_get(t3, row.key, c.key)), w, right=True)
            for c, w in zip(layout.columns, widths, strict=True)
        )
        lines.extend(indent + part for part in parts[:-1])
        lines.append(_pad(indent + parts[-1], label_width) + "  " + numbers)
    return lines


def _render_table4(t4: Mapping[str, Mapping[str, int]]) -> list[str]:
    label_width = max(_width(g.label) for g in TABLE4_LAYOUT.groups)
    widths = [max(_width(c.label), 6) for c in TABLE4_LAYOUT.columns]
    pairs = list(zip(TABLE4_LAYOUT.columns, widths, strict=True))
    heads = "  ".join(_pad(c.label, w, right=True) for c, w in pairs)
    lines = [TABLE4_LAYOUT.title, " " * (label_width + 2) + heads]
    lines.append("-" * (label_width + 2 + _width(heads)))
    for group in TABLE4_LAYOUT.groups:
        numbers = "  ".join(_pad(str(_get(t4, group.key, c.key)), w, right=True) for c, w in pairs)
        lines.append(_pad(group.label, label_width) + "  " + numbers)
    return lines


def _render_checks(checks: Sequence[Check]) -> list[str]:
    failed = [c for c in checks if not c.ok]
    if not failed:
        return [f"勾稽关系：全部 {len(checks)} 项检查通过"]
    lines = [f"勾稽关系：{len(failed)} / {len(checks)} 项检查未通过"]
    lines.extend(f"  ✗ {c.rule}  {c.detail}" for c in failed)
    return lines


def render_text(
    t3: Mapping[str, Mapping[str, int]],
    fmt: str,
    t4: Mapping[str, Mapping[str, int]] | None = None,
    checks: Sequence[Check] | None = None,
    *,
    title: str | None = None,
    label_width: int = 44,
) -> str:
    """Plain-text tables for ``python app.py stats`` without ``--json``.

    Labels come from the layouts, so the terminal shows the official wording; long labels
    wrap instead of being cut, and CJK characters count as two columns.
    """
    lines = [title, ""] if title else []
    lines.extend(_render_table3(t3, fmt, label_width))
    if t4 is not None:
        lines.extend(["", *_render_table4(t4)])
    if checks is not None:
        lines.extend(["", *_render_checks(checks)])
    return "\n".join(lines) + "\n"
