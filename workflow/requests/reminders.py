"""Reminders: what is due for a user or an agency, and the annual-report deadlines.

In-app reminders count the requests needing action now: reply deadlines passed or due
within ``DUE_SOON_DAYS`` working days, and 补正 / fee / consultation deadlines passed
(期满待办) — a handler's own requests, an approver's whole agency. Art. 49 report
deadlines follow the agency's level: a department publishes its report by 31 January,
a people's government at county level and above by 31 March; from December the coming
deadline (for the year about to end) is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models import Request, RequestFacts
from workflow.kernel.calendar import WorkingCalendar
from workflow.requests.deadlines import DUE_SOON_DAYS

#: 条例 Art. 49: report level → (label, month, day) of the publication deadline.
REPORT_LEVELS: dict[str, tuple[str, int, int]] = {
    "department": ("政府部门", 1, 31),
    "government": ("县级以上人民政府", 3, 31),
    # Art. 49 names departments and governments above county level only. Reading chosen
    # (docs/domain.md §16): a township government reports by 31 January like
    # a department, to the county's competent department, whose county report (due
    # 31 March) covers it.
    "township": ("乡镇人民政府", 1, 31),
}
#: What an agency without a level is reminded of: the two dates Art. 49 itself sets.
UNSET_LEVELS: tuple[str, ...] = ("department", "government")
#: From this month the deadline of the report on the current year is shown.
ADVANCE_MONTH = 12


def attention_count(
    session: Session,
    agency_ids: Iterable[int],
    today: date,
    calendar: WorkingCalendar,
    handler_id: int | None = None,
) -> int:
    """Requests needing action now (see the module docstring), for one handler or all."""
    f = RequestFacts
    soon_until = calendar.add_working_days(today, DUE_SOON_DAYS).day
    stmt = (
        select(func.count())
        .select_from(f)
        .where(f.agency_id.in_(list(agency_ids)))
        .where(or_(f.reply_due <= soon_until, f.pause_due < today))
    )
    if handler_id is not None:
        stmt = stmt.join(Request, Request.id == f.request_id).where(
            Request.handler_id == handler_id
        )
    return session.scalar(stmt) or 0


@dataclass(frozen=True)
class ReportDeadline:
    report_year: int
    who: str
    due: date

    @property
    def text(self) -> str:
        return (
            f"{self.who}应于{self.due.year}年{self.due.month}月{self.due.day}日前公布"
            f"{self.report_year}年度政府信息公开工作年度报告（《条例》第四十九条）"
        )


def report_deadlines(level: str | None, today: date) -> list[ReportDeadline]:
    """The Art. 49 deadlines to remind of on ``today``: last year's report (Jan–Mar) and,
    from December, this year's. An agency without a level sees both levels' dates."""
    levels = [level] if level in REPORT_LEVELS else list(UNSET_LEVELS)
    years = [today.year - 1] + ([today.year] if today.month >= ADVANCE_MONTH else [])
    found = []
    for report_year in years:
        for code in levels:
            who, month, day = REPORT_LEVELS[code]
            found.append(ReportDeadline(report_year, who, date(report_year + 1, month, day)))
    return found
