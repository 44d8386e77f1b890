"""Use cases on a SQLAlchemy session: the only way requests change.

Every function flushes and never commits: the caller (a view, a CLI command, the
importer) owns the transaction, so an action's state change, its event and the
statistics projection are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Agency,
    Event,
    Request,
    RequestFacts,
    User,
)
from models.user import UserRole
from workflow.catalog.fees import PER_REQUEST
from workflow.catalog.states import State
from workflow.kernel.actor import LOCAL_ZONE, Actor, local_today, naive_utc
from workflow.kernel.backdating import FLAG as BACKDATED
from workflow.kernel.backdating import REASON_FIELD, backdating
from workflow.kernel.calendar import WorkingCalendar
from workflow.kernel.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from workflow.kernel.guards import DUPLICATE
from workflow.kernel.payload import ParsedAction, backdate_reason, parse_action
from workflow.requests import machine
from workflow.requests.clocks import served_for, served_positions
from workflow.requests.deadlines import (
    Deadlines,
    EventLike,
    compute_deadlines,
    lateness,
    stored_clock,
)
from workflow.requests.fee_count import units_before
from workflow.requests.fee_rules import fee_facts
from workflow.requests.intake import parse_intake
from workflow.requests.office import pending_proposals
from workflow.requests.search_text import document as search_document
from workflow.requests.search_text import notes_of
from workflow.requests.similar import earlier_requests
from workflow.requests.spec import SPEC_BY_TRIGGER
from workflow.statistics import month_counts
from workflow.statistics.facts import facts_from_events, reply_facts
from workflow.store.calendar import load_calendar
from workflow.store.event_log import flush_or_conflict, log_sink
from workflow.store.serials import next_serial


def history(session: Session, request: Request) -> list[Event]:
    return list(
        session.scalars(select(Event).where(Event.request_id == request.id).order_by(Event.seq))
    )


def histories(session: Session, request_ids: Sequence[int]) -> dict[int, list[Event]]:
    """The events of many requests in one query, each list in sequence order."""
    found: dict[int, list[Event]] = {rid: [] for rid in request_ids}
    if request_ids:
        for event in session.scalars(
            select(Event)
            .where(Event.request_id.in_(list(request_ids)))
            .order_by(Event.request_id, Event.seq)
        ):
            found[event.request_id].append(event)
    return found


def deadlines_of(
    request: Request,
    events: Sequence[Event],
    calendar: WorkingCalendar,
    today: date,
    served: Mapping[int, date] | None = None,
) -> Deadlines:
    """The request's deadlines; ``served`` maps event ids of consultation letters and fee
    notices to their recorded service dates (``workflow.requests.clocks.service_dates``)."""
    positions = served_positions(events, served or {})
    return compute_deadlines(request.received_on, events, calendar, today, positions)


def request_deadlines(
    session: Session,
    request: Request,
    events: Sequence[Event],
    calendar: WorkingCalendar,
    today: date,
) -> Deadlines:
    """:func:`deadlines_of` with the request's service dates looked up."""
    served = served_for(session, request.id, events)
    return deadlines_of(request, events, calendar, today, served)


def tracking_number(year: int, serial: int) -> str:
    return f"{year}-{serial:04d}"


def register(
    session: Session,
    actor: Actor,
    now: datetime,
    raw: Mapping[str, Any],
    *,
    agency: Agency,
    external_ref: str | None = None,
    backdate_limit: int | None = None,
) -> Request:
    """Register a request: validate intake, number it and record the ``register`` event.

    ``backdate_limit``: days the receipt may lie before today without a reason
    (``workflow.kernel.backdating``); ``None`` for replays of records made elsewhere.
    """
    today = local_today(now)
    if agency.id != actor.agency_id:
        raise PermissionDenied("只能为本机关登记申请")
    if not agency.active:  # deactivated (workflow.admin.agencies): history only
        raise ValidationError(f"机关“{agency.name}”已停用，不能登记新的申请")
    intake = parse_intake(raw, today)
    try:
        reason = backdate_reason(raw)
    except ValueError as exc:
        raise ValidationError("请更正标出的内容", {REASON_FIELD: f"补录原因：{exc}"}) from None
    flag = backdating(intake.received_on, today, reason, backdate_limit, field="received_on")
    values = dict(intake.values)
    values.pop("submitted_on", None)
    values.pop("received_on", None)
    year = intake.received_on.year
    serial = next_serial(session, agency.id, year)
    submitted_at = (
        naive_utc(now)
        if intake.submitted_on == today
        else datetime.combine(intake.submitted_on, time(0), LOCAL_ZONE).astimezone(UTC)
    )
    request = Request(
        agency_id=agency.id,
        tracking_no=tracking_number(year, serial),
        year=year,
        serial=serial,
        external_ref=external_ref,
        submitted_at=naive_utc(submitted_at),
        received_on=intake.received_on,
        state=State.NEW.value,
        last_seq=0,
        handler_id=actor.user_id if "handler" in actor.roles else None,
        **values,
    )
    # Not added yet: the register event's sink brings it into the session, so no
    # autoflush can write a request that is still in the virtual "new" state.
    payload = {**intake.values, "receipt_rule": intake.receipt_note}
    if flag:
        payload[BACKDATED] = flag
    action = ParsedAction(intake.received_on, payload, reason)
    _apply(session, request, "register", actor, now, action, [])
    return request


