"""Guards that read the request's deadlines (docs/domain.md §3.11): what the clocks forbid.

Each returns ``None`` or the Chinese sentence a clerk reads, like ``workflow.kernel.guards``.
They judge against the deadlines as they stood *before* the action (``ctx.deadlines``),
computed with the recorded or presumed service dates of the notices.
"""

from __future__ import annotations

from workflow.kernel.guards import GuardContext


def extension_in_time(ctx: GuardContext) -> str | None:
    """Art. 33 para 2: an extension is decided within the reply period.

    A late one is refused; an approver may still record it with a reason (the agency
    did decide it), but it stays late and does not move the deadline.
    """
    due = ctx.deadlines.reply_due if ctx.deadlines else None
    if due is None or ctx.effective_date is None or ctx.effective_date <= due:
        return None
    reason = str(ctx.payload.get("late_reason") or "").strip()
    if reason and "approver" in ctx.roles:
        return None
    refusal = (
        f"答复期限已于{due.isoformat()}届满，延期须在答复期限内决定（《条例》第三十三条第二款），"
        "逾期不能延期"
    )
    if reason:
        return refusal + "；逾期记录延期决定须由审核人操作"
    return refusal + "。如确需记录该延期决定，须由审核人填写“逾期延期理由”，答复期限不因此延长"


def extension_within_limit(ctx: GuardContext) -> str | None:
    """The longest extension of the request's regime (2019: 20 wd; 2008 Art. 24: 15 wd)."""
    limit = ctx.deadlines.extension_limit if ctx.deadlines else None
    days = ctx.payload.get("days")
    if limit is None or days is None or int(days) <= limit:
        return None
    return (
        "2019年5月15日前收到的申请适用2008年《条例》第二十四条，"
        f"延长答复的期限最长不得超过{limit}个工作日"
    )


def no_reply_after_deadline(ctx: GuardContext) -> str | None:
    """Art. 32, 34: "逾期未答复" only once the consulted party's 15 wd have run out."""
    if ctx.payload.get("opinion") != "no_reply":
        return None
    due = ctx.deadlines.consultation_due if ctx.deadlines else None
    if due and ctx.effective_date and ctx.effective_date <= due:
        return f"对方答复期限（{due.isoformat()}）尚未届满，不能认定逾期未答复"
    return None
