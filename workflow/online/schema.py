"""The OpenAPI 3.1 document of the JSON API v1, generated from the domain's own tables.

Every trigger's payload (``workflow.requests.spec.TRANSITIONS``), the registration fields
(``workflow.requests.intake.INTAKE_FIELDS``), the states, outcomes, notice kinds and channels are
read from the catalogues, so the document changes when the law's table does and cannot
drift from what the API accepts: the API's input checks (``workflow.online.input``) use the
same field schemas. Nothing here knows about Flask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import date
from typing import Any, get_args, get_type_hints

from workflow.catalog.attachments import ACCEPTED_TYPES_LABEL, ATTACHMENT_KINDS, FILE_TYPES
from workflow.catalog.channels import CHANNELS, TRANSFER_CHANNELS
from workflow.catalog.notices import NOTICE_KINDS
from workflow.catalog.outcomes import FORMATS, OUTCOME_BY_CODE
from workflow.catalog.states import STORED_STATES
from workflow.kernel.lifecycle import FieldKind, PayloadField, TransitionSpec
from workflow.kernel.payload import MAX_LONGTEXT, MAX_TEXT
from workflow.online.transfers import MAX_REFERENCE, MAX_SOURCE
from workflow.requests.deadline_trace import StepKind, TraceStep
from workflow.requests.intake import INTAKE_FIELDS
from workflow.requests.office import MAX_SPLIT, OFFICE_LABELS, OFFICE_RULES, PROPOSAL_KINDS
from workflow.requests.spec import EXTENSION_PROPOSAL_FIELDS, TRANSITIONS

API_VERSION = "1.0.0"
#: The JSON type each payload field kind takes (an int is a JSON integer, all else text).
JSON_TYPES: dict[FieldKind, str] = {
    "text": "string",
    "longtext": "string",
    "date": "string",
    "int": "integer",
    "choice": "string",
    "outcome": "string",
    "approver": "string",
}
#: ``GET /api/v1/requests`` pages hold at most this many requests.
MAX_PAGE = 200
DEFAULT_PAGE = 50
#: Most requests one ``POST /requests/{id}/merge`` merges in.
MAX_MERGE = 100
#: The fields of the multipart attachment upload (any other is refused).
ATTACHMENT_FORM_FIELDS: tuple[str, ...] = ("kind", "event_seq", "note", "file")
#: What ``POST /requests/{id}/proposals`` proposes (a correction goes to ``/corrections``,
#: which records it or proposes it itself).
PROPOSAL_KINDS_API: tuple[str, ...] = ("extension", "decision")

_DATE = {"type": "string", "format": "date"}
_NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
_TIME = {"type": "string", "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def field_schema(field: PayloadField) -> dict[str, Any]:
    """The JSON Schema of one form field: its type, bounds and allowed values."""
    schema: dict[str, Any] = {"type": JSON_TYPES[field.kind], "title": field.label}
    if field.help:
        schema["description"] = field.help
    if field.kind in ("text", "approver"):
        schema["maxLength"] = MAX_TEXT
    elif field.kind == "longtext":
        schema["maxLength"] = MAX_LONGTEXT
    elif field.kind == "date":
        schema["format"] = "date"
    elif field.kind == "int":
        if field.minimum is not None:
            schema["minimum"] = field.minimum
        if field.maximum is not None:
            schema["maximum"] = field.maximum
    elif field.kind == "choice":
        schema["enum"] = [code for code, _ in field.choices]
        schema["description"] = "；".join(f"{code}={label}" for code, label in field.choices)
    elif field.kind == "outcome":
        schema["enum"] = list(OUTCOME_BY_CODE)
    if field.kind == "approver":
        schema["description"] = "本机关审核人的用户名"
    if field.default is not None:
        schema["default"] = field.default
    return schema


def fields_schema(
    fields: Sequence[PayloadField], extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An object of exactly these fields (unknown ones are refused), required as on the form."""
    properties = {f.name: field_schema(f) for f in fields}
    properties.update(extra or {})
    required = [f.name for f in fields if f.required and f.default is None]
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


