"""Guards: pure predicates over a proposed action, each returning a Chinese reason.

A guard returns ``None`` when the action may go ahead and otherwise the sentence a clerk
reads on the page. Preconditions look only at the request, the actor and the history
(they decide which buttons are enabled); payload guards also see what was typed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from workflow.catalog.outcomes import OUTCOME_BY_CODE
from workflow.catalog.roles import ROLE_BY_CODE


class EventLike(Protocol):
    trigger: str
    effective_date: date
    payload: Mapping[str, Any]


class DeadlinesLike(Protocol):
    applicant_supplement_due: date | None
    fee_due: date | None
    reply_due: date | None
    consultation_due: date | None
    extension_limit: int


@dataclass(frozen=True)
class GuardContext:
    """Everything a guard may look at; built by the machine, never by a guard."""

    state: str
    received_on: date | None
    history: Sequence[EventLike]
    roles: frozenset[str]
    today: date
    effective_date: date | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    deadlines: DeadlinesLike | None = None
    #: Name of the date nothing may precede ("收到申请日期", "立案日期").
    start_label: str = "收到申请日期"
    #: Facts the operation looked up for guards that need them (linked cases …).
    facts: Mapping[str, Any] = field(default_factory=dict)


Guard = Callable[[GuardContext], str | None]


def role_refusal(allowed: frozenset[str], roles: frozenset[str]) -> str | None:
    """Why someone holding ``roles`` may not act where ``allowed`` may (None if they may)."""
    if roles & allowed:
        return None
    names = "、".join(ROLE_BY_CODE[r].label for r in sorted(allowed))
    return f"只有{names}可以进行此操作"


def role_allowed(allowed: frozenset[str]) -> Guard:
    def check(ctx: GuardContext) -> str | None:
        return role_refusal(allowed, ctx.roles)

    return check


def since_reopen(history: Sequence[EventLike]) -> Sequence[EventLike]:
    """The events of the current procedure: a reopen (重新答复) starts a new one, which may
    again send one 补正 and one extension (条例 Arts. 30, 33)."""
    starts = [i for i, e in enumerate(history) if e.trigger == "reopen"]
    return history[starts[-1] + 1 :] if starts else history


def once_only(trigger: str, reason: str) -> Guard:
    def check(ctx: GuardContext) -> str | None:
        return reason if any(e.trigger == trigger for e in since_reopen(ctx.history)) else None

    return check


def date_not_future(ctx: GuardContext) -> str | None:
    if ctx.effective_date and ctx.effective_date > ctx.today:
        return f"日期 {ctx.effective_date.isoformat()} 不能晚于今天（{ctx.today.isoformat()}）"
    return None


def date_not_before_receipt(ctx: GuardContext) -> str | None:
    if ctx.effective_date and ctx.received_on and ctx.effective_date < ctx.received_on:
        return (
            f"日期 {ctx.effective_date.isoformat()} 不能早于{ctx.start_label}"
            f"（{ctx.received_on.isoformat()}）"
        )
    return None


def date_in_order(ctx: GuardContext) -> str | None:
    if not ctx.effective_date or not ctx.history:
        return None
    last = max(e.effective_date for e in ctx.history)
    if ctx.effective_date < last:
        return f"日期 {ctx.effective_date.isoformat()} 不能早于上一步骤的日期（{last.isoformat()}）"
    return None


def date_after_effective(name: str, reason: str) -> Guard:
    def check(ctx: GuardContext) -> str | None:
        value = ctx.payload.get(name)
        if value and ctx.effective_date and date.fromisoformat(value) <= ctx.effective_date:
            return reason
        return None

    return check


def applicant_deadline_passed(ctx: GuardContext) -> str | None:
    """A precondition: without a date typed in yet it judges today, so the button is
    greyed with this reason until the day has come."""
    due = ctx.deadlines.applicant_supplement_due if ctx.deadlines else None
    on = ctx.effective_date or ctx.today
    if due and on <= due:
        return f"补正期限（{due.isoformat()}）尚未届满，不能认定逾期未补正"
    return None


def fee_deadline_passed(ctx: GuardContext) -> str | None:
    """Like :func:`applicant_deadline_passed`; the fee deadline counts from the day after
    the applicant received the notice (workflow.requests.deadlines)."""
    due = ctx.deadlines.fee_due if ctx.deadlines else None
    on = ctx.effective_date or ctx.today
    if due and on <= due:
        return f"缴费期限（{due.isoformat()}）尚未届满，不能认定逾期未缴费"
    return None


def approver_named(ctx: GuardContext) -> str | None:
    if not ctx.payload.get("approver"):
        return "延期答复须经审核人（政府信息公开工作机构负责人）批准，请填写批准人"
    return None


def outcome_decidable(ctx: GuardContext) -> str | None:
    code = ctx.payload.get("outcome")
    outcome = OUTCOME_BY_CODE.get(code or "")
    if outcome is None:
        return "作出答复必须选择处理结果"
    if not outcome.decidable:
        return f"“{outcome.short}”由相应的逾期步骤记录，不能在作出答复时选择"
    return None


DUPLICATE = "not_processed.duplicate"


def duplicate_cites_earlier(ctx: GuardContext) -> str | None:
    """条例 Art. 36(六): a 重复申请 reply cites the earlier request and its reply, so the
    decision names it, and it must be this applicant's request answered before.

    The operation looks the named request up (``facts["earlier_checked"]``, with
    ``facts["earlier_problem"]`` when it does not fit); a ledger import, which records
    history as it was, does not, and is not held to the rule.
    """
    if ctx.payload.get("outcome") != DUPLICATE or "earlier_checked" not in ctx.facts:
        return None
    if not ctx.payload.get("earlier"):
        return (
            "处理结果为重复申请的，须选择本申请人已获答复的在先申请（《条例》第三十六条第（六）项）"
        )
    problem = ctx.facts.get("earlier_problem")
    return str(problem) if problem else None


#: Payload key of a decision replayed from a ledger: the facts the ledger never held.
#: The decision happened outside the system, so nothing is refused for them; but no
#: reply can be printed from it (workflow.notices.operations).
UNRECORDED = "unrecorded"


def decision_facts_present(ctx: GuardContext) -> str | None:
    """Art. 36(三), 37, 36(一)(五)(七), 39 para 2: the facts the reply has to state.

    Which outcome needs which fact is catalogue data (``Outcome.requires``); every
    missing one is named, so the clerk fixes the form in one go.
    """
    outcome = OUTCOME_BY_CODE.get(ctx.payload.get("outcome") or "")
    if outcome is None:
        return None
    unrecorded = set(ctx.payload.get(UNRECORDED) or ())
    missing = [
        fact.refusal
        for fact in outcome.required_facts
        if fact.field not in unrecorded and not str(ctx.payload.get(fact.field) or "").strip()
    ]
    return "；".join(missing) or None


def still_unclear_after_supplement(ctx: GuardContext) -> str | None:
    """Art. 30: "补正后申请内容仍不明确" presupposes a 补正 that the applicant answered."""
    if ctx.payload.get("outcome") != "unavailable.still_unclear":
        return None
    triggers = [e.trigger for e in since_reopen(ctx.history)]
    if "receive_supplement" in triggers:
        return None
    if "request_supplement" in triggers:
        return "申请人尚未提交补正材料，不能以“补正后申请内容仍不明确”答复（《条例》第三十条）"
    return "本申请未告知补正，不能以“补正后申请内容仍不明确”答复：请先告知补正（《条例》第三十条）"


def on_the_spot_same_day(ctx: GuardContext) -> str | None:
    """Art. 33 para 1: a reply "当场答复" is given on the day the request was received."""
    if ctx.payload.get("delivery") != "on_the_spot":
        return None
    if ctx.effective_date and ctx.received_on and ctx.effective_date != ctx.received_on:
        return (
            f"“当场答复”的答复日期须与收到申请日期（{ctx.received_on.isoformat()}）相同"
            "（《条例》第三十三条第一款）；否则请选择实际的送达方式"
        )
    return None


#: Guards every action passes, whatever its trigger.
DATE_GUARDS: tuple[Guard, ...] = (date_not_future, date_not_before_receipt, date_in_order)
