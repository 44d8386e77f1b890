"""Reminders: what is due for a user or an agency, and the annual-report deadlines.

In-app reminders count the requests needing action now: reply deadlines passed or due
within ``DUE_SOON_DAYS`` working days, and 补正 / fee / consultation deadlines passed
(期满待办) — a handler's own requests, an approver's whole agency — and the agency's own
deadlines in its reconsideration and court cases (a handler: the cases on their requests;
an approver or a legal officer: all of the agency's). The count on the navigation bar and
the list behind it (/reminders) run the same statement and the same fold. Art. 49 report
deadlines follow the agency's level: a department publishes its report by 31 January,
a people's government at county level and above by 31 March; from December the coming
deadline (for the year about to end) is shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from models import Challenge, ChallengeEvent, Request, RequestFacts
from workflow.catalog.states import State
from workflow.challenges.standing import own_deadlines, standing_of
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
#: Calendar days ahead within which the agency's own challenge deadlines are listed.
CASE_AHEAD_DAYS = 10
#: Cases filed longer ago than this are not looked at (their deadlines are long past).
CASE_LOOKBACK_DAYS = 730


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
    count and the list both run, so they cannot disagree."""
    f = RequestFacts
    soon_until = calendar.add_working_days(today, DUE_SOON_DAYS).day
    stmt = (
        select(f.request_id, f.reply_due, f.pause_due)
        .where(f.agency_id == whose.agency_id)
        .where(or_(f.reply_due <= soon_until, f.pause_due < today))
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


def case_deadline_due(day: date, pending: bool, today: date) -> bool:
    """Whether an agency deadline in a case is to be acted on: within ``CASE_AHEAD_DAYS``,
    or passed while the case is pending (a passed appeal period of a decided case is not)."""
    return day <= today + timedelta(days=CASE_AHEAD_DAYS) and (pending or day >= today)


def _case_items(
    session: Session, whose: Whose, today: date, calendar: WorkingCalendar
) -> list[ReminderItem]:
    """The agency's own deadlines in its cases (复议答复, 答辩状, its appeal period) within
    ``CASE_AHEAD_DAYS``, or passed while the case is pending."""
    stmt = (
        select(Challenge)
        .where(Challenge.agency_id == whose.agency_id, Challenge.state != "voided")
        .where(
            (Challenge.state == "pending")
            | ((Challenge.kind == "litigation") & (Challenge.instance == "first"))
        )
        .where(Challenge.filed_on >= today - timedelta(days=CASE_LOOKBACK_DAYS))
        .order_by(Challenge.id)
    )
    if whose.case_handler_id is not None:
        stmt = stmt.join(Request, Request.id == Challenge.request_id).where(
            Request.handler_id == whose.case_handler_id
        )
    cases = list(session.scalars(stmt))
    logs: dict[int, list[ChallengeEvent]] = defaultdict(list)
    if cases:
        for event in session.scalars(
            select(ChallengeEvent)
            .where(ChallengeEvent.challenge_id.in_([c.id for c in cases]))
            .order_by(ChallengeEvent.challenge_id, ChallengeEvent.seq)
        ):
            logs[event.challenge_id].append(event)
    items = []
    for case in cases:
        pending = case.state == "pending"
        found = standing_of(case.filed_on, logs[case.id])
        lines = tuple(
            DueLine(d.label, d.day, d.day < today)
            for d in own_deadlines(case.kind, case.instance, pending, found, calendar)
            if case_deadline_due(d.day, pending, today)
        )
        if lines:
            items.append(ReminderItem("challenge", case.id, case.case_no, case.body, lines))
    return items


@dataclass(frozen=True)
class Reminders:
    requests: list[ReminderItem]
    cases: list[ReminderItem]

    @property
    def count(self) -> int:
        return len(self.requests) + len(self.cases)


def reminders_for(
    session: Session, whose: Whose, today: date, calendar: WorkingCalendar
) -> Reminders:
    """Everything ``whose`` is reminded of today, most urgent first."""
    soon_until = calendar.add_working_days(today, DUE_SOON_DAYS).day
    rows = _request_rows(whose, today, calendar).subquery()
    found = session.execute(
        select(Request.id, Request.tracking_no, Request.subject, Request.state)
        .add_columns(rows.c.reply_due, rows.c.pause_due)
        .join(rows, rows.c.request_id == Request.id)
    )
    requests = []
    for rid, number, subject, state, reply_due, pause_due in found:
        lines = []
        if reply_due is not None and reply_due <= soon_until:
            lines.append(DueLine("答复期限", reply_due, reply_due < today))
        if pause_due is not None and pause_due < today:
            label = PAUSE_LABELS.get(state, PAUSE_LABEL_DEFAULT)
            lines.append(DueLine(label, pause_due, True))
        requests.append(ReminderItem("request", rid, number, subject, tuple(lines)))
    requests.sort(key=lambda i: (i.first_due, i.id))
    cases = sorted(_case_items(session, whose, today, calendar), key=lambda i: (i.first_due, i.id))
    return Reminders(requests, cases)


def reminder_count(session: Session, whose: Whose, today: date, calendar: WorkingCalendar) -> int:
    """The count on the navigation bar: :func:`reminders_for`'s items, counted by the same
    statement (requests) and the same fold (cases)."""
    requests = session.scalar(
        select(func.count()).select_from(_request_rows(whose, today, calendar).subquery())
    )
    return (requests or 0) + len(_case_items(session, whose, today, calendar))


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