#: 补录原因: required when the date lies too far before the day of recording
#: (``workflow.kernel.backdating``).
_BACKDATE_REASON: dict[str, Any] = {
    "type": "string",
    "title": "补录原因",
    "description": "日期早于记录当天超过规定天数（GONGKAI_BACKDATE_DAYS）时必填",
}


def event_body_schema(spec: TransitionSpec) -> dict[str, Any]:
    """The body firing ``spec.trigger``: the trigger, its date, its payload, the version."""
    return {
        "type": "object",
        "title": spec.label,
        "description": f"{spec.date_label}（effective_on）。{spec.rule}",
        "properties": {
            "trigger": {"const": spec.trigger},
            "effective_on": {**_DATE, "title": spec.date_label},
            "payload": fields_schema(spec.fields),
            "version": {"type": "integer", "description": "客户端看到的版本；已变化时 409"},
            "backdate_reason": _BACKDATE_REASON,
        },
        "required": ["trigger", "effective_on"],
        "additionalProperties": False,
        "x-roles": sorted(spec.roles),
        "x-from-states": list(spec.source_values),
        "x-to-state": spec.dest.value,
    }


def _intake_schema() -> dict[str, Any]:
    agency = {"type": "string", "description": "机关代码（默认：令牌用户所属机关）"}
    return fields_schema(INTAKE_FIELDS, {"agency": agency, "backdate_reason": _BACKDATE_REASON})


def _transfer_schema() -> dict[str, Any]:
    """The registration fields, the channel one of the transfer channels, plus the key."""
    schema = _intake_schema()
    properties = schema["properties"]
    properties["channel"] = {
        "type": "string",
        "title": properties["channel"]["title"],
        "enum": list(TRANSFER_CHANNELS),
        "description": "；".join(
            f"{c.code}={c.label}：{c.receipt_rule}" for c in CHANNELS if c.transfer
        ),
    }
    properties["source"] = {"type": "string", "maxLength": MAX_SOURCE, "title": "来源系统"}
    properties["reference"] = {
        "type": "string",
        "maxLength": MAX_REFERENCE,
        "title": "来源系统编号",
        "description": "同一机关、来源系统与编号只登记一次：重发时返回 200 和原申请",
    }
    schema["required"] = [*schema["required"], "channel", "source", "reference"]
    return schema


def _trace_step_schema() -> dict[str, Any]:
    """A step of ``Deadlines.trace``, drawn from the ``TraceStep`` dataclass itself."""
    by_type: dict[Any, dict[str, Any]] = {
        int: {"type": "integer"},
        str: {"type": "string"},
        date: _DATE,
        date | None: _NULLABLE_DATE,
        StepKind: {"enum": list(get_args(StepKind))},
    }
    hints = get_type_hints(TraceStep)
    return {
        "type": "object",
        "properties": {f.name: by_type[hints[f.name]] for f in fields(TraceStep)},
        "required": [f.name for f in fields(TraceStep)],
        "additionalProperties": False,
    }


def _deadlines_schema() -> dict[str, Any]:
    names = ("supplement_notice_due", "reply_due", "consultation_due", "fee_due")
    return {
        "type": "object",
        "properties": {
            **{n: _NULLABLE_DATE for n in names},
            "paused": {"type": "boolean"},
            "provisional": {"type": "array", "items": {"enum": list(names)}},
            "trace": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": _trace_step_schema()},
                "description": "每个期限的计算过程：计算该日期所用的各个步骤",
            },
        },
        "required": [*names, "paused", "provisional", "trace"],
        "additionalProperties": False,
    }


