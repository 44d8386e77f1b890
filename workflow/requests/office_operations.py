"""The office's use cases on a request: assignment (分办), proposals and sign-off (审核签发),
corrections (更正) and links between requests (docs/domain.md §15).

Each appends office entries (``workflow.requests.office``) to the request's append-only
log — never an update of an earlier row — and rewrites the request's projection, so the
clocks and the statistics follow at once. Like ``workflow.requests.operations`` every
function flushes and never commits: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Agency, Event, Notice, PublishedReport, Request, RequestFacts, User
from models.pii import same
from models.user import UserRole
from workflow.catalog.outcomes import OUTCOME_BY_CODE
from workflow.catalog.states import OPEN_STATES, State
from workflow.kernel.actor import Actor, local_today, naive_utc
from workflow.kernel.errors import (
    ConflictError,
    GuardError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from workflow.kernel.guards import role_refusal
from workflow.kernel.lifecycle import blocking_reasons
from workflow.kernel.payload import clean_text, parse_date, parse_fields
from workflow.requests import office
from workflow.requests.intake import INTAKE_FIELDS
from workflow.requests.machine import REQUESTS
from workflow.requests.office import MAX_SPLIT
from workflow.requests.operations import (
    conflict_message,
    fire,
    history,
    project,
    register,
    request_deadlines,
)
from workflow.requests.spec import EXTENSION_PROPOSAL_FIELDS, SPEC_BY_TRIGGER
from workflow.statistics.facts import facts_from_events
from workflow.store.calendar import load_calendar
from workflow.store.event_log import append_event, flush_or_conflict

#: Who may assign (分办): the front desk, the handlers and the office head.
ASSIGN_ROLES: frozenset[str] = frozenset({"registrar", "handler", "approver"})
#: Who may be a request's 承办人.
HANDLER_ROLES: frozenset[str] = frozenset({"handler", "approver"})
#: Who may propose (提请审核) and correct a payload field.
PROPOSE_ROLES: frozenset[str] = frozenset({"registrar", "handler", "approver"})
APPROVER = "approver"
INTAKE_NAMES: frozenset[str] = frozenset(f.name for f in INTAKE_FIELDS)
#: Longest reason or note (corrections have no time limit: an error found in a 复议
#: must still be fixable).
MAX_REASON = 400


def _check_write(request: Request, actor: Actor) -> None:
    if actor.agency_id != request.agency_id:
        raise PermissionDenied("只能办理本机关的申请")


def _check_version(request: Request, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != request.version:
        raise ConflictError(conflict_message(request.tracking_no))


def record_office(
    session: Session,
    request: Request,
    trigger: str,
    actor: Actor,
    now: datetime,
    payload: Mapping[str, Any],
    events: Sequence[Event] | None = None,
) -> Event:
    """Append one office entry (state unchanged, dated today) and rewrite the projection."""
    if trigger not in office.OFFICE_TRIGGERS:
        raise NotFound(f"未知操作“{trigger}”")
    _check_write(request, actor)
    known = list(events) if events is not None else history(session, request)
    event = append_event(
        session,
        request,
        Event,
        "request",
        trigger=trigger,
        from_state=request.state,
        to_state=request.state,
        effective_date=local_today(now),
        recorded_at=naive_utc(now),
        actor_id=actor.user_id,
        payload=dict(payload),
    )
    flush_or_conflict(session, conflict_message(request.tracking_no))
    project(session, request, [*known, event], load_calendar(session))
    session.flush()
    return event


# --------------------------------------------------------------------------- 分办


def handler_choices(session: Session, agency_id: int) -> list[User]:
    """Active users of the agency who may be a 承办人, by name."""
    return list(
        session.scalars(
            select(User)
            .join(UserRole)
            .where(
                User.agency_id == agency_id,
                User.active.is_(True),
                UserRole.role.in_(sorted(HANDLER_ROLES)),
            )
            .distinct()
            .order_by(User.display_name, User.id)
        )
    )


def _handler(session: Session, agency_id: int, handler_id: int | None) -> User | None:
    if handler_id is None:
        return None
    user = session.get(User, handler_id)
    if (
        user is None
        or user.agency_id != agency_id
        or not user.active
        or not (user.roles & HANDLER_ROLES)
    ):
        raise ValidationError(
            "承办人须为本机关在职的承办人或审核人", {"handler": "请从列表中选择承办人"}
        )
    return user


def assign(
    session: Session,
    request: Request,
    actor: Actor,
    now: datetime,
    handler_id: int | None,
    *,
    note: str = "",
    expected_version: int | None = None,
) -> Event:
    """Assign (or reassign, or with ``None`` unassign) the request's 承办人: one entry."""
    if reason := role_refusal(ASSIGN_ROLES, actor.roles):
        raise PermissionDenied(reason)
    _check_write(request, actor)
    _check_version(request, expected_version)
    if request.state == State.VOIDED.value:
        raise GuardError(["已作废的申请不能分办"])
    user = _handler(session, request.agency_id, handler_id)
    if handler_id == request.handler_id:
        name = user.display_name if user else "（未分配）"
        raise GuardError([f"申请 {request.tracking_no} 的承办人已是{name}"])
    previous = request.handler
    request.handler = user
    payload: dict[str, Any] = {
        "handler_id": handler_id,
        "handler": user.display_name if user else "",
        "previous": previous.display_name if previous else "",
    }
    if note:
        payload["note"] = clean_text(note, MAX_REASON)
    return record_office(session, request, "assign", actor, now, payload)


