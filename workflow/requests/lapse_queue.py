"""期满待办: recording lapses whose day has come, one request or several at once.

A 补正 or fee deadline that has passed ends the request (条例 Art. 30: 视为放弃申请;
Art. 42 and the fee measures: 逾期未缴纳视为放弃). Recording it is one step: the lapse
event (audited like every event, one per request) and its 告知书. Several selected
requests are recorded together or not at all: any refusal names the request and stops
the whole batch, so a clerk never has to work out which half went through.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Notice, Request
from models.file_store import FileStore
from workflow.catalog.states import State
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.errors import GuardError
from workflow.notices.document import NoticeRenderer
from workflow.notices.operations import issue_notice
from workflow.requests import operations as ops

#: The lapse that ends a request waiting in this state.
LAPSE_OF_STATE: dict[str, str] = {
    State.SUPPLEMENT_REQUESTED.value: "supplement_lapsed",
    State.AWAITING_FEE.value: "fee_lapsed",
}
NOTE = "期满待办：逾期认定"


def record_lapses(
    session: Session,
    actor: Actor,
    now: datetime,
    request_ids: Sequence[int],
    *,
    render: NoticeRenderer,
    store: FileStore | None = None,
) -> list[Notice]:
    """Record each request's lapse dated today with its 告知书; returns the notices.

    Flushes, never commits. Raises GuardError listing every refused request (by number)
    and leaves it to the caller to roll the batch back.
    """
    if not request_ids:
        raise GuardError(["请先选择要认定逾期的申请"])
    found = {
        r.id: r
        for r in session.scalars(
            select(Request).where(
                Request.id.in_(list(request_ids)), Request.agency_id == actor.agency_id
            )
        )
    }
    today = local_today(now).isoformat()
    notices, refused = [], []
    for rid in request_ids:
        request = found.get(rid)
        if request is None:
            refused.append(f"申请（{rid}）不存在或不属于本机关")
            continue
        trigger = LAPSE_OF_STATE.get(request.state)
        if trigger is None:
            refused.append(f"{request.tracking_no}：当前状态下没有可认定的逾期")
            continue
        try:
            ops.fire(session, request, trigger, actor, now, {"effective_date": today, "note": NOTE})
            notices.append(
                issue_notice(session, actor, now, request, "reply", render=render, store=store)
            )
        except GuardError as err:
            refused.append(f"{request.tracking_no}：{err}")
    if refused:
        raise GuardError(refused)
    return notices