_NOTICE_PROPERTIES: dict[str, Any] = {
    "id": {"type": "integer"},
    "kind": {"enum": [k.code for k in NOTICE_KINDS]},
    "number": {"type": "string"},
    "outcome": {"enum": [*OUTCOME_BY_CODE, None]},
    "dated_on": _DATE,
    "issued_at": _TIME,
    "served_on": _NULLABLE_DATE,
    "sha256": {"type": "string"},
    "pdf": {"type": "string"},
}


def _summary_properties() -> dict[str, Any]:
    return {
        "id": {"type": "integer"},
        "tracking_no": {"type": "string"},
        "agency": {"type": "string"},
        "state": {"enum": [s.value for s in STORED_STATES]},
        "version": {"type": "integer"},
        "received_on": _DATE,
        "channel": {"enum": [c.code for c in CHANNELS]},
    }


def _request_schema(
    summary: dict[str, Any], extra: dict[str, Any] | None = None, description: str = ""
) -> dict[str, Any]:
    """The request resource, with ``extra`` members where an answer adds some."""
    more = extra or {}
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            **summary,
            "outcome": {"enum": [*OUTCOME_BY_CODE, None]},
            "transfer": {
                "type": ["object", "null"],
                "properties": {"source": {"type": "string"}, "reference": {"type": "string"}},
            },
            "events": {"type": "array", "items": _ref("Event")},
            "deadlines": _ref("Deadlines"),
            **more,
        },
        "required": [*summary, "outcome", "transfer", "events", "deadlines", *more],
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _proposal_body_schema() -> dict[str, Any]:
    """提请审核: an extension with the proposal fields of the ``extend`` step, or the
    sign-off of a decision named by its ``seq``."""
    note = {"type": "string", "maxLength": 400, "title": "说明"}
    version = {"type": "integer", "description": "客户端看到的版本；已变化时 409"}
    extension = fields_schema(
        EXTENSION_PROPOSAL_FIELDS,
        {"kind": {"const": "extension"}, "note": note, "version": version},
    )
    extension["required"] = ["kind", *extension.get("required", [])]
    extension["title"] = PROPOSAL_KINDS["extension"]
    extension["description"] = OFFICE_RULES["extension"]
    decision = {
        "type": "object",
        "title": PROPOSAL_KINDS["decision"],
        "description": OFFICE_RULES["decision"],
        "properties": {
            "kind": {"const": "decision"},
            "seq": {"type": "integer", "description": "答复（decide）记录的序号"},
            "note": note,
            "version": version,
        },
        "required": ["kind", "seq"],
        "additionalProperties": False,
    }
    return {"oneOf": [extension, decision], "discriminator": {"propertyName": "kind"}}


def _attachment_schemas() -> dict[str, Any]:
    """附件 (docs/domain.md §16): the resource and the multipart upload, from the catalogue."""
    properties = {
        "id": {"type": "integer"},
        "kind": {"enum": [k.code for k in ATTACHMENT_KINDS]},
        "file_name": {"type": "string"},
        "file_type": {"enum": [t.code for t in FILE_TYPES]},
        "size": {"type": "integer"},
        "sha256": {"type": "string"},
        "note": {"type": "string"},
        "event_seq": {"type": ["integer", "null"]},
        "uploaded_at": _TIME,
        "uploaded_by": {"type": ["string", "null"]},
        "url": {"type": "string", "description": "下载地址（GET /attachments/{id}）"},
    }
    return {
        "Attachment": {
            "type": "object",
            "properties": properties,
            "required": list(properties),
            "additionalProperties": False,
        },
        "AttachmentList": {
            "type": "object",
            "properties": {"items": {"type": "array", "items": _ref("Attachment")}},
            "required": ["items"],
        },
        "AttachmentUpload": {
            "type": "object",
            "properties": {
                "kind": {
                    "enum": [k.code for k in ATTACHMENT_KINDS],
                    "description": "；".join(f"{k.code}={k.label}" for k in ATTACHMENT_KINDS),
                },
                "event_seq": {"type": "integer", "description": "所属办理记录的序号（可选）"},
                "note": {"type": "string", "maxLength": 200},
                "file": {
                    "type": "string",
                    "contentMediaType": "application/octet-stream",
                    "description": f"按文件内容识别类型，可上传：{ACCEPTED_TYPES_LABEL}；"
                    "大小上限为 GONGKAI_ATTACHMENT_MAX_MB（默认 20 MB）",
                },
            },
            "required": ["kind", "file"],
            "additionalProperties": False,
        },
    }


