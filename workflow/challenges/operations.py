"""Use cases for reconsideration and litigation cases (flush, never commit).

A result that orders a new reply reopens the request in the same transaction, so the
case and the request cannot disagree; the request is still counted once (its first
conclusion), see docs/counting-rules.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Challenge, ChallengeEvent, Request
from workflow.catalog.challenges import (
    DIRECT,
    LITIGATION,
    RECONSIDERATION,
    REMAND,
    RESULT_BY_CODE,
)
from workflow.challenges.order_effect import (
    reopen_effective_orders,
    undo_reversed_reopen,
    waits_for_appeal_period,
)
from workflow.challenges.remedies import reconsideration_decision_by, reconsideration_first
from workflow.challenges.spec import CHALLENGES, ChallengeState, instance_after
from workflow.challenges.standing import own_deadline_span
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.backdating import FLAG as BACKDATED
from workflow.kernel.backdating import backdating
from workflow.kernel.errors import ConflictError, NotFound, PermissionDenied
from workflow.kernel.guards import EventLike
from workflow.kernel.payload import ParsedAction, parse_action
from workflow.requests import operations as ops
from workflow.requests.spec import DECISION_TRIGGERS
from workflow.store.calendar import load_calendar
from workflow.store.event_log import flush_or_conflict, log_sink


def case_conflict_message(case_no: str) -> str:
    return f"案件 {case_no} 刚刚已被他人更新，您的操作没有保存。请查看最新情况后重新操作。"


def challenge_history(session: Session, challenge: Challenge) -> list[ChallengeEvent]:
    return list(
        session.scalars(
            select(ChallengeEvent)
            .where(ChallengeEvent.challenge_id == challenge.id)
            .order_by(ChallengeEvent.seq)
        )
    )


def refusal_warning(events: Sequence[EventLike], payload: Mapping[str, Any]) -> str | None:
    """Since 2024 a refusal (不予公开) goes to reconsideration before court: warn, not refuse.

    ``events`` is the request's history (any event objects: the bench's in-memory ones too).
    """
    if payload.get("kind") != LITIGATION or payload.get("route") != DIRECT:
        return None
    decisions = [e for e in events if e.trigger in DECISION_TRIGGERS]
    if not decisions:
        return None
    last = decisions[-1]
    if not reconsideration_first(last.payload.get("outcome"), last.effective_date):
        return None
    return (
        f"该申请于{last.effective_date.isoformat()}作出不予公开（含部分公开）决定；自2024年1月1日起，"
        "对不予公开决定不服的应当先申请行政复议（《行政复议法》第二十三条），"
        "请核实是否属于直接起诉。"
    )


def _prior(session: Session, request: Request, case_no: str | None) -> Challenge | None:
    if not case_no:
        return None
    return session.scalar(
        select(Challenge).where(
            Challenge.request_id == request.id,
            Challenge.kind == RECONSIDERATION,
            Challenge.case_no == case_no.strip(),
            Challenge.state != ChallengeState.VOIDED.value,
        )
    )


def file_challenge(
    session: Session,
    actor: Actor,
    now: datetime,
    request: Request,
    raw: Mapping[str, Any] | ParsedAction,
    *,
    backdate_limit: int | None = None,
) -> Challenge:
    """Record a new reconsideration or lawsuit against ``request``'s handling.

    ``backdate_limit``: days the filing date may lie before today without a reason
    (``workflow.kernel.backdating``); ``None`` for replays and imports.
    """
    if actor.agency_id != request.agency_id:
        raise PermissionDenied("只能为本机关的申请登记复议或诉讼")
    spec = CHALLENGES.by_trigger["file"]
    action = raw if isinstance(raw, ParsedAction) else parse_action(spec, raw)
    payload = dict(action.payload)
    flag = backdating(
        action.effective_date, local_today(now), action.backdate_reason, backdate_limit
    )
    if flag:
        payload[BACKDATED] = flag
    prior = _prior(session, request, payload.get("prior_case_no"))
    facts = {
        "request_state": request.state,
        "request_received_on": request.received_on,
        "prior_status": None
        if prior is None
        else ("concluded" if prior.state == "concluded" else "open"),
        # 行政诉讼法 Art. 45: once the 复议机关 misses its period, the applicant may sue.
        "prior_decision_due": None
        if prior is None
        else reconsideration_decision_by(prior.filed_on, load_calendar(session)),
    }
    warning = refusal_warning(ops.history(session, request), payload)
    if warning:
        payload["warning"] = warning
    challenge = Challenge(
        agency_id=request.agency_id,
        request=request,
        kind=payload["kind"],
        route=payload.get("route"),
        body=payload["body"],
        case_no=payload["case_no"],
        instance=payload.get("instance")
        or ("reconsideration" if payload["kind"] == RECONSIDERATION else "first"),
        filed_on=action.effective_date,
        prior=prior,
        state=ChallengeState.NEW.value,
        last_seq=0,
    )
    _apply(
        session,
        challenge,
        "file",
        actor,
        now,
        ParsedAction(action.effective_date, payload),
        [],
        facts,
    )
    return challenge


def fire_challenge(
    session: Session,
    challenge: Challenge,
    trigger: str,
    actor: Actor,
    now: datetime,
    raw: Mapping[str, Any] | ParsedAction,
    *,
    expected_version: int | None = None,
    backdate_limit: int | None = None,
) -> ChallengeEvent:
    """Record an appeal, a result or a void on an existing case (``backdate_limit`` as for
    :func:`file_challenge`)."""
    spec = CHALLENGES.by_trigger.get(trigger)
    if spec is None or trigger == "file":
        raise NotFound(f"未知操作“{trigger}”")
    if actor.agency_id != challenge.agency_id:
        raise PermissionDenied("只能办理本机关的复议或诉讼案件")
    if expected_version is not None and expected_version != challenge.version:
        raise ConflictError(case_conflict_message(challenge.case_no))
    action = raw if isinstance(raw, ParsedAction) else parse_action(spec, raw)
    flag = backdating(
        action.effective_date, local_today(now), action.backdate_reason, backdate_limit
    )
    if flag:
        action = ParsedAction(action.effective_date, {**action.payload, BACKDATED: flag})
    if trigger == "remand":  # the result it records, for table 四 and the log
        action = ParsedAction(action.effective_date, {**action.payload, "result": REMAND.code})
    event = _apply(
        session,
        challenge,
        trigger,
        actor,
        now,
        action,
        challenge_history(session, challenge),
        {"kind": challenge.kind},
    )
    if trigger == "conclude":
        _reopen_if_ordered(session, challenge, actor, now, action)
    # A reversal (appeal, remand, a result without an order, a void) undoes the reopen
    # the case caused, if the reopened procedure is still open.
    undo_reversed_reopen(session, challenge, actor, now, action.effective_date)
    return event


def _reopen_if_ordered(
    session: Session, challenge: Challenge, actor: Actor, now: datetime, action: ParsedAction
) -> None:
    """Reopen the request if the order takes effect on service (workflow.challenges.order_effect);
    a first-instance judgment waits for its appeal period (``reopen-effective``)."""
    ordered = RESULT_BY_CODE[action.payload["result"]].orders_new_reply
    if ordered and not waits_for_appeal_period(challenge.kind, challenge.instance):
        reopen_effective_orders(session, actor, now, [challenge.request])


def _apply(
    session: Session,
    challenge: Challenge,
    trigger: str,
    actor: Actor,
    now: datetime,
    action: ParsedAction,
    events: list[ChallengeEvent],
    facts: Mapping[str, Any],
) -> ChallengeEvent:
    """Fire ``trigger``, then bring the case row up to date before its one write: a new
    instance's court, number and level (an appeal, a remand), and the span of the
    agency's own deadlines (``standing.own_deadline_span``)."""
    payload = dict(action.payload)
    calendar = load_calendar(session)  # read before the case changes (no autoflush between)
    event = CHALLENGES.fire(
        challenge,
        trigger,
        sink=log_sink(session, challenge, ChallengeEvent, "challenge", action, actor, now, payload),
        roles=actor.roles,
        today=local_today(now),
        effective_date=action.effective_date,
        payload=action.payload,
        history=events,
        facts=facts,
    )
    if trigger in ("appeal", "remand"):
        challenge.instance = instance_after(action.payload)
        challenge.body = action.payload["body"]
        challenge.case_no = action.payload["case_no"]
    challenge.agency_due_first, challenge.agency_due_last = own_deadline_span(
        challenge.kind,
        challenge.instance,
        challenge.state,
        challenge.filed_on,
        [*events, event],
        calendar,
    )
    flush_or_conflict(session, case_conflict_message(challenge.case_no))
    return event
