"""How requests and their logs read on every page: deadlines, payloads, the timeline.

The request page, the challenge page, the audit pages and the workbench all show the
same lines; they are built here once, from the domain's data, with no routes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from models import Request, User
from models.event import EventColumns
from views.common import local_time
from views.database import db
from workflow.catalog.outcomes import OUTCOME_BY_CODE
from workflow.catalog.states import State
from workflow.kernel.lifecycle import PayloadField, TransitionSpec
from workflow.online.follow_up import APPLICANT_ONLINE_LABEL
from workflow.requests import office
from workflow.requests.deadlines import DUE_SOON_DAYS, Deadlines
from workflow.requests.intake import INTAKE_FIELDS
from workflow.requests.spec import SPEC_BY_TRIGGER

INTAKE_BY_NAME: dict[str, PayloadField] = {f.name: f for f in INTAKE_FIELDS}
#: The register event repeats the intake; the timeline shows only how receipt was fixed.
_REGISTER_SHOWN = ("channel", "submitted_on", "received_on", "receipt_rule")
_EXTRA_LABELS = {
    "receipt_rule": "收到日期认定",
    "imported": "台账导入",
    "portal": "网上平台申请编号",
}
#: Payload keys shown as a notice above an event's details, not as one of them:
#: ``late`` (逾期办理, red) and ``warning`` (a rule the legal officer should check, yellow).
#: ``backdated`` (补录: the date lies far before the day it was recorded, with the reason).
_NOTICE_KEYS = ("late", "warning", "backdated")


_PROVISIONAL = "（暂定，节假日安排未公布）"


@dataclass(frozen=True)
class DeadlineLine:
    """One row of the deadline panel (or the list's deadline cell)."""

    label: str
    day: date | None
    note: str = ""
    css: str = ""


def reply_status(deadlines: Deadlines, today: date) -> DeadlineLine:
    """The reply deadline in words: days left, due today, overdue, paused or not running."""
    label = "答复期限"
    if deadlines.voided:
        return DeadlineLine(label, None, "已作废")
    if deadlines.concluded:
        return DeadlineLine(label, deadlines.reply_due, "已办结", "done")
    if deadlines.reply_due is None:
        due = deadlines.applicant_supplement_due
        note = "待补正，收到补正材料后重新计算"
        if due:
            note += f"（申请人补正期限 {due.isoformat()}）"
        return DeadlineLine(label, None, note, "paused")
    provisional = _PROVISIONAL if "reply_due" in deadlines.provisional else ""
    if deadlines.paused and not deadlines.overdue(today):
        note = "暂停计时" + ("（对方逾期未复的，最迟至此日）" if deadlines.consultation_due else "")
        return DeadlineLine(label, deadlines.reply_due, note + provisional, "paused")
    left = deadlines.days_left(today)
    if left is None:
        return DeadlineLine(label, deadlines.reply_due, provisional)
    if left < 0:
        return DeadlineLine(
            label, deadlines.reply_due, f"已逾期 {-left} 个工作日{provisional}", "overdue"
        )
    if left == 0:
        return DeadlineLine(label, deadlines.reply_due, "今日到期" + provisional, "due-soon")
    css = "due-soon" if left <= DUE_SOON_DAYS else ""
    return DeadlineLine(label, deadlines.reply_due, f"剩余 {left} 个工作日{provisional}", css)


def deadline_panel(req: Request, deadlines: Deadlines, today: date) -> list[DeadlineLine]:
    """The four clocks of docs/domain.md §3 for the detail page, each with its state in
    words; "暂定" only on a deadline that rests on an unannounced year."""

    def provisional(name: str) -> str:
        return _PROVISIONAL if name in deadlines.provisional else ""

    def presumed(name: str) -> str:
        return "（按推定送达日计算）" if name in deadlines.presumed else ""

    notice_due = deadlines.supplement_notice_due
    notice = DeadlineLine(
        "补正告知期限",
        notice_due,
        "收到申请后7个工作日" + provisional("supplement_notice_due")
        if notice_due
        else "2008年《条例》未规定补正告知期限",
    )
    if notice_due and req.state == State.REGISTERED.value and today > notice_due:
        notice = DeadlineLine(
            "补正告知期限", notice_due, "已超过法定期限，此后告知补正将标记为逾期", "overdue"
        )
    consult = DeadlineLine("征求意见期限", deadlines.consultation_due, "—")
    if deadlines.consultation_due:
        late = today > deadlines.consultation_due
        consult = DeadlineLine(
            "征求意见期限",
            deadlines.consultation_due,
            ("已届满，请记录意见或逾期未答复" if late else "对方应在此日前回复（15个工作日）")
            + provisional("consultation_due")
            + presumed("consultation_due"),
            "overdue" if late else "",
        )
    fee = DeadlineLine("缴费期限", deadlines.fee_due, "—")
    if deadlines.fee_due:
        late = today > deadlines.fee_due
        fee = DeadlineLine(
            "缴费期限",
            deadlines.fee_due,
            ("已届满，可认定逾期未缴费" if late else "申请人应在此日前缴费（20个工作日）")
            + provisional("fee_due")
            + presumed("fee_due"),
            "overdue" if late else "",
        )
    return [notice, reply_status(deadlines, today), consult, fee]


def submitted_text(value: datetime) -> str:
    """The submission time; a back-dated registration stores local midnight, so date only."""
    text = local_time(value)
    return text.removesuffix(" 00:00")


def outcome_text(code: str) -> str:
    """An outcome as the report names it: group · row（basis）."""
    outcome = OUTCOME_BY_CODE.get(code)
    if outcome is None:
        return code
    basis = "" if outcome.basis in ("", "—") else f"（{outcome.basis}）"
    if outcome.label == outcome.group.label:
        return outcome.label + basis
    return f"{outcome.group.label} · {outcome.label}{basis}"


def _value_text(spec: PayloadField, value: Any, names: Mapping[str, str]) -> str:
    if spec.kind == "choice":
        return spec.choice_label(str(value))
    if spec.kind == "outcome":
        return outcome_text(str(value))
    if spec.kind == "approver":
        return names.get(str(value), str(value))
    if spec.kind == "int" and spec.name == "days":
        return f"{value} 个工作日"
    return str(value)


def describe_payload(
    trigger: str,
    payload: Mapping[str, Any],
    names: Mapping[str, str],
    specs: Mapping[str, TransitionSpec] = SPEC_BY_TRIGGER,
) -> list[tuple[str, str]]:
    """An event's payload in words, labelled as on the form it was entered with.

    Keys the form does not know (older payloads, import extras) are still shown, so the
    log never hides what was recorded; ``late`` and ``warning`` are left out here and
    shown as notices. ``specs`` is the lifecycle's table (requests, or challenges).
    """
    by_name: Mapping[str, PayloadField]
    if trigger == "register":
        by_name, order = INTAKE_BY_NAME, _REGISTER_SHOWN
    else:
        spec = specs.get(trigger)
        by_name = {f.name: f for f in (spec.fields if spec else ())}
        order = (*by_name, *(k for k in payload if k not in by_name))
    lines = []
    for key in order:
        if key in _NOTICE_KEYS or key not in payload:
            continue
        known = by_name.get(key)
        if known is not None:
            lines.append((known.label, _value_text(known, payload[key], names)))
        elif key == "imported" and isinstance(payload[key], Mapping):
            lines.append((_EXTRA_LABELS[key], _import_text(payload[key])))
        elif key != "unrecorded":
            lines.append((_EXTRA_LABELS.get(key, key), str(payload[key])))
    return lines


def _actor_name(event: EventColumns) -> str:
    """Who recorded the event: the user; the applicant on the portal; else the system
    (“系统（import-ledger）” for an import without a user, which names its command)."""
    if event.actor is not None:
        return event.actor.display_name
    if event.payload.get("portal"):
        return APPLICANT_ONLINE_LABEL
    imported = event.payload.get("imported")
    return f"系统（{imported['by']}）" if isinstance(imported, Mapping) else "系统"


def _import_text(source: Mapping[str, Any]) -> str:
    """“由 admin 导入自 台账.csv（SHA-256 1a2b3c4d5e6f…）”: who recorded it, from which file."""
    sha = str(source.get("sha256", ""))[:12]
    return f"由 {source.get('by', '')} 导入自 {source.get('file', '')}（SHA-256 {sha}…）"


def _state_label(value: str, states: type[StrEnum] = State) -> str:
    """Chinese state name; the raw value for anything unknown (the log is never hidden)."""
    try:
        return states(value).label  # type: ignore[attr-defined]
    except ValueError:
        return value


@dataclass(frozen=True)
class EventLine:
    seq: int
    label: str
    change: str
    effective_date: date
    recorded: str
    actor: str
    details: list[tuple[str, str]]
    late: str | None
    warning: str | None = None
    backdated: str | None = None
    id: int = 0
    #: The corrections (更正) that apply to this step, in words: the step is shown struck through.
    corrections: tuple[str, ...] = ()
    #: An entry of the office (分办, 审核, 更正 …), not a step of the procedure.
    office: bool = False
    #: Where this step can be corrected (set by the page for users who may).
    correct_url: str = ""


def backdated_text(flag: Any) -> str | None:
    """“补录：法律日期早于记录当天40天（限7天）；原因：…” for an event's ``backdated`` flag."""
    if not isinstance(flag, Mapping):
        return None
    return (
        f"法律日期早于记录当天{flag.get('days')}天（超过{flag.get('limit')}天）；"
        f"原因：{flag.get('reason', '')}"
    )


def describe_proposal(event: Any) -> str:
    """A proposal in words, for the panel and the workbench."""
    return describe_proposal_payload(event.payload)


def describe_proposal_payload(p: Mapping[str, Any]) -> str:
    kind = p.get("kind", "")
    if kind == "extension":
        return f"延期答复 {p.get('days')} 个工作日：{p.get('reason', '')}"
    if kind == "decision":
        return f"签发第{p.get('target_seq')}条记录的答复"
    if kind == "correction":
        return correction_text(p)
    return office.PROPOSAL_KINDS.get(kind, kind)


def value_text(field: str, value: Any) -> str:
    if field == office.OUTCOME_FIELD and value in OUTCOME_BY_CODE:
        return OUTCOME_BY_CODE[value].short
    return str(value) if value not in (None, "") else "（空）"


def correction_text(p: Any) -> str:
    field = p.get("field", "")
    return (
        f"更正第{p.get('target_seq')}条记录的{office.field_label(field)}："
        f"{value_text(field, p.get('old'))} → {value_text(field, p.get('new'))}"
        f"（理由：{p.get('reason', '')}）"
    )


def office_details(trigger: str, payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    """An office entry (workflow.requests.office) in words."""
    lines: list[tuple[str, str]] = []
    if trigger == "assign":
        lines.append(
            (
                "承办人",
                f"{payload.get('previous') or '未分配'} → {payload.get('handler') or '未分配'}",
            )
        )
    elif trigger == "propose":
        lines.append(("提请事项", describe_proposal_payload(payload)))
    elif trigger in {"approve", "reject"}:
        lines.append(("事项", office.PROPOSAL_KINDS.get(payload.get("kind", ""), "")))
        if payload.get("reason"):
            lines.append(("退回理由", str(payload["reason"])))
    elif trigger == "correct":
        lines.append(("更正", correction_text(payload)))
        if payload.get("approved_by"):
            lines.append(("批准人", str(payload["approved_by"])))
        if payload.get("published_years"):
            years = "、".join(f"{y}年" for y in payload["published_years"])
            lines.append(("已发布年度", f"改变了已发布的{years}统计（已确认）"))
    elif trigger == "link":
        kind = office.LINK_LABELS.get(payload.get("kind", ""), payload.get("kind", ""))
        lines.append(("关联", f"{kind} {payload.get('other_no', '')}"))
    if payload.get("note"):
        lines.append(("说明", str(payload["note"])))
    return lines


def timeline(
    events: Sequence[EventColumns],
    specs: Mapping[str, TransitionSpec] = SPEC_BY_TRIGGER,
    states: type[StrEnum] = State,
) -> list[EventLine]:
    """The event log as the detail page shows it, oldest first.

    ``specs`` and ``states`` name the lifecycle: a request's by default, or a challenge's
    (复议/诉讼) — both logs have the same columns and are read the same way.
    """
    usernames = {
        str(v)
        for e in events
        for f in (specs[e.trigger].fields if e.trigger in specs else ())
        if f.kind == "approver" and (v := e.payload.get(f.name))
    }
    names: dict[str, str] = {}
    if usernames:
        rows = db().execute(
            select(User.username, User.display_name).where(User.username.in_(usernames))
        )
        names = {u: d for u, d in rows}
    lines = []
    fixes = office.corrections_by_target(events) if specs is SPEC_BY_TRIGGER else {}
    for event in events:
        spec = specs.get(event.trigger)
        is_office = specs is SPEC_BY_TRIGGER and office.is_office(event)
        before = _state_label(event.from_state, states) if event.from_state else ""
        after = _state_label(event.to_state, states)
        late, warning = event.payload.get("late"), event.payload.get("warning")
        lines.append(
            EventLine(
                seq=event.seq,
                label=spec.label
                if spec
                else office.OFFICE_LABELS.get(event.trigger, event.trigger),
                change=f"{before} → {after}" if before and before != after else after,
                effective_date=event.effective_date,
                recorded=local_time(event.recorded_at),
                actor=_actor_name(event),
                details=office_details(event.trigger, event.payload)
                if is_office
                else describe_payload(event.trigger, event.payload, names, specs),
                late=str(late) if late else None,
                warning=str(warning) if warning else None,
                backdated=backdated_text(event.payload.get("backdated")),
                id=event.id,
                corrections=tuple(
                    f"第{c.seq}条更正：{correction_text(c.payload)}"
                    for c in fixes.get(event.id, [])
                ),
                office=is_office,
            )
        )
    return lines


@dataclass(frozen=True)
class ActionLine:
    spec: TransitionSpec
    reasons: list[str]
    url: str


@dataclass
class ListRow:
    request: Request
    kind_label: str
    state_label: str
    reply: DeadlineLine