def _office_schemas(summary: dict[str, Any]) -> dict[str, Any]:
    """The office's resources: proposals (审核签发), and what split and merge answer."""
    proposal = {
        "seq": {"type": "integer", "description": "提请记录的序号（审核时用）"},
        "request_id": {"type": "integer"},
        "tracking_no": {"type": "string"},
        "kind": {"enum": list(PROPOSAL_KINDS)},
        "text": {"type": "string"},
        "proposed_by": {"type": ["string", "null"]},
        "proposed_at": _TIME,
    }
    created = {"type": "array", "items": _ref("RequestSummary")}
    return {
        "Proposal": {
            "type": "object",
            "properties": proposal,
            "required": list(proposal),
            "additionalProperties": False,
        },
        "ProposalList": {
            "type": "object",
            "properties": {"items": {"type": "array", "items": _ref("Proposal")}},
            "required": ["items"],
        },
        "ProposalBody": _proposal_body_schema(),
        "Proposed": _request_schema(
            summary, {"proposal": _ref("Proposal")}, "提请后的申请和提请事项"
        ),
        "SplitResult": _request_schema(
            summary, {"created": created}, "拆分后的本申请（继续办理第1项）和新登记的各申请"
        ),
        "MergeResult": _request_schema(
            summary, {"merged": created}, "合并后的本申请和已并入（作废）的各申请"
        ),
    }


def _schemas() -> dict[str, Any]:
    summary = _summary_properties()
    triggers = [t for t in TRANSITIONS if t.trigger != "register"]
    return {
        "Error": {
            "type": "object",
            "properties": {
                "error": {"type": "string"},
                "errors": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "required": ["error"],
        },
        "RequestSummary": {
            "type": "object",
            "properties": summary,
            "required": list(summary),
            "additionalProperties": False,
        },
        "Event": {
            "type": "object",
            "properties": {
                "seq": {"type": "integer"},
                # The procedure's steps and the office's own entries (分办, 审核, 更正, 关联).
                "trigger": {"enum": [*(t.trigger for t in TRANSITIONS), *OFFICE_LABELS]},
                "effective_on": _DATE,
                "recorded_at": _TIME,
                "actor": {"type": ["string", "null"]},
                "payload": {"type": "object"},
            },
            "required": ["seq", "trigger", "effective_on", "recorded_at", "actor", "payload"],
            "additionalProperties": False,
        },
        "Deadlines": _deadlines_schema(),
        "Request": _request_schema(summary),
        "RequestPage": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": _ref("RequestSummary")},
                "next": {"type": ["string", "null"], "description": "下一页的 after 参数"},
            },
            "required": ["items", "next"],
            "additionalProperties": False,
        },
        "Registration": _intake_schema(),
        "Transfer": _transfer_schema(),
        "EventBody": {
            "oneOf": [_ref(f"Fire_{t.trigger}") for t in triggers],
            "discriminator": {"propertyName": "trigger"},
        },
        **{f"Fire_{t.trigger}": event_body_schema(t) for t in triggers},
        "Notice": {
            "type": "object",
            "required": list(_NOTICE_PROPERTIES),
            "properties": _NOTICE_PROPERTIES,
            "additionalProperties": False,
        },
        "NoticeList": {
            "type": "object",
            "properties": {"items": {"type": "array", "items": _ref("Notice")}},
            "required": ["items"],
        },
        "NoticeBody": {
            "type": "object",
            "properties": {
                "kind": {
                    "enum": [k.code for k in NOTICE_KINDS],
                    "description": "；".join(f"{k.code}={k.label}" for k in NOTICE_KINDS),
                }
            },
            "required": ["kind"],
            "additionalProperties": False,
        },
        **_office_schemas(summary),
        **_attachment_schemas(),
        "Statistics": {
            "type": "object",
            "description": "与 python app.py stats --json 相同",
            "properties": {
                "agency": {"type": "string"},
                "year": {"type": "integer"},
                "format": {"enum": list(FORMATS)},
                "table3": {"type": "object"},
                "table4": {"type": "object"},
                "checks": {"type": "array"},
            },
            "required": ["agency", "year", "format", "table3", "table4", "checks"],
        },
    }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    words = {
        400: "请求无效（不是 JSON、不是 UTF-8、嵌套过深）",
        401: "缺少或无效的令牌",
        403: "角色或机关不允许",
        404: "不存在或无权查看",
        409: "版本已变化（他人刚刚更新）",
        413: "请求体超过 1 MB",
        415: "请求体须为 application/json",
        422: "内容被拒绝：errors 按字段给出中文原因，_ 为整体原因",
    }
    return {str(s): _json(_ref("Error"), words[s]) for s in statuses}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422)


