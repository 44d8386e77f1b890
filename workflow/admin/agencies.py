"""Changing an agency: rename, report level, decision sign-off, deactivate (issue 15
items 2 and 10).

An agency is never deleted (requests, notices and published reports refer to it); it can
be renamed (机构改革), given its report level (条例 Art. 49, the deadline of its annual
report) and deactivated. Each change is recorded in ``agency_changes`` with the value
before and after, who made it, when and why. Published reports keep the name they were
published under (``published_reports.agency_name``); the issued notices carry theirs in
their frozen PDFs.

Deactivating needs the agency's requests all concluded (an open request still has a
legal deadline to meet) and is refused for the administrator's own agency (they would
lock themselves out of managing it). A deactivated agency takes no new requests and no
new accounts; its history stays readable.

Decision sign-off (``Agency.decision_signoff``, docs/domain.md §15) is switched here from
the agency page and by ``set-decision-signoff`` on the command line through the same
:func:`set_decision_signoff`, so both leave the same before/after record.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Agency, AgencyChange, Request, User
from workflow.admin.operations import FIX_FIELDS, manageable_agencies, validate_agency_name
from workflow.catalog.states import State
from workflow.kernel.actor import naive_utc
from workflow.kernel.errors import NotFound, PermissionDenied, ValidationError
from workflow.requests.reminders import REPORT_LEVELS

#: The choices of the report level, "" meaning not set.
REPORT_LEVEL_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "未设置（提醒显示所有期限）"),
    *(
        (code, f"{label}（{month}月{day}日前公布）")
        for code, (label, month, day) in REPORT_LEVELS.items()
    ),
)
MAX_REASON = 500
#: What the change history calls each field an agency change may touch.
FIELD_LABELS: dict[str, str] = {
    "name": "名称",
    "report_level": "报告层级",
    "decision_signoff": "答复签发",
    "active": "状态",
}
#: How a yes/no field reads in the history (before → after).
_FLAG_WORDS: dict[str, tuple[str, str]] = {
    "active": ("停用", "启用"),
    "decision_signoff": ("不须签发", "须经审核人签发"),
}
_CLOSED = (State.CONCLUDED.value, State.VOIDED.value)


def load_managed_agency(session: Session, agency_id: int, by: User) -> Agency:
    """The agency if ``by`` administers it (their own or below); 404 otherwise."""
    agency = session.get(Agency, agency_id)
    if agency is None or agency.id not in {a.id for a in manageable_agencies(by)}:
        raise NotFound("机关不存在，或不在您管理的范围内")
    return agency


def open_requests(session: Session, agency: Agency) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Request)
            .where(Request.agency_id == agency.id, Request.state.not_in(_CLOSED))
        )
        or 0
    )


def update_agency(
    session: Session, agency: Agency, raw: Mapping[str, str], *, by: User, now: datetime
) -> list[AgencyChange]:
    """Apply the posted name, report level, decision sign-off and status; record each
    change. Returns the changes (none when nothing differed)."""
    if "admin" not in by.roles:
        raise PermissionDenied("只有管理员可以修改机关")
    errors: dict[str, str] = {}
    name = agency.name
    try:
        name = validate_agency_name(raw.get("name", ""))
    except ValidationError as err:
        errors.update(err.field_errors)
    level = raw.get("report_level", "").strip()
    if level and level not in REPORT_LEVELS:
        errors["report_level"] = "请选择报告层级"
    signoff = raw.get("decision_signoff", "")
    if signoff not in ("", "0", "1"):
        errors["decision_signoff"] = "请选择答复是否须经签发"
    active = raw.get("active", "") != "0"
    reason = " ".join(raw.get("reason", "").split())
    if len(reason) > MAX_REASON:
        errors["reason"] = f"说明不能超过{MAX_REASON}字"
    if not active and agency.active:
        if agency.id == by.agency_id:
            errors["active"] = "不能停用自己所在的机关"
        elif (count := open_requests(session, agency)) > 0:
            errors["active"] = f"该机关尚有 {count} 件未办结的申请，办结后才能停用"
    if name != agency.name and not reason:
        errors["reason"] = "更名须说明原因（如机构改革的文件）"
    if errors:
        raise ValidationError(FIX_FIELDS, errors)
    wanted: dict[str, object] = {"name": name, "report_level": level or None, "active": active}
    if signoff in ("0", "1"):  # a form without the field leaves the setting as it is
        wanted["decision_signoff"] = signoff == "1"
    return _apply(session, agency, wanted, by=by, now=now, reason=reason)


def set_decision_signoff(
    session: Session,
    agency: Agency,
    on: bool,
    *,
    by: User | None,
    now: datetime,
    reason: str = "",
) -> list[AgencyChange]:
    """Whether the agency's decisions wait for an approver's sign-off before the reply is
    issued (审核签发, docs/domain.md §15). ``by`` None is the command line (trusted, like
    every command); a user must be an administrator of the agency. Recorded like any
    agency change; nothing is recorded when the setting already is ``on``."""
    if by is not None:
        if "admin" not in by.roles:
            raise PermissionDenied("只有管理员可以修改机关")
        if agency.id not in {a.id for a in manageable_agencies(by)}:
            raise NotFound("机关不存在，或不在您管理的范围内")
    text = " ".join(reason.split())
    if len(text) > MAX_REASON:
        raise ValidationError(FIX_FIELDS, {"reason": f"说明不能超过{MAX_REASON}字"})
    return _apply(session, agency, {"decision_signoff": on}, by=by, now=now, reason=text)


def _apply(
    session: Session,
    agency: Agency,
    wanted: Mapping[str, object],
    *,
    by: User | None,
    now: datetime,
    reason: str,
) -> list[AgencyChange]:
    """Set each field that differs and record it with its before and after."""
    changes = []
    for field, after in wanted.items():
        before = getattr(agency, field)
        if before == after:
            continue
        changes.append(
            AgencyChange(
                agency_id=agency.id,
                field=field,
                before=_text(field, before),
                after=_text(field, after),
                reason=reason,
                changed_at=naive_utc(now),
                changed_by_id=by.id if by is not None else None,
            )
        )
        setattr(agency, field, after)
    session.add_all(changes)
    session.flush()
    return changes


def _text(field: str, value: object) -> str:
    if isinstance(value, bool):
        return _FLAG_WORDS.get(field, ("否", "是"))[value]
    return "" if value is None else str(value)


def history(session: Session, agency: Agency) -> list[AgencyChange]:
    return list(
        session.scalars(
            select(AgencyChange)
            .where(AgencyChange.agency_id == agency.id)
            .order_by(AgencyChange.id.desc())
        )
    )
