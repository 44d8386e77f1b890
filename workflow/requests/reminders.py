"""Reminders: what is due for a user or an agency, and the annual-report deadlines.

In-app reminders count the requests needing action now: reply deadlines passed or due
within ``DUE_SOON_DAYS`` working days, and 补正 / fee / consultation deadlines passed
(期满待办) — a handler's own requests, an approver's whole agency. The count and the
list run the same statement; ``workflow.challenges.agenda`` adds the agency's own case
deadlines and is what the navigation bar and /reminders call. Art. 49 report
deadlines follow the agency's level: a department publishes its report by 31 January,
a people's government at county level and above by 31 March; from December the coming
deadline (for the year about to end) is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select, union
from sqlalchemy.orm import Session

from models import Request, RequestFacts
from workflow.catalog.states import State
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


#: What the other side's running deadline is called, by the state that waits on it.
PAUSE_LABELS: dict[str, str] = {
    State.SUPPLEMENT_REQUESTED.value: "申请人补正期限",
    State.AWAITING_FEE.value: "缴费期限",
}
PAUSE_LABEL_DEFAULT = "征求意见期限"


@dataclass(frozen=True)
class Whose:
    """Whose reminders: a handler's own requests and the cases on them, or (an
    approver) the agency's; a legal officer sees every case of the agency."""

    agency_id: int
    #: None = every request of the agency.
    handler_id: int | None
    #: None = every case of the agency; else only cases on this handler's requests.
    case_handler_id: int | None

    @classmethod
    def of(cls, agency_id: int, user_id: int, roles: Iterable[str]) -> Whose:
        held = set(roles)
        whole = "approver" in held
        return cls(
            agency_id,
            None if whole else user_id,
            None if whole or "legal" in held else user_id,
        )


def _request_rows(whose: Whose, today: date, calendar: WorkingCalendar) -> Select[Any]:
    """The requests needing action now (see the module docstring): the one statement the
    count and the list both run, so they cannot disagree.

    The two deadlines are selected apart and united, each by its own (agency, date)
    index: written as one ``OR``, SQLite read every projection row of the agency (for a
    province's own agency, 12,500 rows to find 9)."""
    f = RequestFacts
    soon_until = calendar.add_working_days(today, DUE_SOON_DAYS).day
    due = union(
        select(f.request_id).where(f.agency_id == whose.agency_id, f.reply_due <= soon_until),
        select(f.request_id).where(f.agency_id == whose.agency_id, f.pause_due < today),
    ).subquery()
    stmt = select(f.request_id, f.reply_due, f.pause_due).join(
        due, due.c.request_id == f.request_id
    )
    if whose.handler_id is not None:
        stmt = stmt.join(Request, Request.id == f.request_id).where(
            Request.handler_id == whose.handler_id
        )
    return stmt


@dataclass(frozen=True)
class DueLine:
    label: str
    due: date
    overdue: bool


@dataclass(frozen=True)
class ReminderItem:
    """A request or a case needing action, with each of its coming or passed due dates."""

    #: "request" or "challenge": what the item links to.
    kind: str
    id: int
    number: str
    title: str
    lines: tuple[DueLine, ...]

    @property
    def first_due(self) -> date:
        return min(line.due for line in self.lines)


def request_items(
    session: Session, whose: Whose, today: date, calendar: WorkingCalendar
) -> list[ReminderItem]:
    """The requests ``whose`` is reminded of, each with its due dates, most urgent first."""
    soon_until = calendar.add_working_days(today, DUE_SOON_DAYS).day
    rows = _request_rows(whose, today, calendar).subquery()
    found = session.execute(
        select(Request.id, Request.tracking_no, Request.subject, Request.state)
        .add_columns(rows.c.reply_due, rows.c.pause_due)
        .join(rows, rows.c.request_id == Request.id)
    )
    items = []
    for rid, number, subject, state, reply_due, pause_due in found:
        lines = []
        if reply_due is not None and reply_due <= soon_until:
            lines.append(DueLine("答复期限", reply_due, reply_due < today))
        if pause_due is not None and pause_due < today:
            label = PAUSE_LABELS.get(state, PAUSE_LABEL_DEFAULT)
            lines.append(DueLine(label, pause_due, True))
        items.append(ReminderItem("request", rid, number, subject, tuple(lines)))
    return sorted(items, key=lambda i: (i.first_due, i.id))


def request_count(session: Session, whose: Whose, today: date, calendar: WorkingCalendar) -> int:
    """How many :func:`request_items` there are, by the same statement."""
    return (
        session.scalar(
            select(func.count()).select_from(_request_rows(whose, today, calendar).subquery())
        )
        or 0
    )


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
