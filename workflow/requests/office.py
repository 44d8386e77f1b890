"""The office's own entries in a request's log: assignment, proposals, sign-off,
corrections and links (docs/domain.md §15).

They are rows of the same append-only event log as the procedure's steps, so who did
what and when is kept in one place, but they are not steps of the procedure: each keeps
the request's state (``from_state == to_state``), its effective date is the day it was
recorded, and the date-order guard, the clocks and the statistics do not see it as a
step. A **correction** (``correct``) names one earlier event by id and one of its values
(the effective date, the outcome, a payload field, or the service date of its notice)
and the value that replaces it. The original row is never touched: :func:`corrected`
gives the log *as corrected* (same length, same positions, corrected copies in place of
the corrected rows), and the statistics (``workflow.statistics.facts``), the deadlines
(``workflow.requests.deadlines``) and the guards all read that view. This module is pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from workflow.kernel.lifecycle import PayloadField

#: Office entries: trigger → label on the timeline.
OFFICE_LABELS: dict[str, str] = {
    "assign": "分办",
    "propose": "提请审核",
    "approve": "审核同意",
    "reject": "审核退回",
    "correct": "更正",
    "link": "关联申请",
}
OFFICE_TRIGGERS: frozenset[str] = frozenset(OFFICE_LABELS)

#: What a proposal asks the approver to sign (条例 Art. 33 para 2 for the extension).
PROPOSAL_KINDS: dict[str, str] = {
    "extension": "延期答复",
    "decision": "答复签发",
    "correction": "更正",
}

#: The rules each office form shows above it (the law where there is one).
OFFICE_RULES: dict[str, str] = {
    "assign": "承办人由分办确定；每次分办、改派都记录在办理记录中（谁、何时、从谁改为谁）。",
    "extension": "《条例》第三十三条第二款：需要延长答复期限的，应当经政府信息公开工作机构负责人"
    "同意并告知申请人。承办人提请，审核人批准后才记录延期，批准日为延期决定日；"
    "本机关还有其他审核人时，不能审核自己提请的事项。",
    "decision": "本机关规定答复须经审核签发：签发后才能出具答复书。",
    "split": "一份申请包含多项相互独立的所需信息的，可以拆分：本申请继续办理第1项，其余各项登记为"
    "新的申请，收到申请日期与本申请相同（期限相同），各自答复，各按其处理结果计入统计一次；"
    "拆分关系记录在各申请的办理记录中。",
    "merge": "同一申请人的同一申请被重复登记为多件的，可以合并：其他各件以“已合并至本申请”作废，"
    "不计入统计，本申请计一次；合并关系和原记录永久保留。合并由审核人进行。",
    "correction": "更正作为新的记录保存，原记录保留并以删除线显示。更正须写明理由；更正日期、"
    "处理结果或送达日期须经审核人批准（审核人本人保存即为批准，其他人保存即提请审核）。"
    "期限和统计按更正后的内容计算；改变已发布年度统计的，保存前须确认。",
}

#: Most items one application is split into.
MAX_SPLIT = 20
#: The split form: one item a line.
SPLIT_FIELDS: tuple[PayloadField, ...] = (
    PayloadField(
        "items",
        "各项所需信息（每行一项）",
        "longtext",
        help="第1行留在本申请继续办理，其余各行分别登记为新的申请",
    ),
)
#: The merge form (``ids`` choices: this applicant's other open requests).
MERGE_FIELDS: tuple[PayloadField, ...] = (
    PayloadField("ids", "并入本申请的申请", "choice"),
    PayloadField("reason", "合并理由", "text"),
)

#: The correction form (the ``field`` choices are filled per target event).
CORRECTION_FIELDS: tuple[PayloadField, ...] = (
    PayloadField("field", "更正内容", "choice"),
    PayloadField("new_date", "更正为（日期）", "date", required=False, help="更正日期时填写"),
    PayloadField(
        "new_outcome", "更正为（处理结果）", "outcome", required=False, help="更正处理结果时填写"
    ),
    PayloadField("new_text", "更正为（其他内容）", "longtext", required=False),
    PayloadField("reason", "更正理由", "longtext"),
    PayloadField(
        "confirm_published",
        "确认更正已发布年度",
        "choice",
        required=False,
        choices=(("1", "我已知悉此更正将改变已发布年度的统计"),),
    ),
)

#: Correction targets: ``effective_date``, ``outcome``, ``served_on`` or ``payload:<name>``.
DATE_FIELD = "effective_date"
OUTCOME_FIELD = "outcome"
SERVED_FIELD = "served_on"
PAYLOAD_PREFIX = "payload:"
#: Corrections that need an approver (the issue's "for outcomes and dates").
NEEDS_APPROVER: frozenset[str] = frozenset({DATE_FIELD, OUTCOME_FIELD, SERVED_FIELD})

#: Link kinds: the request's relation to ``other`` (stored on both sides' logs).
LINK_LABELS: dict[str, str] = {
    "duplicate_of": "重复申请，在先申请",
    "earlier_of": "在后的重复申请",
    "split_from": "拆分自",
    "split_into": "拆分为",
    "merged_into": "已合并至",
    "merged_from": "合并了",
    "split_kept": "拆分后",
    "same_information": "多人申请同一信息（第四十四条）",
}


def new_value(field: str, raw: Mapping[str, Any]) -> Any:
    """The typed-in corrected value: ``new``, or the form's input of the field's kind."""
    if raw.get("new") not in (None, ""):
        return raw["new"]
    if field in {DATE_FIELD, SERVED_FIELD}:
        return raw.get("new_date", "")
    if field == OUTCOME_FIELD:
        return raw.get("new_outcome", "")
    return raw.get("new_text", "")


def is_office(event: Any) -> bool:
    return event.trigger in OFFICE_TRIGGERS


def needs_approver(field: str) -> bool:
    return field in NEEDS_APPROVER


def field_label(field: str) -> str:
    if field == DATE_FIELD:
        return "法律日期"
    if field == OUTCOME_FIELD:
        return "处理结果"
    if field == SERVED_FIELD:
        return "送达日期"
    return "登记内容“" + field.removeprefix(PAYLOAD_PREFIX) + "”"


@dataclass(frozen=True)
class CorrectedEvent:
    """An event as corrected: the original row's values with the corrected ones in place.

    Everything not corrected (seq, states, actor …) is read from the original row.
    """

    original: Any
    effective_date: date
    payload: Mapping[str, Any]
    corrections: tuple[Any, ...]

    @property
    def trigger(self) -> str:
        return self.original.trigger

    def __getattr__(self, name: str) -> Any:
        if name == "original":  # not set yet (copying, unpickling)
            raise AttributeError(name)
        return getattr(self.original, name)


def corrections_by_target(events: Sequence[Any]) -> dict[int, list[Any]]:
    """The ``correct`` entries of a log, by the id of the event each corrects, in log order."""
    found: dict[int, list[Any]] = {}
    for event in events:
        if event.trigger == "correct":
            found.setdefault(int(event.payload["target_id"]), []).append(event)
    return found


def apply_correction(event: Any, correction: Mapping[str, Any]) -> tuple[date, dict[str, Any]]:
    """The effective date and payload of ``event`` once ``correction`` (a payload) applies."""
    effective = event.effective_date
    payload = dict(event.payload)
    field, value = correction["field"], correction["new"]
    if field == DATE_FIELD:
        effective = date.fromisoformat(value)
    elif field == OUTCOME_FIELD:
        payload["outcome"] = value
    elif field.startswith(PAYLOAD_PREFIX):
        name = field.removeprefix(PAYLOAD_PREFIX)
        if value in (None, ""):
            payload.pop(name, None)
        else:
            payload[name] = value
    return effective, payload


def corrected(events: Sequence[Any]) -> list[Any]:
    """The log as corrected: same length and positions, each corrected event replaced by a
    :class:`CorrectedEvent`; a log without corrections comes back as it was (same objects).

    Later corrections of the same value win (a correction can itself be corrected by a
    new one). Service-date corrections do not change the event: see
    :func:`corrected_service_dates`.
    """
    targets = corrections_by_target(events)
    if not targets:
        return list(events)
    out: list[Any] = []
    for event in events:
        found = targets.get(getattr(event, "id", None) or -1, [])
        fixes = [c for c in found if c.payload["field"] != SERVED_FIELD]
        if not fixes:
            out.append(event)
            continue
        current: Any = event
        effective, payload = event.effective_date, dict(event.payload)
        for fix in fixes:
            effective, payload = apply_correction(current, fix.payload)
            current = CorrectedEvent(event, effective, payload, ())
        out.append(CorrectedEvent(event, effective, payload, tuple(fixes)))
    return out


def corrected_service_dates(events: Sequence[Any], served: Mapping[int, date]) -> dict[int, date]:
    """Service dates by event id (``workflow.requests.clocks``), with the corrections of a
    wrongly recorded service date applied (the notice's own frozen row keeps the original)."""
    found = dict(served)
    for event in events:
        if event.trigger == "correct" and event.payload.get("field") == SERVED_FIELD:
            found[int(event.payload["target_id"])] = date.fromisoformat(event.payload["new"])
    return found


def procedure(events: Sequence[Any]) -> list[Any]:
    """The procedure's steps as corrected, without the office's entries: what the guards
    judge a new step against (a step may not precede the last *step*, whatever day an
    assignment or a correction was recorded)."""
    return [e for e in corrected(events) if not is_office(e)]


#: The two answers to a proposal (each names the ``propose`` entry it answers), and the
#: entries a list of open proposals reads.
PROPOSAL_ANSWERS: frozenset[str] = frozenset({"approve", "reject"})
PROPOSAL_TRIGGERS: frozenset[str] = PROPOSAL_ANSWERS | {"propose"}


def pending_proposals(events: Sequence[Any]) -> list[Any]:
    """The ``propose`` entries no ``approve`` or ``reject`` has answered yet, oldest first
    (of one request, or of many: entry ids are unique)."""
    answered = {int(e.payload["proposal_id"]) for e in events if e.trigger in PROPOSAL_ANSWERS}
    return [e for e in events if e.trigger == "propose" and e.id not in answered]


def signed_off(events: Sequence[Any], event_id: int) -> bool:
    """Whether the decision ``event_id`` has been approved (a ``decision`` proposal answered
    by ``approve``)."""
    approved = {int(e.payload["proposal_id"]) for e in events if e.trigger == "approve"}
    return any(
        e.trigger == "propose"
        and e.payload.get("kind") == "decision"
        and int(e.payload.get("target_id", 0)) == event_id
        and e.id in approved
        for e in events
    )


SIGNOFF_REFUSAL = "本机关规定答复须经审核签发：请先提请审核人签发，签发后才能出具答复书"


def signoff_refusal(required: bool, events: Sequence[Any], event: Any) -> str | None:
    """Why the reply to decision ``event`` may not be issued yet: the agency wants a
    sign-off (``agencies.decision_signoff``) and no approver gave it; else None."""
    if required and event.trigger == "decide" and not signed_off(events, event.id):
        return SIGNOFF_REFUSAL
    return None


def current_handler(events: Sequence[Any]) -> int | None:
    """The handler the last assignment named (None when never assigned or unassigned)."""
    handler: int | None = None
    for event in events:
        if event.trigger == "assign":
            handler = event.payload.get("handler_id")
    return handler


def links(events: Sequence[Any]) -> list[tuple[str, int, str]]:
    """(kind, other request id, other tracking number) of every link in the log."""
    return [
        (e.payload["kind"], int(e.payload["other_id"]), str(e.payload.get("other_no", "")))
        for e in events
        if e.trigger == "link" and e.payload["kind"] != "split_kept"
    ]
