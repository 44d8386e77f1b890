"""Turning what a clerk typed (or a ledger cell held) into a clean event payload.

Payloads are stored as JSON, so dates become ISO strings and numbers ints. Every
problem is reported per field in Chinese, so a form can show it next to the input.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from workflow.catalog.dates import EARLIEST, LATEST, MAX_DAYS_AHEAD
from workflow.catalog.outcomes import OUTCOME_BY_CODE
from workflow.kernel.backdating import REASON_FIELD
from workflow.kernel.errors import ValidationError
from workflow.kernel.lifecycle import PayloadField, TransitionSpec

MAX_TEXT = 200
MAX_LONGTEXT = 4000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class ParsedAction:
    effective_date: date
    payload: dict[str, Any]
    #: Why the effective date lies far before the day of recording (``kernel.backdating``).
    backdate_reason: str = ""


#: Bidirectional embeddings, overrides and isolates: they make text display in another
#: order than it is stored (``abc\u202Egpj.exe``), so a name could read as someone else's.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _invisible(char: str) -> bool:
    """Whitespace or an invisible format character (zero-width space, BOM, tag characters …)."""
    return char.isspace() or unicodedata.category(char) in ("Cf", "Zs", "Mn") or char == "\u3164"


def clean_text(value: Any, limit: int) -> str:
    """Normalise text: NFC, no control characters, trimmed; refuse overlong input.

    Bidirectional overrides are refused; text of nothing but invisible characters counts
    as empty (a zero-width space passed the "required" check as a name, review I13).
    """
    text = unicodedata.normalize("NFC", str(value))
    text = _CONTROL.sub("", text).strip()
    if _BIDI_CONTROLS.search(text):
        raise ValueError("不能包含改变文字显示方向的控制字符（如 U+202E），请重新输入")
    if all(_invisible(char) for char in text):
        return ""
    if len(text) > limit:
        raise ValueError(f"不能超过{limit}个字符（现有{len(text)}个）")
    return text


def parse_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"“{text[:20]}”不是有效日期，请按 YYYY-MM-DD 填写") from None
    return check_date_bounds(day)


def check_date_bounds(day: date) -> date:
    """``day`` if it lies within the catalogue's bounds (``workflow.catalog.dates``)."""
    if day < EARLIEST:
        raise ValueError(
            f"日期 {day.isoformat()} 早于{EARLIEST.isoformat()}"
            "（《政府信息公开条例》施行之日），请核对"
        )
    if day > LATEST:
        raise ValueError(f"日期 {day.isoformat()} 晚于{LATEST.isoformat()}，请核对")
    return day


def backdate_reason(raw: Mapping[str, Any]) -> str:
    """The reason typed for a back-dated entry (``kernel.backdating``), cleaned; may be empty."""
    value = raw.get(REASON_FIELD)
    return "" if _is_blank(value) else clean_text(value, MAX_TEXT)


def _parse_field(spec: PayloadField, value: Any) -> Any:
    if spec.kind == "date":
        day = value if isinstance(value, date) else parse_date(value)
        return check_date_bounds(day).isoformat()
    if spec.kind == "int":
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError("请填写整数") from None
        if spec.minimum is not None and number < spec.minimum:
            raise ValueError(f"不能小于{spec.minimum}")
        if spec.maximum is not None and number > spec.maximum:
            raise ValueError(f"不能大于{spec.maximum}")
        return number
    if spec.kind == "choice":
        text = str(value).strip()
        if text not in dict(spec.choices):
            raise ValueError("请从列表中选择")
        return text
    if spec.kind == "outcome":
        text = str(value).strip()
        if text not in OUTCOME_BY_CODE:
            raise ValueError("请从列表中选择处理结果")
        return text
    limit = MAX_LONGTEXT if spec.kind == "longtext" else MAX_TEXT
    return clean_text(value, limit)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_fields(
    fields: Sequence[PayloadField], raw: Mapping[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    """Parse every field present in ``raw``; problems go into ``errors`` by field name."""
    values: dict[str, Any] = {}
    for field in fields:
        value = raw.get(field.name)
        if _is_blank(value):
            if field.required:
                errors[field.name] = f"请填写{field.label}"
            continue
        try:
            parsed = _parse_field(field, value)
        except ValueError as exc:
            errors[field.name] = f"{field.label}：{exc}"
            continue
        if parsed == "":
            # Text that was only control characters is empty once cleaned: as if blank.
            if field.required:
                errors[field.name] = f"请填写{field.label}"
            continue
        values[field.name] = parsed
    return values


def parse_action(spec: TransitionSpec, raw: Mapping[str, Any]) -> ParsedAction:
    """Validate ``raw`` (form or ledger values) against the trigger's payload fields."""
    errors: dict[str, str] = {}
    effective: date | None = None
    if _is_blank(raw.get("effective_date")):
        errors["effective_date"] = f"请填写{spec.date_label}"
    else:
        try:
            effective = parse_date(raw["effective_date"])
        except ValueError as exc:
            errors["effective_date"] = str(exc)
    payload = parse_fields(spec.fields, raw, errors)
    if effective is not None:
        latest = effective + timedelta(days=MAX_DAYS_AHEAD)
        for field in spec.fields:
            value = payload.get(field.name)
            if field.kind == "date" and value and date.fromisoformat(value) > latest:
                errors[field.name] = (
                    f"{field.label}：{value} 比{spec.date_label}晚{MAX_DAYS_AHEAD}天以上，请核对"
                )
    try:
        reason = backdate_reason(raw)
    except ValueError as exc:
        errors[REASON_FIELD] = f"补录原因：{exc}"
        reason = ""
    if errors or effective is None:
        raise ValidationError("请更正标出的内容", errors)
    return ParsedAction(effective, payload, reason)
