"""Guards of the fee steps (2020 fee measures, docs/domain.md §18 §Fees).

A fee is computed, never typed: the operation counts this applicant's requests of the
calendar month (``workflow.requests.fee_count``), computes the fee with the tariff of
``workflow.catalog.fees`` and hands it to these guards as ``ctx.facts["fee"]``. A typed
amount (the API, a cross-check on the form) must equal the computed one. Each guard
returns ``None`` or the Chinese sentence a clerk reads, like ``workflow.kernel.guards``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workflow.catalog.fees import (
    FEE_MEASURES,
    FEE_MEASURES_FROM,
    PER_PAGE,
    PER_REQUEST,
    Fee,
    compute_fee,
)
from workflow.kernel.guards import EventLike, GuardContext

#: The triggers that fix the amount an applicant owes (the notice, then a reduction).
AMOUNT_TRIGGERS = ("issue_fee_notice", "reduce_fee")


def fee_facts(payload: dict[str, Any], already: int | None) -> dict[str, Any]:
    """Compute the fee of a fee-notice ``payload`` in place; return the guards' facts.

    ``already`` is the 件 this applicant made earlier in the month (per request), looked
    up by the caller; ``None`` when the caller cannot know it (an imported ledger row
    replayed in memory): then a per-request amount, or a per-page amount without a page
    count, stands as the ledger recorded it and no facts are returned. Otherwise the
    computed amount, count and prior count go into the payload (what the notice and
    section 六 print) and a typed amount is kept aside for :func:`fee_follows_tariff`.
    """
    method = payload.get("method")
    pages = payload.get("pages")
    if already is None and not (method == PER_PAGE and pages):
        return {}
    typed = payload.pop("amount", None)
    fee: Fee | None = None
    if method == PER_PAGE and pages:
        fee = compute_fee(PER_PAGE, int(pages))
    elif method == PER_REQUEST:
        fee = compute_fee(PER_REQUEST, int(payload.get("units") or 1), already=already or 0)
    if fee is not None:
        payload.update(amount=fee.amount, quantity=fee.quantity, already=fee.already)
    return {"fee": fee, "typed_amount": typed}


def fee_measures_in_force(ctx: GuardContext) -> str | None:
    """The measures took effect on 2021-01-01: no fee notice dated before."""
    if ctx.effective_date is not None and ctx.effective_date < FEE_MEASURES_FROM:
        return (
            f"{FEE_MEASURES}自{FEE_MEASURES_FROM.isoformat()}起施行，"
            f"此前（{ctx.effective_date.isoformat()}）不能收取信息处理费"
        )
    return None


def fee_notice_within_reply_period(ctx: GuardContext) -> str | None:
    """The measures: the agency issues the fee notice within the reply period."""
    due = ctx.deadlines.reply_due if ctx.deadlines else None
    if due is not None and ctx.effective_date is not None and ctx.effective_date > due:
        return (
            f"收费通知应当在答复期限内发出，本申请的答复期限已于{due.isoformat()}届满，"
            "不能再发出收费通知"
        )
    return None


def pages_for_per_page(ctx: GuardContext) -> str | None:
    """按量计收 is computed from the pages of the information to be provided (a ledger
    row replayed in memory, without computed facts, keeps the amount it recorded)."""
    if (
        "fee" in ctx.facts
        and ctx.payload.get("method") == PER_PAGE
        and not ctx.payload.get("pages")
    ):
        return "按量计收须填写拟提供政府信息的页数，收费金额由系统按收费标准计算"
    return None


def fee_follows_tariff(ctx: GuardContext) -> str | None:
    """The computed fee must be due at all, and a typed amount must equal it.

    Without a computed fee in ``ctx.facts`` (an imported ledger row replayed in memory,
    whose notice was issued elsewhere) the amount stands as recorded.
    """
    fee: Fee | None = ctx.facts.get("fee")
    if fee is None:
        return None
    if fee.amount == 0:
        return f"按收费标准本申请不收费（{fee.explanation}），不能发出收费通知"
    typed = ctx.facts.get("typed_amount")
    if typed is not None and int(typed) != fee.amount:
        return (
            f"收费金额{int(typed)}元不符合收费标准，按{FEE_MEASURES}应为{fee.amount}元"
            f"（{fee.explanation}）"
        )
    return None


def amount_owed(history: Sequence[EventLike]) -> int | None:
    """What the applicant owes now: the notice's amount, or the latest reduction's."""
    for event in reversed(history):
        if event.trigger in AMOUNT_TRIGGERS:
            return int(event.payload.get("amount") or 0)
        if event.trigger in ("fee_paid", "waive_fee", "fee_lapsed"):
            return None
    return None


def reduction_below_owed(ctx: GuardContext) -> str | None:
    """A reduction lowers the amount owed; waiving it entirely is the waiver step."""
    amount = ctx.payload.get("amount")
    owed = amount_owed(ctx.history)
    if amount is None or owed is None:
        return None
    if int(amount) >= owed:
        return f"减收后的金额应低于原收费金额（{owed}元）"
    return None
