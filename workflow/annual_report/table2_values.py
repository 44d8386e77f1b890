"""Table 二 figures as staff enter them: parsing, validation, storage and display.

Table 二 (主动公开) is typed in, not derived, so its input needs the care a form gives a
number: counts are non-negative integers; the 2019 format's 本年增/减 is a signed count,
stored as a signed integer and printed the way published reports print it ("增8", "减8");
amounts are decimals (元 with at most 2 places, 万元 with at most 4, the 2021 format's
unit). Each value kind is defined once here and used by the editor, the PDF, the XLSX and
the cross-year check, so "减8" means −8 everywhere.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from workflow.statistics.fold import Check, Table2Value, table2_checks
from workflow.statistics.layouts.table2 import ValueKind, table2_layout

#: Largest count accepted: beyond it a typo is far likelier than a real figure.
MAX_COUNT = 10**9
#: Decimal places allowed per amount kind.
DECIMALS: dict[ValueKind, int] = {ValueKind.AMOUNT_YUAN: 2, ValueKind.AMOUNT_WAN: 4}
_INCREASE, _DECREASE = "增", "减"


def _normalise(text: str) -> str:
    """Full-width digits and signs to ASCII; thousands separators and spaces dropped."""
    return unicodedata.normalize("NFKC", text).replace(",", "").replace(" ", "").strip()


def parse_value(kind: ValueKind, text: str) -> Table2Value:
    """One cell from its text; empty is ``None`` (not yet filled). ValueError explains."""
    value = _normalise(text)
    if not value:
        return None
    if kind in DECIMALS:
        return _parse_amount(kind, value)
    sign = 1
    if kind == ValueKind.SIGNED_CHANGE:
        if value[0] in (_INCREASE, "+"):
            value = value[1:]
        elif value[0] in (_DECREASE, "-"):
            sign, value = -1, value[1:]
    if not (value.isascii() and value.isdigit()):
        if kind == ValueKind.SIGNED_CHANGE:
            raise ValueError("请填写整数：增加填“增8”或“8”，减少填“减8”或“-8”")
        raise ValueError("请填写非负整数")
    number = int(value)
    if number > MAX_COUNT:
        raise ValueError(f"数值过大（不超过{MAX_COUNT:,}）")
    return sign * number


def _parse_amount(kind: ValueKind, value: str) -> Decimal:
    places = DECIMALS[kind]
    unit = "万元" if kind == ValueKind.AMOUNT_WAN else "元"
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"请填写金额（单位：{unit}），如 12.5") from None
    if not amount.is_finite():
        raise ValueError(f"请填写金额（单位：{unit}）")
    if amount < 0:
        raise ValueError("金额不能为负数")
    if -int(amount.as_tuple().exponent) > places:
        raise ValueError(f"金额最多保留{places}位小数（单位：{unit}）")
    if amount > MAX_COUNT:
        raise ValueError("金额过大")
    return amount


def parse_table2(fmt: str, raw: Mapping[str, str]) -> tuple[dict[str, Table2Value], dict[str, str]]:
    """Every cell of the format's table 二 from form text: (values, errors by cell key)."""
    values: dict[str, Table2Value] = {}
    errors: dict[str, str] = {}
    for cell in table2_layout(fmt).cells:
        try:
            values[cell.key] = parse_value(cell.kind, raw.get(cell.key, ""))
        except ValueError as exc:
            errors[cell.key] = str(exc)
    return values, errors


def display(kind: ValueKind, value: Table2Value) -> str:
    """A value as the published table prints it: "增8" / "减8", amounts as entered."""
    if value is None:
        return ""
    if kind == ValueKind.SIGNED_CHANGE and value:
        return f"{_INCREASE if value > 0 else _DECREASE}{abs(value)}"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def to_json(values: Mapping[str, Table2Value]) -> dict[str, Any]:
    """For the draft's JSON column: amounts as strings (a float would lose cents)."""
    return {
        key: (format(value, "f") if isinstance(value, Decimal) else value)
        for key, value in values.items()
        if value is not None
    }


def from_json(data: Mapping[str, Any] | None) -> dict[str, Table2Value]:
    """Back from the JSON column: strings are amounts, numbers are counts."""
    values: dict[str, Table2Value] = {}
    for key, value in (data or {}).items():
        if isinstance(value, str):
            values[key] = Decimal(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            values[key] = value
    return values


def for_format(fmt: str, values: Mapping[str, Table2Value]) -> dict[str, Table2Value]:
    """The values of the format's cells (a draft keeps the other format's too)."""
    return {cell.key: values.get(cell.key) for cell in table2_layout(fmt).cells}


def missing(fmt: str, values: Mapping[str, Table2Value]) -> list[str]:
    """Labels of the cells not filled in yet ("规章·本年制发件数"), for a reminder."""
    return [
        f"{cell.item.label}·{cell.column.label}"
        for cell in table2_layout(fmt).cells
        if values.get(cell.key) is None
    ]


def rule6_checks(
    fmt: str, current: Mapping[str, Table2Value], previous: Mapping[str, Table2Value]
) -> list[Check]:
    """Rule 6 (docs/domain.md §6) against the previous year's table 二; only the 2021 format."""
    if fmt != "2021":
        return []
    return table2_checks(current, previous)
