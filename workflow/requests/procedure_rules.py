"""Guards of the special procedures (docs/domain.md §18), pure.

* Art. 35: for a volume of requests clearly beyond a reasonable range the agency may
  ask the applicant for reasons; then it either answers 不予处理 (五)4 (reasons
  unreasonable or none given) or fixes a reasonable later date for its reply (reasons
  reasonable but the ordinary period is not enough). Neither is possible without the
  recorded request for reasons and the recorded finding.
* Art. 32 last sentence: the written notice to a third party whose objection the
  agency overrides on public-interest grounds presupposes that objection.
* Art. 33 para 1: an answer on the spot is given on the day the request is received.

Each guard returns ``None`` or the Chinese sentence a clerk reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from workflow.kernel.guards import EventLike, GuardContext, since_reopen
from workflow.kernel.lifecycle import PayloadField

#: The applicant's reasons as the agency assessed them (Art. 35).
REASONS_FINDINGS: tuple[tuple[str, str], ...] = (
    ("unreasonable", "理由不合理"),
    ("none", "逾期未说明理由"),
    ("reasonable", "理由合理，但无法在法定期限内答复"),
)
#: Findings after which 不予处理 (五)4 may be decided.
REFUSING_FINDINGS = frozenset({"unreasonable", "none"})
EXCESSIVE = "not_processed.excessive"
PETITION = "not_processed.petition"
#: How an imported decision says its Art. 35 steps are not in the record (a ledger row).
REASONS_PROCEDURE = "reasons_procedure"
#: Art. 39 para 1: a 信访、投诉、举报 matter is not processed as a request; the applicant
#: is told where to take it, and the decision records where.
REFERRED_TO = PayloadField(
    "referred_to",
    "已告知申请人的信访、投诉、举报渠道",
    "text",
    required=False,
    help="（五）1 信访举报投诉类申请必填：如某市信访局、12345热线、某局投诉举报电话",
)


def _unrecorded(ctx: GuardContext, fact: str) -> bool:
    """An imported decision that declares ``fact`` absent from its record (a ledger row:
    ``workflow.ledger.reader.UNRECORDED_FOR_OUTCOME``); never set by a form."""
    return fact in (ctx.payload.get("unrecorded") or ())


def latest(history: Sequence[EventLike], trigger: str) -> EventLike | None:
    """The latest ``trigger`` event of the current procedure (since the last reopen)."""
    found = [e for e in since_reopen(history) if e.trigger == trigger]
    return found[-1] if found else None


def reasons_requested(ctx: GuardContext) -> str | None:
    if latest(ctx.history, "request_reasons") is None:
        return "尚未要求申请人说明理由（《条例》第三十五条），不能记录其理由"
    return None


def reasons_finding_in_time(ctx: GuardContext) -> str | None:
    """ "逾期未说明理由" only once the time the agency gave has run out."""
    if ctx.payload.get("finding") != "none":
        return None
    asked = latest(ctx.history, "request_reasons")
    due = asked.payload.get("due_on") if asked else None
    if due and ctx.effective_date and ctx.effective_date <= date.fromisoformat(due):
        return f"说明理由的期限（{due}）尚未届满，不能认定申请人逾期未说明理由"
    return None


def _finding(history: Sequence[EventLike]) -> str | None:
    event = latest(history, "reasons_received")
    return str(event.payload.get("finding")) if event else None


def reasons_found_reasonable(ctx: GuardContext) -> str | None:
    """Art. 35: a deferral follows reasons found reasonable."""
    if _finding(ctx.history) != "reasonable":
        return (
            "延迟答复须先要求申请人说明理由，并认定理由合理但无法在法定期限内答复"
            "（《条例》第三十五条）"
        )
    return None


def excessive_needs_recorded_reasons(ctx: GuardContext) -> str | None:
    """Art. 35: (五)4 only after the applicant was asked and the reasons failed."""
    if ctx.payload.get("outcome") != EXCESSIVE or _unrecorded(ctx, REASONS_PROCEDURE):
        return None
    if _finding(ctx.history) not in REFUSING_FINDINGS:
        return (
            "“无正当理由大量反复申请”须先要求申请人说明理由（《条例》第三十五条），"
            "并记录理由不合理或逾期未说明理由"
        )
    return None


def petition_names_the_referral(ctx: GuardContext) -> str | None:
    """Art. 39 para 1: a (五)1 answer tells the applicant which channel to use."""
    if _unrecorded(ctx, "referred_to"):
        return None
    if ctx.payload.get("outcome") == PETITION and not ctx.payload.get("referred_to"):
        return (
            "“信访举报投诉类申请”须写明已告知申请人的信访、投诉、举报渠道"
            "（《条例》第三十九条第一款）"
        )
    return None


def deferral_in_time(ctx: GuardContext) -> str | None:
    """The later date is fixed while the ordinary period still runs."""
    due = ctx.deadlines.reply_due if ctx.deadlines else None
    if due is not None and ctx.effective_date is not None and ctx.effective_date > due:
        return f"答复期限已于{due.isoformat()}届满，延迟答复须在答复期限内决定并告知申请人"
    return None


def third_party_objected(ctx: GuardContext) -> str | None:
    """Art. 32: the notice goes to a third party that did not agree to disclosure."""
    replies = [e for e in since_reopen(ctx.history) if e.trigger == "third_party_replied"]
    if not replies or replies[-1].payload.get("opinion") != "object":
        return "第三方未表示不同意公开，无需书面告知第三方公开决定（《条例》第三十二条）"
    return None


def on_the_day_received(ctx: GuardContext) -> str | None:
    """Art. 33 para 1: 当场答复 is given on the day the request is received."""
    if ctx.effective_date and ctx.received_on and ctx.effective_date != ctx.received_on:
        return (
            f"当场答复的日期应为收到申请之日（{ctx.received_on.isoformat()}）；"
            "不能当场答复的，请受理后按期答复"
        )
    return None


def in_reopened_procedure(ctx: GuardContext) -> str | None:
    """Only a procedure a reopen started can be undone (the order behind it reversed)."""
    if any(e.trigger == "reopen" for e in ctx.history):
        return None
    return "本申请不是因复议决定或判决重新办理的，不能撤销重新办理"