def assign_many(
    session: Session,
    request_ids: Sequence[int],
    actor: Actor,
    now: datetime,
    handler_id: int | None,
) -> list[Event]:
    """Bulk 分办: every selected request gets the handler, one entry each, or none does
    (a refusal names the request; requests that already have this handler are skipped)."""
    if not request_ids:
        raise ValidationError("请先勾选要分办的申请", {"ids": "未选择申请"})
    if len(request_ids) > 500:
        raise ValidationError("一次最多分办500件申请")
    rows = {
        r.id: r
        for r in session.scalars(select(Request).where(Request.id.in_(list(set(request_ids)))))
    }
    events = []
    for rid in dict.fromkeys(request_ids):
        request = rows.get(rid)
        if request is None:
            raise NotFound(f"申请（id {rid}）不存在")
        if request.handler_id == handler_id:
            continue
        try:
            events.append(assign(session, request, actor, now, handler_id))
        except GuardError as exc:
            raise GuardError([f"申请 {request.tracking_no}：{r}" for r in exc.reasons]) from exc
    if not events:
        raise GuardError(["所选申请的承办人已是所选人员，没有变化"])
    return events


# --------------------------------------------------------------------------- 审核签发


def approvers_of(session: Session, agency_id: int) -> list[int]:
    """Ids of the agency's active approvers."""
    return list(
        session.scalars(
            select(User.id)
            .join(UserRole)
            .where(User.agency_id == agency_id, User.active.is_(True), UserRole.role == APPROVER)
        )
    )


