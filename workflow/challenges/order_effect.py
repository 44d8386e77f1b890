"""When a decision ordering a new reply takes effect, and the reopen it then causes.

Why not at once: a first-instance judgment is not yet effective while the parties may
appeal (行政诉讼法 Art. 85: 15 days for a judgment, 10 for a ruling, from service); it
takes effect the day after that period passes without an appeal. A 复议决定 takes effect
on service (行政复议法 Art. 75), a final (second-instance or retrial) judgment on
service too. Reopening on the judgment date made a reversed order leave the request
open and overdue (audit D5). The reopen is dated on the day the order takes effect and
carries the time limit the decision fixes (``reply_due_on``), else 20 wd apply.

The other way round: when a higher instance reverses the order after the request was
reopened for it (an appeal shows the first-instance judgment never took effect, the
second instance remands, or the appeal or retrial ends without an order to reply), the
request gets a new event ``reopen_undone`` that puts it back to the conclusion it had:
nothing is rewritten. A new reply already given in the reopened procedure stands (it is
the agency's own act, which the reversal does not touch); then nothing is undone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Challenge, ChallengeEvent, Request
from workflow.catalog.challenges import (
    LITIGATION,
    RECONSIDERATION,
    REMAND,
    RESULT_BY_CODE,
    ChallengeResult,
)
from workflow.catalog.states import State
from workflow.challenges.remedies import APPEAL_DAYS_JUDGMENT, period_end
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.calendar import WorkingCalendar
from workflow.kernel.payload import ParsedAction
from workflow.requests import operations as ops
from workflow.requests.spec import DECISION_TRIGGERS, SPEC_BY_TRIGGER
from workflow.store.calendar import load_calendar


@dataclass(frozen=True)
class PendingOrder:
    """A case's latest result that orders a new reply, and when it takes effect."""

    challenge: Challenge
    decided_on: date
    effective_on: date
    reply_due_on: str | None
    order: str


def effective_on(
    kind: str, instance: str, decided_on: date, served_on: date | None, calendar: WorkingCalendar
) -> date:
    """The day an ordering decision takes effect (its service date presumed = its date)."""
    served = served_on or decided_on
    if kind == RECONSIDERATION or instance != "first":
        return served
    last_day = period_end(served + timedelta(days=APPEAL_DAYS_JUDGMENT), calendar)
    return last_day + timedelta(days=1)


def pending_order(
    challenge: Challenge, events: Sequence[Any], calendar: WorkingCalendar
) -> PendingOrder | None:
    """The case's ordering result if it is its latest word (no appeal after it)."""
    concluded = [e for e in events if e.trigger == "conclude"]
    if not concluded or events[-1].trigger != "conclude" or challenge.state != "concluded":
        return None
    last = concluded[-1]
    result = RESULT_BY_CODE.get(str(last.payload.get("result", "")))
    if result is None or not result.orders_new_reply:
        return None
    served = last.payload.get("served_on")
    served_on = date.fromisoformat(served) if served else None
    effective = effective_on(
        challenge.kind, challenge.instance, last.effective_date, served_on, calendar
    )
    order = order_text(challenge.body, challenge.case_no, result)
    return PendingOrder(
        challenge, last.effective_date, effective, last.payload.get("reply_due_on"), order
    )


def order_text(body: str, case_no: str, result: ChallengeResult) -> str:
    """What a reopen names as its basis: the body, the case number and the result."""
    return f"{body}{case_no}：{result.label}"[:200]


def orders_of(events: Sequence[Any]) -> set[str]:
    """Every order text the case's log has given (each instance under its own number)."""
    body = case_no = ""
    found = set()
    for event in events:
        if event.trigger in ("file", "appeal", "remand"):
            body = str(event.payload.get("body", body))
            case_no = str(event.payload.get("case_no", case_no))
        elif event.trigger == "conclude":
            result = RESULT_BY_CODE.get(str(event.payload.get("result", "")))
            if result is not None and result.orders_new_reply:
                found.add(order_text(body, case_no, result))
    return found


def order_stands(challenge: Challenge, events: Sequence[Any]) -> str | None:
    """``None`` while the case's latest word still orders a new reply; else what reversed it.

    A 再审 does not suspend the judgment under review (行政诉讼法 Art. 90: "判决、裁定不停止
    执行"), so filing one changes nothing; an appeal (二审) does, because a judgment
    appealed in time never took effect (Art. 85).
    """
    last = events[-1] if events else None
    if last is None or last.trigger == "file":
        return None
    where = f"{challenge.body}{challenge.case_no}"
    if last.trigger == "void":
        return None  # registered in error: the approver undoes a wrong reopen by hand
    if last.trigger == "remand":
        return f"{where}：{REMAND.label}"
    if last.trigger == "appeal":
        if last.payload.get("instance") == "retrial":
            return None
        return f"{where}：提起上诉，一审判决未发生法律效力"
    result = RESULT_BY_CODE.get(str(last.payload.get("result", "")))
    if result is None or result.orders_new_reply:
        return None
    return f"{where}：{result.label}"