def answer_on_the_spot(
    session: Session,
    actor: Actor,
    now: datetime,
    raw: Mapping[str, Any],
    *,
    agency: Agency,
) -> Request:
    """Register a request and answer it on the spot, in one step (条例 Art. 33 para 1).

    ``raw`` holds the registration and the answer (the ``answer_on_the_spot`` fields).
    Two events, one transaction: the caller commits both or, when either is refused,
    neither. The answer is dated the day of receipt (the step's guard says so).
    """
    request = register(session, actor, now, raw, agency=agency)
    spec = SPEC_BY_TRIGGER["answer_on_the_spot"]
    answer = {f.name: raw[f.name] for f in spec.fields if f.name in raw}
    fire(
        session,
        request,
        "answer_on_the_spot",
        actor,
        now,
        {**answer, "effective_date": request.received_on.isoformat()},
    )
    return request


def fire(
    session: Session,
    request: Request,
    trigger: str,
    actor: Actor,
    now: datetime,
    raw: Mapping[str, Any] | ParsedAction,
    *,
    expected_version: int | None = None,
    backdate_limit: int | None = None,
) -> Event:
    """Fire ``trigger`` at ``request`` with the typed-in payload; append its event.

    ``backdate_limit`` as for :func:`register`: the effective date's days before today
    allowed without a reason.
    """
    spec = SPEC_BY_TRIGGER.get(trigger)
    if spec is None or trigger == "register":
        raise NotFound(f"未知操作“{trigger}”")
    if expected_version is not None and expected_version != request.version:
        raise ConflictError(conflict_message(request.tracking_no))
    action = raw if isinstance(raw, ParsedAction) else parse_action(spec, raw)
    # A replay without a signed-in user (a ledger's records) keeps the approver it names.
    replaying = actor.user_id is None
    if any(f.kind == "approver" for f in spec.fields) and "approver" in actor.roles:
        action = action if replaying else _own_approval(action, actor)
    if "approver" in action.payload:
        _check_approver(session, request.agency_id, action.payload["approver"])
    flag = backdating(
        action.effective_date, local_today(now), action.backdate_reason, backdate_limit
    )
    if flag:
        action = replace(action, payload={**action.payload, BACKDATED: flag})
    facts = earlier_facts(session, request, action) if trigger == "decide" else {}
    return _apply(session, request, trigger, actor, now, action, history(session, request), facts)


def earlier_facts(session: Session, request: Request, action: ParsedAction) -> dict[str, Any]:
    """What the 重复申请 guard needs to know of the earlier request the decision names
    (``workflow.kernel.guards.duplicate_cites_earlier``): this applicant's, answered
    before this decision (``workflow.requests.similar.earlier_requests``)."""
    named = str(action.payload.get("earlier") or "").strip()
    if action.payload.get("outcome") != DUPLICATE:
        return {}
    found: dict[str, Any] = {"earlier_checked": True}
    if not named:
        return found
    earlier = {r.tracking_no: r for r in earlier_requests(session, request)}.get(named)
    if earlier is None:
        found["earlier_problem"] = f"“{named}”不是本申请人已办结的在先申请"
        return found
    concluded = session.get(RequestFacts, earlier.id)
    if concluded is None or concluded.concluded_on is None:
        found["earlier_problem"] = f"在先申请 {named} 尚未作出答复"
    elif concluded.concluded_on > action.effective_date:
        found["earlier_problem"] = (
            f"在先申请 {named} 于 {concluded.concluded_on} 才作出答复，晚于本次答复日期"
        )
    return found


def conflict_message(tracking_no: str) -> str:
    return f"申请 {tracking_no} 刚刚已被他人更新，您的操作没有保存。请查看最新情况后重新操作。"