def _body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"required": True, **_json(schema, description)}


def _attachment_paths() -> dict[str, Any]:
    """附件: list, upload (multipart), download (the page's operations and headers)."""
    return {
        "/requests/{id}/attachments": {
            "get": {
                "summary": "申请的附件（按上传先后）",
                "parameters": [_ID],
                "responses": {
                    "200": _json(_ref("AttachmentList"), "附件"),
                    **_errors(401, 404),
                },
            },
            "post": {
                "summary": "上传附件（与申请页面相同的类别、大小和按内容识别的类型检查）",
                "parameters": [_ID],
                "requestBody": {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": _ref("AttachmentUpload")}},
                },
                "responses": {
                    "201": _json(_ref("Attachment"), "已上传"),
                    **_errors(401, 403, 404, 409, 413, 415, 422),
                },
            },
        },
        "/attachments/{id}": {
            "get": {
                "summary": "附件原件（按上传时识别的类型，作为下载提供，不在浏览器中打开）",
                "parameters": [_ID],
                "responses": {
                    "200": {
                        "description": "文件",
                        "content": {"application/octet-stream": {"schema": {"type": "string"}}},
                    },
                    **_errors(401, 404),
                },
            }
        },
    }


def _office_paths() -> dict[str, Any]:
    """审核签发, 拆分 and 合并: the pages' operations (docs/domain.md §15)."""
    seq = {"name": "seq", "in": "path", "required": True, "schema": {"type": "integer"}}
    updated = _json(_ref("Request"), "更新后的申请")
    approver_only = "（审核人本人；本机关还有其他审核人时不能审核自己提请的事项）"
    return {
        "/requests/{id}/proposals": {
            "post": {
                "summary": "提请审核：延期答复或答复签发（等待审核人审核）",
                "description": OFFICE_RULES["extension"],
                "parameters": [_ID],
                "requestBody": _body(_ref("ProposalBody"), "审核事项"),
                "responses": {
                    "201": _json(_ref("Proposed"), "已提请"),
                    **_errors(*_WRITE_ERRORS),
                },
            }
        },
        "/requests/{id}/proposals/{seq}/approve": {
            "post": {
                "summary": "审核同意" + approver_only,
                "parameters": [_ID, seq],
                "requestBody": _body(
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "note": {"type": "string", "maxLength": 400, "title": "审核意见"},
                            "effective_on": {
                                **_DATE,
                                "description": "延期的批准日期（默认今天）",
                            },
                            "confirm_published": {"type": "boolean"},
                            "version": {"type": "integer"},
                        },
                    },
                    "审核意见",
                ),
                "responses": {"200": updated, **_errors(*_WRITE_ERRORS)},
            }
        },
        "/requests/{id}/proposals/{seq}/reject": {
            "post": {
                "summary": "审核退回" + approver_only,
                "parameters": [_ID, seq],
                "requestBody": _body(
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "reason": {"type": "string", "maxLength": 400, "title": "退回理由"},
                            "version": {"type": "integer"},
                        },
                        "required": ["reason"],
                    },
                    "退回理由",
                ),
                "responses": {"200": updated, **_errors(*_WRITE_ERRORS)},
            }
        },
        "/proposals": {
            "get": {
                "summary": "本机关待审核的事项（审核人）",
                "responses": {
                    "200": _json(_ref("ProposalList"), "待审核事项"),
                    **_errors(401, 403),
                },
            }
        },
        "/requests/{id}/split": {
            "post": {
                "summary": "拆分申请",
                "description": OFFICE_RULES["split"],
                "parameters": [_ID],
                "requestBody": _body(
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "items": {
                                "type": "array",
                                "items": {"type": "string", "maxLength": 4000},
                                "minItems": 2,
                                "maxItems": MAX_SPLIT,
                                "description": "各项所需信息；第1项留在本申请",
                            },
                            "version": {"type": "integer"},
                        },
                        "required": ["items"],
                    },
                    "各项所需信息",
                ),
                "responses": {
                    "201": _json(_ref("SplitResult"), "已拆分"),
                    **_errors(*_WRITE_ERRORS),
                },
            }
        },
        "/requests/{id}/merge": {
            "post": {
                "summary": "合并申请（审核人）",
                "description": OFFICE_RULES["merge"],
                "parameters": [_ID],
                "requestBody": _body(
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "others": {
                                "type": "array",
                                "items": {"type": "integer"},
                                "minItems": 1,
                                "maxItems": MAX_MERGE,
                                "description": "并入本申请的申请 id（同一申请人、尚在办理）",
                            },
                            "reason": {"type": "string", "maxLength": 400, "title": "合并理由"},
                            "version": {"type": "integer"},
                        },
                        "required": ["others", "reason"],
                    },
                    "并入的申请",
                ),
                "responses": {
                    "200": _json(_ref("MergeResult"), "已合并"),
                    **_errors(*_WRITE_ERRORS),
                },
            }
        },
    }


