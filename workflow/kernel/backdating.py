"""Back-dating: an effective date well before the day it is recorded needs a reason.

The legal date of an act (收到申请日期, 答复日期 …) may honestly lie before the day a
clerk records it — post opened on Monday, a reply recorded after a weekend. But a
decision back-dated by weeks can turn a late reply into a timely one in the statistics
(review V10). So beyond a limit of days, set by the deployment (``GONGKAI_BACKDATE_DAYS``
in ``settings.py``, default 7), the action is refused unless the clerk gives a reason
(补录原因); with one, the event records ``backdated`` — how many days and why — and the
timeline and the audit pages show it.

Pure: the caller (the operation) passes the limit it was given and the day of recording.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from workflow.kernel.errors import ValidationError

#: The form field (and raw key) a reason is typed into.
REASON_FIELD = "backdate_reason"
#: The payload key of the flag on the event.
FLAG = "backdated"


def backdating(
    effective: date, today: date, reason: str, limit: int | None, *, field: str = "effective_date"
) -> dict[str, Any] | None:
    """The event's ``backdated`` flag, ``None`` within the limit; refuses without a reason.

    ``limit`` ``None`` means the caller replays records made elsewhere (an import, the
    demo): their provenance is recorded instead, and nothing is refused.
    """
    days = (today - effective).days
    if limit is None or days <= limit:
        return None
    if not reason:
        message = (
            f"日期 {effective.isoformat()} 早于记录当天{days}天（超过{limit}天），"
            "属于补录，请填写补录原因"
        )
        raise ValidationError("请更正标出的内容", {field: message, REASON_FIELD: "请填写补录原因"})
    return {"days": days, "limit": limit, "reason": reason}