def undo_reversed_reopen(
    session: Session, challenge: Challenge, actor: Actor, now: datetime, day: date
) -> bool:
    """Undo the request's reopen if this case ordered it and the order no longer stands.

    Only while the reopened procedure is open: once a new reply was given, it stands and
    nothing is undone (docs/domain.md §5.8–§5.9). Dated ``day`` (the reversing event's
    date), or the request's latest event date if later. Returns whether it undid.
    """
    request = challenge.request
    events = list(
        session.scalars(
            select(ChallengeEvent)
            .where(ChallengeEvent.challenge_id == challenge.id)
            .order_by(ChallengeEvent.seq)
        )
    )
    reversed_by = order_stands(challenge, events)
    if reversed_by is None:
        return False
    history = ops.history(session, request)
    reopens = [e for e in history if e.trigger == "reopen"]
    if not reopens or reopens[-1].payload.get("order") not in orders_of(events):
        return False
    if request.state not in SPEC_BY_TRIGGER["reopen_undone"].source_values:
        return False  # a new reply already concluded the new procedure: it stands
    on = max(day, max(e.effective_date for e in history))
    action = ParsedAction(on, {"reversed_by": reversed_by[:200]})
    ops.fire(session, request, "reopen_undone", actor, now, action)
    return True


def kept_reply(session: Session, challenge: Challenge) -> date | None:
    """The date of a new reply that stands although the order behind its procedure was
    reversed (shown to the legal officer; nothing to undo then), else None."""
    events = list(
        session.scalars(
            select(ChallengeEvent)
            .where(ChallengeEvent.challenge_id == challenge.id)
            .order_by(ChallengeEvent.seq)
        )
    )
    if order_stands(challenge, events) is None:
        return None
    history = ops.history(session, challenge.request)
    starts = [i for i, e in enumerate(history) if e.trigger == "reopen"]
    if not starts or history[starts[-1]].payload.get("order") not in orders_of(events):
        return None
    replies = [e for e in history[starts[-1] :] if e.trigger in DECISION_TRIGGERS]
    return replies[-1].effective_date if replies else None


def _reopened_for(events: Sequence[Any], order: str) -> bool:
    """Whether the request was already reopened for this order (its text names the body,
    the case number and the result)."""
    return any(e.trigger == "reopen" and e.payload.get("order") == order for e in events)


def waits_for_appeal_period(kind: str, instance: str) -> bool:
    """A first-instance judgment: not effective when recorded, so the reopen is left to
    ``reopen-effective`` (an appeal recorded meanwhile, even back-dated, prevents it)."""
    return kind == LITIGATION and instance == "first"


def reopen_effective_orders(
    session: Session, actor: Actor, now: datetime, requests: Iterable[Request]
) -> list[Request]:
    """Reopen each request whose ordering decision has taken effect by today; returns them.

    Idempotent: a request already reopened for that order, or no longer concluded, is
    left alone. Called when a result effective on service is recorded, and by the daily
    ``reopen-effective`` command.
    """
    today = local_today(now)
    calendar = load_calendar(session)
    reopened = []
    for request in requests:
        if request.state != State.CONCLUDED.value:
            continue
        history = ops.history(session, request)
        cases = session.scalars(
            select(Challenge).where(
                Challenge.request_id == request.id, Challenge.state == "concluded"
            )
        )
        for case in cases:
            events = list(
                session.scalars(
                    select(ChallengeEvent)
                    .where(ChallengeEvent.challenge_id == case.id)
                    .order_by(ChallengeEvent.seq)
                )
            )
            found = pending_order(case, events, calendar)
            if found is None or found.effective_on > today or _reopened_for(history, found.order):
                continue
            day = max(found.effective_on, max(e.effective_date for e in history))
            payload: Mapping[str, Any] = {
                "order": found.order,
                **({"due_on": found.reply_due_on} if found.reply_due_on else {}),
            }
            ops.fire(session, request, "reopen", actor, now, ParsedAction(day, dict(payload)))
            reopened.append(request)
            break
    return reopened


def reopen_all_effective(session: Session, actor: Actor, now: datetime) -> list[Request]:
    """:func:`reopen_effective_orders` for every concluded request of the actor's agency
    that has a concluded case (what the nightly ``reopen-effective`` command runs)."""
    candidates = session.scalars(
        select(Request)
        .join(Challenge, Challenge.request_id == Request.id)
        .where(
            Request.agency_id == actor.agency_id,
            Request.state == State.CONCLUDED.value,
            Challenge.state == "concluded",
        )
        .distinct()
        .order_by(Request.id)
    )
    return reopen_effective_orders(session, actor, now, list(candidates))