def _paths() -> dict[str, Any]:
    return {
        "/requests": {
            "get": {
                "summary": "申请列表（按收到日期由新到旧，键集分页）",
                "parameters": [
                    _query("agency", {"type": "string"}, "机关代码（本机关或下级机关）"),
                    _query("state", {"enum": [s.value for s in STORED_STATES]}),
                    _query("received_from", _DATE),
                    _query("received_to", _DATE),
                    _query("q", {"type": "string", "maxLength": 100}, "编号、申请人或内容"),
                    _query("after", {"type": "string"}, "上一页答复中的 next"),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                        f"每页条数（默认 {DEFAULT_PAGE}）",
                    ),
                ],
                "responses": {
                    "200": _json(_ref("RequestPage"), "一页申请"),
                    **_errors(401, 404, 422),
                },
            },
            "post": {
                "summary": "登记申请（与登记表相同的字段和检查）",
                "requestBody": {"required": True, **_json(_ref("Registration"), "登记内容")},
                "responses": {
                    "201": _json(_ref("Request"), "已登记"),
                    **_errors(*_WRITE_ERRORS),
                },
            },
        },
        "/requests/{id}": {
            "get": {
                "summary": "申请详情：事件日志与各项期限",
                "parameters": [_ID],
                "responses": {"200": _json(_ref("Request"), "申请"), **_errors(401, 404)},
            }
        },
        "/requests/{id}/events": {
            "post": {
                "summary": "办理操作（触发一个事件）",
                "parameters": [_ID],
                "requestBody": {"required": True, **_json(_ref("EventBody"), "操作")},
                "responses": {
                    "200": _json(_ref("Request"), "更新后的申请"),
                    **_errors(*_WRITE_ERRORS),
                },
            }
        },
        "/requests/{id}/assignment": {
            "post": {
                "summary": "分办：指定、改派或取消承办人（每次记录一条分办记录）",
                "parameters": [_ID],
                "requestBody": {
                    "required": True,
                    **_json(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "handler": {
                                    "type": ["string", "null"],
                                    "description": "承办人用户名",
                                },
                                "version": {"type": "integer"},
                                "note": {"type": "string", "maxLength": 400},
                            },
                            "required": ["handler"],
                        },
                        "承办人",
                    ),
                },
                "responses": {
                    "200": _json(_ref("Request"), "更新后的申请"),
                    **_errors(*_WRITE_ERRORS),
                },
            }
        },
        "/requests/{id}/corrections": {
            "post": {
                "summary": "更正一条办理记录（日期、处理结果、送达日期须审核人本人，否则提请审核）",
                "parameters": [_ID],
                "requestBody": {
                    "required": True,
                    **_json(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "seq": {"type": "integer", "description": "办理记录序号"},
                                "field": {
                                    "type": "string",
                                    "description": "effective_date、outcome、served_on、payload:…",
                                },
                                "new": {"description": "更正后的值"},
                                "reason": {"type": "string", "maxLength": 400},
                                "confirm_published": {"type": "boolean"},
                                "version": {"type": "integer"},
                            },
                            "required": ["seq", "field", "new", "reason"],
                        },
                        "更正",
                    ),
                },
                "responses": {
                    "201": _json({"type": "object"}, "已更正或已提请审核"),
                    **_errors(*_WRITE_ERRORS),
                },
            }
        },
        **_office_paths(),
        **_attachment_paths(),
        "/requests/{id}/notices": {
            "get": {
                "summary": "已出具的文书",
                "parameters": [_ID],
                "responses": {"200": _json(_ref("NoticeList"), "文书"), **_errors(401, 404)},
            },
            "post": {
                "summary": "出具文书（与办理页面相同的规则）",
                "parameters": [_ID],
                "requestBody": {"required": True, **_json(_ref("NoticeBody"), "文书种类")},
                "responses": {
                    "201": _json(_ref("Notice"), "已出具"),
                    **_errors(*_WRITE_ERRORS),
                },
            },
        },
        "/notices/{id}.pdf": {
            "get": {
                "summary": "文书原件（PDF，与出具时完全相同）",
                "parameters": [_ID],
                "responses": {
                    "200": {
                        "description": "PDF",
                        "content": {"application/pdf": {"schema": {"type": "string"}}},
                    },
                    **_errors(401, 404),
                },
            }
        },
        "/statistics": {
            "get": {
                "summary": "年度统计（与 stats --json 相同）",
                "parameters": [
                    _query("agency", {"type": "string"}, "机关代码（默认本机关）"),
                    _query("year", {"type": "integer", "minimum": 2000, "maximum": 2100}),
                    _query("format", {"enum": list(FORMATS)}),
                    _query("with_subordinates", {"type": "boolean"}),
                ],
                "responses": {
                    "200": _json(_ref("Statistics"), "统计"),
                    **_errors(401, 404, 422),
                },
            }
        },
        "/transfers": {
            "post": {
                "summary": "12345热线 / 政务服务平台转办（按来源编号幂等）",
                "requestBody": {"required": True, **_json(_ref("Transfer"), "转办内容")},
                "responses": {
                    "200": _json(_ref("Request"), "已登记过：返回原申请"),
                    "201": _json(_ref("Request"), "已登记"),
                    **_errors(*_WRITE_ERRORS),
                },
            }
        },
    }


def openapi_document(server_url: str = "/api/v1") -> dict[str, Any]:
    """The whole document; every operation needs ``Authorization: Bearer <token>``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Gongkai 依申请公开 JSON API",
            "version": API_VERSION,
            "description": "令牌由 python app.py create-token 生成；令牌以其用户的角色和机关办理。"
            "错误均为 JSON：{error, errors}。",
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