def _extension_payload(request: Request, raw: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values = parse_fields(EXTENSION_PROPOSAL_FIELDS, raw, errors)
    if errors:
        raise ValidationError("请更正标出的内容", errors)
    return values


def propose(
    session: Session,
    request: Request,
    actor: Actor,
    now: datetime,
    kind: str,
    raw: Mapping[str, Any],
    *,
    expected_version: int | None = None,
) -> Event:
    """提请审核: an extension (Art. 33 para 2), a decision's sign-off, or a correction
    that needs an approver. It waits on the approvers' workbench until one of them
    approves or rejects it; nothing else changes until then."""
    if reason := role_refusal(PROPOSE_ROLES, actor.roles):
        raise PermissionDenied(reason)
    _check_write(request, actor)
    _check_version(request, expected_version)
    if kind not in office.PROPOSAL_KINDS:
        raise ValidationError("未知的审核事项")
    events = history(session, request)
    pending = office.pending_proposals(events)
    payload: dict[str, Any] = {"kind": kind}
    if kind == "extension":
        if any(p.payload.get("kind") == "extension" for p in pending):
            raise GuardError(["本申请已有待审核的延期申请"])
        values = _extension_payload(request, raw)
        ctx = REQUESTS.context(
            request,
            office.procedure(events),
            frozenset({APPROVER}),
            local_today(now),
            deadlines=request_deadlines(
                session, request, events, load_calendar(session), local_today(now)
            ),
        )
        reasons = blocking_reasons(SPEC_BY_TRIGGER["extend"], ctx)
        if reasons:
            raise GuardError(reasons)
        payload.update(values)
    elif kind == "decision":
        target = _target(events, raw.get("target_id"))
        if target.trigger != "decide":
            raise ValidationError("只有答复需要签发")
        if office.signed_off(events, target.id) or any(
            int(p.payload.get("target_id", 0)) == target.id for p in pending
        ):
            raise GuardError(["该答复已提请签发或已签发"])
        payload["target_id"] = target.id
        payload["target_seq"] = target.seq
    else:  # correction
        payload.update(
            _correction_payload(
                session, request, events, raw, approved_by="", today=local_today(now)
            )
        )
    if raw.get("note"):
        payload["note"] = clean_text(raw["note"], MAX_REASON)
    return record_office(session, request, "propose", actor, now, payload, events)


def _proposal(events: Sequence[Event], proposal_id: Any) -> Event:
    try:
        wanted = int(proposal_id)
    except (TypeError, ValueError):
        raise NotFound("没有这项待审核事项") from None
    for p in office.pending_proposals(events):
        if p.id == wanted:
            return p
    raise GuardError(["该事项已审核或不存在"])


def _check_approver(session: Session, request: Request, actor: Actor, proposal: Event) -> None:
    """The approval is the approver's own act; nobody approves their own proposal while
    another approver of the agency exists."""
    if APPROVER not in actor.roles:
        raise PermissionDenied("只有审核人可以审核")
    if proposal.actor_id == actor.user_id:
        others = [u for u in approvers_of(session, request.agency_id) if u != actor.user_id]
        if others:
            raise GuardError(["不能审核自己提请的事项：本机关还有其他审核人，请由其审核"])


def approve(
    session: Session,
    request: Request,
    actor: Actor,
    now: datetime,
    proposal_id: Any,
    raw: Mapping[str, Any] | None = None,
    *,
    expected_version: int | None = None,
) -> Event:
    """审核同意. An approved extension is recorded as the ``extend`` step on the approval
    date (the day the 负责人 agreed, Art. 33 para 2), with the approver as its approver;
    an approved correction is recorded as the correction; a decision becomes issuable."""
    raw = raw or {}
    _check_write(request, actor)
    _check_version(request, expected_version)
    events = history(session, request)
    proposal = _proposal(events, proposal_id)
    _check_approver(session, request, actor, proposal)
    kind = proposal.payload["kind"]
    payload: dict[str, Any] = {"proposal_id": proposal.id, "kind": kind}
    if raw.get("note"):
        payload["note"] = clean_text(raw["note"], MAX_REASON)
    approval = record_office(session, request, "approve", actor, now, payload, events)
    if kind == "extension":
        effective = raw.get("effective_date") or local_today(now).isoformat()
        values = {k: proposal.payload[k] for k in ("days", "reason") if k in proposal.payload}
        fire(
            session,
            request,
            "extend",
            actor,
            now,
            {**values, "effective_date": effective, "approver": actor.username},
        )
    elif kind == "correction":
        # Judged again on the log as it is now (steps may have been added since).
        p = proposal.payload
        again = {
            "target_id": p["target_id"],
            "field": p["field"],
            "new": p["new"],
            "reason": p["reason"],
            "confirm_published": "1"
            if p.get("published_years") or raw.get("confirm_published")
            else "",
        }
        fixed = _correction_payload(
            session,
            request,
            history(session, request),
            again,
            approved_by=actor.username,
            today=local_today(now),
        )
        fixed["proposal_id"] = proposal.id
        record_office(session, request, "correct", actor, now, fixed)
    return approval


def reject(
    session: Session,
    request: Request,
    actor: Actor,
    now: datetime,
    proposal_id: Any,
    reason: str,
    *,
    expected_version: int | None = None,
) -> Event:
    """审核退回, with the reason the proposer reads."""
    _check_write(request, actor)
    _check_version(request, expected_version)
    events = history(session, request)
    proposal = _proposal(events, proposal_id)
    _check_approver(session, request, actor, proposal)
    text = clean_text(reason or "", MAX_REASON)
    if not text:
        raise ValidationError("请填写退回理由", {"reason": "请填写退回理由"})
    payload = {"proposal_id": proposal.id, "kind": proposal.payload["kind"], "reason": text}
    return record_office(session, request, "reject", actor, now, payload, events)


def pending_for(session: Session, agency_id: int) -> list[tuple[Request, Event]]:
    """The agency's proposals waiting for an approver, oldest first (the workbench list):
    the requests the projection counts a proposal open on (an index range, not every
    event of the agency's requests), and their proposal entries and answers."""
    entries = list(
        session.execute(
            select(Request, Event)
            .join(RequestFacts, RequestFacts.request_id == Request.id)
            .join(Event, Event.request_id == Request.id)
            .where(RequestFacts.agency_id == agency_id, RequestFacts.open_proposals > 0)
            .where(Event.trigger.in_(sorted(office.PROPOSAL_TRIGGERS)))
            .order_by(Event.recorded_at, Event.id)
        )
    )
    pending = {e.id for e in office.pending_proposals([e for _, e in entries])}
    return [(r, e) for r, e in entries if e.id in pending]


def issue_refusal(session: Session, request: Request, event: Event) -> str | None:
    """Why the reply to decision ``event`` may not be issued yet (the agency wants a
    sign-off and none was given), or None."""
    agency = session.get(Agency, request.agency_id)
    required = agency is not None and agency.decision_signoff
    return office.signoff_refusal(required, history(session, request), event)


# --------------------------------------------------------------------------- 更正


def _target(events: Sequence[Event], target_id: Any) -> Event:
    try:
        wanted = int(target_id)
    except (TypeError, ValueError):
        raise ValidationError("请选择要更正的记录", {"target_id": "请选择记录"}) from None
    for event in events:
        if event.id == wanted and not office.is_office(event):
            return event
    raise ValidationError("只能更正本申请的办理步骤", {"target_id": "请选择记录"})


def correctable_fields(session: Session, event: Event) -> list[tuple[str, str]]:
    """What of ``event`` can be corrected: (field code, label). The registration is not
    corrected here: its date is the legal receipt date, fixed by the intake rules."""
    if event.trigger == "register":
        return []
    found = [(office.DATE_FIELD, office.field_label(office.DATE_FIELD))]
    if event.trigger == "decide":
        found.append((office.OUTCOME_FIELD, office.field_label(office.OUTCOME_FIELD)))
    spec = SPEC_BY_TRIGGER.get(event.trigger)
    for f in spec.fields if spec else ():
        if f.kind not in {"outcome", "approver"}:
            found.append((office.PAYLOAD_PREFIX + f.name, f.label))
    if _served_notice_date(session, event) is not None:
        found.append((office.SERVED_FIELD, office.field_label(office.SERVED_FIELD)))
    return found


def _served_notice_date(session: Session, target: Event) -> date | None:
    return session.scalar(
        select(Notice.served_on).where(Notice.event_id == target.id, Notice.served_on.is_not(None))
    )


def _old_value(session: Session, events: Sequence[Event], target: Event, field: str) -> str:
    """The value now in force (earlier corrections applied)."""
    current = next(e for e in office.corrected(events) if getattr(e, "id", None) == target.id)
    if field == office.DATE_FIELD:
        return current.effective_date.isoformat()
    if field == office.SERVED_FIELD:
        recorded = _served_notice_date(session, target)
        served = office.corrected_service_dates(
            events, {target.id: recorded} if recorded else {}
        ).get(target.id)
        return served.isoformat() if served else ""
    if field == office.OUTCOME_FIELD:
        return str(current.payload.get("outcome", ""))
    return str(current.payload.get(field.removeprefix(office.PAYLOAD_PREFIX), ""))


def _parse_new(target: Event, field: str, value: Any) -> Any:
    if field in {office.DATE_FIELD, office.SERVED_FIELD}:
        try:
            return parse_date(value).isoformat()
        except ValueError as exc:
            raise ValidationError(str(exc), {"new": str(exc)}) from None
    if field == office.OUTCOME_FIELD:
        outcome = OUTCOME_BY_CODE.get(str(value or "").strip())
        if outcome is None or not outcome.decidable:
            raise ValidationError("请选择作出答复时可选的处理结果", {"new": "请选择处理结果"})
        return outcome.code
    name = field.removeprefix(office.PAYLOAD_PREFIX)
    spec = SPEC_BY_TRIGGER.get(target.trigger)
    known = {f.name: f for f in spec.fields} if spec else {}
    if name not in known:
        raise ValidationError("该记录没有此项内容", {"field": "请选择要更正的内容"})
    errors: dict[str, str] = {}
    values = parse_fields([known[name]], {name: value}, errors)
    if errors:
        raise ValidationError("请更正标出的内容", {"new": next(iter(errors.values()))})
    return values.get(name, "")


def _check_corrected_log(
    session: Session, request: Request, events: Sequence[Event], today: date
) -> None:
    """The log as it would read after the correction must still be a valid procedure:
    dates not before receipt, not in the future, in order; a concluding step last."""
    steps = office.procedure(events)
    previous: date | None = None
    for step in steps:
        day = step.effective_date
        if day < request.received_on and step.trigger != "register":
            raise GuardError(
                [f"更正后第{step.seq}条记录的日期早于收到申请日期（{request.received_on}）"]
            )
        if day > today:
            raise GuardError([f"更正后第{step.seq}条记录的日期晚于今天"])
        if previous is not None and day < previous:
            raise GuardError(
                [
                    f"更正后第{step.seq}条记录（{day}）早于前一步骤的日期（{previous}）；"
                    "如前一步骤的日期也有误，请先更正前一步骤"
                ]
            )
        previous = day
    try:
        facts_from_events(request.received_on, events)
    except ValueError as exc:
        raise GuardError([str(exc)]) from exc


def published_years(session: Session, request: Request) -> list[int]:
    """Years with a published report that counts this request's agency."""
    ids = []
    agency: Agency | None = session.get(Agency, request.agency_id)
    own = True
    while agency is not None:
        ids.append((agency.id, own))
        agency, own = agency.parent, False
    years: set[int] = set()
    for agency_id, is_own in ids:
        stmt = select(PublishedReport.year).where(PublishedReport.agency_id == agency_id)
        if not is_own:
            stmt = stmt.where(PublishedReport.with_subordinates.is_(True))
        years.update(session.scalars(stmt))
    return sorted(years)


def published_change(
    session: Session, request: Request, before: Sequence[Any], after: Sequence[Any]
) -> list[int]:
    """Published years whose numbers the change from ``before`` to ``after`` moves."""
    old = facts_from_events(request.received_on, before)
    new = facts_from_events(request.received_on, after)
    if old == new:
        return []
    touched = {old.received_on.year, new.received_on.year}
    touched |= {d.year for d in (old.concluded_on, new.concluded_on) if d}
    return [y for y in published_years(session, request) if y in touched]


class _Draft:
    """A correction entry not yet written, to see the log as it would read."""

    trigger = "correct"

    def __init__(self, payload: Mapping[str, Any]) -> None:
        self.payload = payload
        self.id = -1
        self.seq = 0
        self.effective_date = date.min


def _correction_payload(
    session: Session,
    request: Request,
    events: Sequence[Event],
    raw: Mapping[str, Any],
    *,
    approved_by: str,
    today: date,
) -> dict[str, Any]:
    target = _target(events, raw.get("target_id"))
    field = str(raw.get("field") or "")
    if field not in dict(correctable_fields(session, target)):
        raise ValidationError("该记录不能更正此项", {"field": "请选择要更正的内容"})
    old_text = _old_value(session, events, target, field)
    new = _parse_new(target, field, office.new_value(field, raw))
    if str(new) == old_text:
        raise ValidationError("更正后的值与原值相同", {"new": "与原值相同"})
    reason = clean_text(raw.get("reason") or "", MAX_REASON)
    if not reason:
        raise ValidationError("更正须写明理由", {"reason": "请填写更正理由"})
    payload: dict[str, Any] = {
        "target_id": target.id,
        "target_seq": target.seq,
        "field": field,
        "old": old_text,
        "new": new,
        "reason": reason,
    }
    if approved_by:
        payload["approved_by"] = approved_by
    after = [*events, _Draft(payload)]
    _check_corrected_log(session, request, after, today)
    years = published_change(session, request, events, after)
    if years and str(raw.get("confirm_published") or "") not in {"1", "on", "y", "true"}:
        listed = "、".join(f"{y}年" for y in years)
        raise GuardError(
            [
                f"此更正将改变已发布的{listed}年度统计数字；已发布的报告不会改变，"
                "将与重新生成的统计出现差异，需要时应更正发布。确认后请勾选“确认更正已发布年度”再保存"
            ],
            {"confirm_published": "请确认"},
        )
    if years:
        payload["published_years"] = years
    return payload


def correct(
    session: Session,
    request: Request,
    actor: Actor,
    now: datetime,
    raw: Mapping[str, Any],
    *,
    expected_version: int | None = None,
) -> Event:
    """更正 recorded directly: a payload field by a caseworker, a date or an outcome only
    by an approver (their own act; anyone else proposes it with :func:`propose`)."""
    if reason := role_refusal(PROPOSE_ROLES, actor.roles):
        raise PermissionDenied(reason)
    _check_write(request, actor)
    _check_version(request, expected_version)
    if request.state == State.VOIDED.value:
        raise GuardError(["已作废的申请不能更正"])
    field = str(raw.get("field") or "")
    needs = office.needs_approver(field)
    if needs and APPROVER not in actor.roles:
        raise GuardError(["更正日期或处理结果须经审核人批准：请提请审核"])
    events = history(session, request)
    payload = _correction_payload(
        session,
        request,
        events,
        raw,
        approved_by=actor.username if needs else "",
        today=local_today(now),
    )
    return record_office(session, request, "correct", actor, now, payload, events)


# --------------------------------------------------------------------------- links


def register_request(
    session: Session,
    actor: Actor,
    now: datetime,
    raw: Mapping[str, Any],
    *,
    agency: Agency,
    duplicate_of: int | None = None,
    backdate_limit: int | None = None,
) -> Request:
    """登记, and where the clerk chose an earlier request the duplicate warning showed,
    link the new one to it (重复申请, kept on both logs) in the same transaction."""
    request = register(session, actor, now, raw, agency=agency, backdate_limit=backdate_limit)
    if duplicate_of is not None:
        earlier = session.get(Request, duplicate_of)
        if earlier is None or earlier.agency_id != agency.id:
            raise ValidationError("所选在先申请不存在", {"duplicate_of": "请重新选择"})
        link(session, request, earlier, actor, now, "duplicate_of", "earlier_of")
    return request


def link(
    session: Session,
    request: Request,
    other: Request,
    actor: Actor,
    now: datetime,
    kind: str,
    back: str,
    note: str = "",
) -> tuple[Event, Event]:
    """Link two requests of the same agency: an entry on each side's log."""
    if request.id == other.id:
        raise ValidationError("不能关联申请本身")
    if other.agency_id != request.agency_id:
        raise ValidationError("只能关联本机关的申请")
    here = {"kind": kind, "other_id": other.id, "other_no": other.tracking_no}
    there = {"kind": back, "other_id": request.id, "other_no": request.tracking_no}
    if note:
        here["note"] = there["note"] = clean_text(note, MAX_REASON)
    return (
        record_office(session, request, "link", actor, now, here),
        record_office(session, other, "link", actor, now, there),
    )


# --------------------------------------------------------------------------- split, merge

#: Who may merge: it concludes the others by 作废 (void), an approver's act.
MERGE_ROLES: frozenset[str] = SPEC_BY_TRIGGER["void"].roles


def split(
    session: Session,
    request: Request,
    actor: Actor,
    now: datetime,
    items: Sequence[str],
    *,
    expected_version: int | None = None,
) -> list[Request]:
    """拆分 a multi-item application: the request keeps the first item; each further item
    is registered as a new request with the same applicant, channel and receipt date (so
    the same clocks), linked both ways. Each is then decided and counted once under its
    own outcome (docs/domain.md §15, counting rule)."""
    if reason := role_refusal(PROPOSE_ROLES, actor.roles):
        raise PermissionDenied(reason)
    _check_write(request, actor)
    _check_version(request, expected_version)
    cleaned = [clean_text(i, 4000) for i in items]
    cleaned = [i for i in cleaned if i]
    if len(cleaned) < 2:
        raise ValidationError("拆分至少需要两项，每行一项", {"items": "每行填写一项"})
    if len(cleaned) > MAX_SPLIT:
        raise ValidationError(f"一次最多拆分为{MAX_SPLIT}项", {"items": "项数过多"})
    if request.state not in {s.value for s in OPEN_STATES}:
        raise GuardError(["只能拆分尚在办理中的申请"])
    events = history(session, request)
    intake = {k: v for k, v in events[0].payload.items() if k in INTAKE_NAMES}
    made = []
    for item in cleaned[1:]:
        child = register(session, actor, now, {**intake, "subject": item}, agency=request.agency)
        if request.handler_id and child.handler_id != request.handler_id:
            assign(session, child, actor, now, request.handler_id, note="随原申请分办")
        link(session, child, request, actor, now, "split_from", "split_into", note=item)
        made.append(child)
    record_office(
        session,
        request,
        "link",
        actor,
        now,
        {
            "kind": "split_kept",
            "other_id": request.id,
            "other_no": request.tracking_no,
            "note": f"本申请继续办理第1项：{cleaned[0]}",
        },
    )
    return made


def merge(
    session: Session,
    keep: Request,
    others: Sequence[Request],
    actor: Actor,
    now: datetime,
    reason: str,
    *,
    expected_version: int | None = None,
) -> list[Event]:
    """合并: several registrations of one application into ``keep``. The others are
    concluded by 作废 with the reason "已合并至 …" (so they count nowhere and ``keep``
    counts once) and linked both ways; their logs stay."""
    if refusal := role_refusal(MERGE_ROLES, actor.roles):
        raise PermissionDenied(refusal)
    _check_write(keep, actor)
    _check_version(keep, expected_version)
    text = clean_text(reason or "", MAX_REASON)
    if not text:
        raise ValidationError("请填写合并理由", {"reason": "请填写合并理由"})
    if not others:
        raise ValidationError("请勾选要并入的申请", {"ids": "未选择申请"})
    if keep.state == State.VOIDED.value:
        raise GuardError(["已作废的申请不能作为合并后的申请"])
    done = []
    for other in others:
        _check_write(other, actor)
        if other.id == keep.id:
            raise ValidationError("不能把申请并入其本身")
        if not _same_person(keep, other):
            raise GuardError([f"申请 {other.tracking_no} 与本申请不是同一申请人，不能合并"])
        if other.state not in {s.value for s in OPEN_STATES}:
            raise GuardError([f"申请 {other.tracking_no} 已办结或作废，不能合并"])
        fire(
            session,
            other,
            "void",
            actor,
            now,
            {
                "effective_date": local_today(now).isoformat(),
                "reason": f"已合并至 {keep.tracking_no}：{text}"[:200],
            },
        )
        done.extend(link(session, other, keep, actor, now, "merged_into", "merged_from", text))
    return done


def _same_person(a: Request, b: Request) -> bool:
    """The same applicant (docs): the ID number where both have one, else the exact name."""
    if a.id_number and b.id_number:
        return a.id_number == b.id_number
    return a.applicant_name == b.applicant_name and not (a.id_number or b.id_number)


def merge_candidates(session: Session, keep: Request) -> list[Request]:
    """This applicant's other open requests at the agency (what may be merged in)."""
    rows = session.scalars(
        select(Request)
        .where(
            Request.agency_id == keep.agency_id,
            Request.id != keep.id,
            Request.state.in_([s.value for s in OPEN_STATES]),
            Request.applicant_name == keep.applicant_name
            if not keep.id_number
            else same(Request.id_number, keep.id_number),
        )
        .order_by(Request.received_on)
        .limit(100)
    )
    return [r for r in rows if _same_person(keep, r)]