def _own_approval(action: ParsedAction, actor: Actor) -> ParsedAction:
    """An approval is the approver's own act: the approver recording it is the approver
    (docs/domain.md §15); naming somebody else is refused."""
    named = action.payload.get("approver")
    if named and named != actor.username:
        raise ValidationError(
            "批准须由审核人本人记录，不能代他人批准",
            {"approver": "只能填写您本人；其他人的批准请由其本人记录"},
        )
    return replace(action, payload={**action.payload, "approver": actor.username})


def _check_approver(session: Session, agency_id: int, username: str) -> None:
    found = session.scalar(
        select(User.id)
        .join(UserRole)
        .where(
            User.username == username,
            User.agency_id == agency_id,
            User.active.is_(True),
            UserRole.role == "approver",
        )
    )
    if found is None:
        raise ValidationError(
            "批准人须为本机关的审核人", {"approver": f"“{username}”不是本机关的审核人"}
        )


def _apply(
    session: Session,
    request: Request,
    trigger: str,
    actor: Actor,
    now: datetime,
    action: ParsedAction,
    events: list[Event],
    facts: Mapping[str, Any] | None = None,
) -> Event:
    if actor.agency_id != request.agency_id:
        raise PermissionDenied("只能办理本机关的申请")
    today = local_today(now)
    calendar = load_calendar(session)
    deadlines = request_deadlines(session, request, events, calendar, today) if events else None
    payload = dict(action.payload)
    late = lateness(trigger, action.effective_date, deadlines) if deadlines else None
    if late:
        payload["late"] = late
    facts = {**(facts or {}), **_facts(session, request, trigger, payload)}

    event = machine.fire(
        request,
        trigger,
        sink=log_sink(session, request, Event, "request", action, actor, now, payload),
        roles=actor.roles,
        today=today,
        effective_date=action.effective_date,
        payload=payload,
        history=events,
        deadlines=deadlines,
        facts=facts,
    )
    flush_or_conflict(session, conflict_message(request.tracking_no))
    project(session, request, [*events, event], calendar)
    session.flush()
    return event


def _facts(
    session: Session, request: Request, trigger: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """What the guards of ``trigger`` need from the database, looked up here.

    A fee notice's amount is computed, never typed (2020 fee measures): the tariff's
    figures go into the event's payload (what the notice and section 六 print), and a
    typed amount is kept only to be compared with them (``fee_rules.fee_follows_tariff``).
    """
    if trigger != "issue_fee_notice":
        return {}
    per_request = payload.get("method") == PER_REQUEST
    return fee_facts(payload, units_before(session, request) if per_request else 0)


def projection_values(
    received_on: date,
    events: Sequence[EventLike],
    calendar: WorkingCalendar,
    served: Mapping[int, date] | None = None,
    *,
    subject: str,
    applicant_name: str,
) -> dict[str, Any]:
    """The columns of a request's projection row that its events (and the service dates
    of its notices, by event id) and its intake text determine — facts for the
    statistics, the stored reply clock, the proposals open, the words it is searched
    by — by column name:
    written by :func:`project`, checked by ``stats-verify``, mirrored by the bulk path
    (``workflow.ledger.memory_replay``)."""
    facts = facts_from_events(received_on, events)
    clock = stored_clock(received_on, events, calendar, served_positions(events, served or {}))
    reply = reply_facts(received_on, events, calendar.working_days_between)
    return {
        "received_on": facts.received_on,
        "concluded_on": facts.concluded_on,
        "outcome": facts.outcome,
        "voided": facts.voided,
        "reply_due": clock.reply_due,
        "paused": clock.paused,
        "pause_due": clock.pause_due,
        "reply_days": reply.days,
        "replied_late": reply.late,
        "open_proposals": len(pending_proposals(events)),
        "search_text": search_document(subject, applicant_name, notes_of(events)),
    }


def project(
    session: Session, request: Request, events: Sequence[Event], calendar: WorkingCalendar
) -> None:
    """Rewrite the request's projection row (statistics facts, stored clock) from its
    history and its notices' service dates, and move the month counts it is part of."""
    served = served_for(session, request.id, events)
    row = session.get(RequestFacts, request.id)
    if row is None:
        row = RequestFacts(request_id=request.id)
        session.add(row)
        before: tuple[month_counts.Key, ...] = ()
    else:
        before = month_counts.counted_row(row)
    row.agency_id = request.agency_id
    row.applicant_kind = request.applicant_kind
    values = projection_values(
        request.received_on,
        events,
        calendar,
        served,
        subject=request.subject,
        applicant_name=request.applicant_name,
    )
    for column, value in values.items():
        setattr(row, column, value)
    month_counts.add_counts(session, month_counts.changes(before, month_counts.counted_row(row)))
