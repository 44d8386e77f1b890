"""Checking a JSON API body against the domain's field tables before parsing it.

Forms only ever send text, so ``workflow.kernel.payload`` turns whatever arrives into text or
numbers. JSON carries types: a ``{"days": "20"}`` or a ``{"subject": {"a": 1}}`` is a
client bug to report, not to coerce, and a misspelt field must not be silently dropped
(an ignored ``"reson"`` would record an action without its reason). So every body is
checked here against the same field schemas the OpenAPI document publishes
(``workflow.online.schema``) — unknown fields and wrong JSON types are refused per field, in
Chinese — and only then parsed by the same code as the staff forms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workflow.kernel.backdating import REASON_FIELD
from workflow.kernel.errors import ValidationError
from workflow.kernel.lifecycle import PayloadField, TransitionSpec
from workflow.kernel.payload import ParsedAction, parse_action
from workflow.online.schema import JSON_TYPES
from workflow.requests.spec import SPEC_BY_TRIGGER

FIX = "请更正标出的内容"
#: Where a refusal that belongs to no single field is reported in ``errors``.
GENERAL = "_"
_TYPE_WORDS = {"string": "文本（字符串）", "integer": "整数"}
#: Top-level members of ``POST /requests/{id}/events``.
EVENT_KEYS = ("trigger", "effective_on", "payload", "version", REASON_FIELD)


def json_type_problem(expected: str, value: Any) -> str | None:
    """Why ``value`` is not of JSON type ``expected`` (None when it is). ``null`` is blank."""
    if value is None:
        return None
    if expected == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    return None if ok else f"应为{_TYPE_WORDS[expected]}"


def unknown_keys(raw: Mapping[str, Any], known: Sequence[str]) -> dict[str, str]:
    allowed = "、".join(known) or "（无）"
    return {
        str(k)[:60]: f"未知字段“{str(k)[:60]}”，可用字段：{allowed}" for k in raw if k not in known
    }


def check_fields(
    raw: Any, fields: Sequence[PayloadField], extra: Sequence[str] = (), where: str = ""
) -> dict[str, Any]:
    """``raw`` as a dict with every defaulted field filled; unknown or mistyped ones refused.

    ``extra`` names members that are not form fields (checked by their own parser as text).
    ``where`` names the member holding ``raw`` when it is not an object ("payload").
    """
    if not isinstance(raw, dict):
        raise ValidationError(FIX, {where or GENERAL: "应为 JSON 对象"})
    errors = unknown_keys(raw, [*(f.name for f in fields), *extra])
    for field in fields:
        problem = json_type_problem(JSON_TYPES[field.kind], raw.get(field.name))
        if problem:
            errors[field.name] = f"{field.label}：{problem}"
    for name in extra:
        problem = json_type_problem("string", raw.get(name))
        if problem:
            errors[name] = problem
    if errors:
        raise ValidationError(FIX, errors)
    values = dict(raw)
    for field in fields:
        if values.get(field.name) is None and field.default is not None:
            values[field.name] = field.default
    return values


@dataclass(frozen=True)
class EventBody:
    spec: TransitionSpec
    version: int | None
    #: The payload exactly as checked here, for :func:`parse_event`.
    payload: dict[str, Any]
    effective_on: Any
    #: 补录原因 (``workflow.kernel.backdating``), as sent.
    backdate_reason: Any = None


def check_event_body(body: Any) -> EventBody:
    """The trigger, version and payload of an event body, type-checked (422 otherwise)."""
    if not isinstance(body, dict):
        raise ValidationError(FIX, {GENERAL: "请求体应为 JSON 对象"})
    errors = unknown_keys(body, EVENT_KEYS)
    trigger = body.get("trigger")
    spec = SPEC_BY_TRIGGER.get(trigger) if isinstance(trigger, str) else None
    if spec is None or spec.trigger == "register":
        known = "、".join(t for t in SPEC_BY_TRIGGER if t != "register")
        errors["trigger"] = f"未知操作，可用的操作：{known}"
    version = body.get("version")
    if version is not None and json_type_problem("integer", version):
        errors["version"] = "版本号应为整数"
    effective = body.get("effective_on")
    if effective is None:
        errors["effective_on"] = f"请填写{spec.date_label if spec else '生效日期'}（YYYY-MM-DD）"
    elif not isinstance(effective, str):
        errors["effective_on"] = "日期应为 YYYY-MM-DD 格式的文本"
    if errors or spec is None:
        raise ValidationError(FIX, errors)
    raw_payload = body.get("payload")
    payload = check_fields({} if raw_payload is None else raw_payload, spec.fields, where="payload")
    reason = body.get(REASON_FIELD)
    if json_type_problem("string", reason):
        raise ValidationError(FIX, {REASON_FIELD: "补录原因应为文本"})
    return EventBody(spec, version, payload, effective, reason)


def parse_event(body: EventBody) -> ParsedAction:
    """The staff form's parser on the checked body; its errors under the API's names."""
    try:
        raw = {**body.payload, "effective_date": body.effective_on}
        return parse_action(body.spec, {**raw, REASON_FIELD: body.backdate_reason})
    except ValidationError as err:
        raise ValidationError(str(err), api_names(err.field_errors)) from None


def api_names(field_errors: Mapping[str, str]) -> dict[str, str]:
    """Form field names as the API spells them: the effective date is ``effective_on``."""
    return {
        ("effective_on" if key == "effective_date" else key or GENERAL): message
        for key, message in field_errors.items()
    }
