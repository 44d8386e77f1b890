"""The workbench (工作台): what needs attention today, and the year at a glance.

Overdue and due-soon requests come first (that is what staff look at first), then the
user's own open cases, counts by state, the year's intake by month and outcome shares
as server-side SVG, and the annual-report deadlines of Art. 49.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from documents.notices_pdf import render_notice
from models import Agency, Challenge, PublishedReport, Request
from models.file_store import open_file_store
from views.access import require_roles, visible_agency_ids
from views.challenges import case_rows
from views.charts import month_bars, share_bar
from views.common import local_time, perform_and_flash, positive_int, signed_in_user, utc_now
from views.database import db
from views.presenters import DeadlineLine, describe_proposal, reply_status
from workflow.catalog.outcomes import GROUPS, OUTCOME_BY_CODE
from workflow.catalog.states import OPEN_STATES, STORED_STATES
from workflow.challenges.agenda import case_deadline_due, due_cases, reminders_for
from workflow.kernel.actor import Actor, local_today
from workflow.requests.clocks import pause_lapsed, running_due, service_dates
from workflow.requests.deadlines import DUE_SOON_DAYS, Deadlines
from workflow.requests.lapse_queue import LAPSE_OF_STATE, record_lapses
from workflow.requests.office_operations import pending_for
from workflow.requests.operations import deadlines_of, histories
from workflow.requests.reminders import Whose, report_deadlines
from workflow.requests.spec import CASEWORKERS
from workflow.statistics.month_counts import RECEIVED, month_totals
from workflow.store.calendar import load_calendar

bp = Blueprint("dashboard", __name__)

#: Rows shown per list; the rest are counted (and the overdue ones are one click away).
SHOWN = 20


@bp.before_request
@login_required
def _login_first() -> None:
    """Every page here needs a signed-in user."""


@dataclass(frozen=True)
class Attention:
    request: Request
    reply: DeadlineLine

    @property
    def lapsable(self) -> bool:
        """Whether the 期满待办 form offers this row's lapse (补正 or fee)."""
        return self.request.state in LAPSE_OF_STATE


@dataclass(frozen=True)
class Shortlist:
    """The most urgent rows of one list, and how many there are in all."""

    items: list[Attention]
    total: int


@dataclass(frozen=True)
class Reminder:
    text: str
    due: date
    done: bool
    days_left: int


def _other_side(deadlines: Deadlines, today: date) -> DeadlineLine:
    """A lapsed 补正, consultation or fee deadline, and what is to be recorded now."""
    if deadlines.applicant_supplement_due is not None and deadlines.reply_due is None:
        return DeadlineLine(
            "补正期限", deadlines.applicant_supplement_due, "已届满，可认定逾期未补正", "overdue"
        )
    if deadlines.consultation_due is not None:
        return DeadlineLine(
            "征求意见期限", deadlines.consultation_due, "已届满，请记录意见或逾期未答复", "overdue"
        )
    return DeadlineLine("缴费期限", deadlines.fee_due, "已届满，可认定逾期未缴费", "overdue")


def _shortlist(
    total: int, ids: list[int], today: date, line: Callable[[Deadlines, date], DeadlineLine]
) -> Shortlist:
    """The rows behind ``ids`` (selected by the stored clock), each deadline computed
    from its own events as the request page shows it."""
    session = db()
    rows = {r.id: r for r in session.scalars(select(Request).where(Request.id.in_(ids)))}
    calendar = load_calendar(session)
    events, served = histories(session, ids), service_dates(session, ids)
    items = [
        Attention(
            rows[rid],
            line(deadlines_of(rows[rid], events[rid], calendar, today, served[rid]), today),
        )
        for rid in ids
    ]
    return Shortlist(items, total)


def _attention(visible: list[int], today: date) -> tuple[Shortlist, Shortlist]:
    """Overdue requests, and those due within ``DUE_SOON_DAYS`` working days, most urgent
    first (a consultation with the date a silent party leaves; a running fee pause is
    waiting on the applicant and not listed)."""
    session = db()
    yesterday = today - timedelta(days=1)
    # A due date is a working day, so "at most N working days left" (Deadlines.days_left)
    # is "due no later than the N-th working day after today".
    soon_until = load_calendar(session).add_working_days(today, DUE_SOON_DAYS).day
    overdue = _shortlist(
        *running_due(session, visible, None, yesterday, SHOWN), today, reply_status
    )
    soon = _shortlist(
        *running_due(session, visible, yesterday, soon_until, SHOWN), today, reply_status
    )
    return overdue, soon


@dataclass(frozen=True)
class CaseDeadline:
    case: Challenge
    line: DeadlineLine


def _case_deadlines(visible: list[int], today: date) -> list[CaseDeadline]:
    """The ``SHOWN`` most urgent of the agency's own deadlines in its cases (复议答复,
    答辩状, its appeal period) that are due (``case_deadline_due``), in the visible agencies.

    Cases are read by their stored first deadline, a batch at a time: none of a case's
    due deadlines is earlier than its first, so once the ``SHOWN``-th line found is
    earlier than the first deadline of the last case read, no unread case can come
    before it (a province has about a thousand such cases; the page folds a batch)."""
    session = db()
    batch = 2 * SHOWN
    stmt = due_cases(visible, today).limit(batch)
    found: list[CaseDeadline] = []
    read = 0
    while True:
        cases = list(session.scalars(stmt.offset(read)))
        read += len(cases)
        for row in case_rows(session, cases, today):
            pending = row.case.state == "pending"
            for line in row.agency:
                assert line.day is not None
                if case_deadline_due(line.day, pending, today):
                    found.append(CaseDeadline(row.case, line))
        found.sort(key=lambda c: (c.line.day, c.case.id))
        last_first = cases[-1].agency_due_first if cases else None
        if len(cases) < batch or (
            len(found) >= SHOWN
            and last_first is not None
            and found[SHOWN - 1].line.day < last_first
        ):
            return found[:SHOWN]


def _reminders(agency_id: int, today: date) -> list[Reminder]:
    """Art. 49 by the agency's level (workflow.requests.reminders), each with whether that year's
    report is published."""
    session = db()
    agency = session.get(Agency, agency_id)
    found = []
    for item in report_deadlines(agency.report_level if agency else None, today):
        published = (
            session.scalar(
                select(PublishedReport.id).where(
                    PublishedReport.agency_id == agency_id,
                    PublishedReport.year == item.report_year,
                )
            )
            is not None
        )
        found.append(Reminder(item.text, item.due, published, (item.due - today).days))
    return found


def _short(label: str) -> str:
    """ "（二）部分公开（区分处理的…）" → "部分公开": the chart legend has little room."""
    return label.split("）", 1)[1].split("（")[0]


@bp.post("/dashboard/lapses")
@require_roles(*CASEWORKERS)
def record_lapses_view() -> Response:
    """期满待办: record the selected requests' lapses (each with its 告知书) at once."""
    ids = [i for v in request.form.getlist("request_id") if (i := positive_int(v))]

    def operation() -> str:
        notices = record_lapses(
            db(),
            Actor.of(signed_in_user()),
            utc_now(),
            ids,
            render=render_notice,
            store=open_file_store(),
        )
        return f"已认定逾期并出具告知书 {len(notices)} 件"

    perform_and_flash(
        operation,
        conflict="所选申请刚刚已由他人更新，请刷新后重试",
        refused="未认定任何申请：",
    )
    return redirect(url_for(".home") + "#pause-lapsed")


def _approvals() -> list[dict[str, object]]:
    """The proposals waiting for an approver of the user's agency (审核签发), for approvers."""
    if "approver" not in current_user.roles:
        return []
    return [
        {
            "request": req,
            "text": describe_proposal(event),
            "by": event.actor.display_name if event.actor else "",
            "when": local_time(event.recorded_at),
            "own": event.actor_id == current_user.id,
        }
        for req, event in pending_for(db(), current_user.agency_id)
    ]


@bp.get("/reminders")
def reminders() -> str:
    """The list behind the count on the navigation bar: the user's own requests and cases
    (an approver: the agency's) with each coming or passed due date, each linked."""
    me = signed_in_user()
    session = db()
    today = local_today(utc_now())
    found = reminders_for(
        session, Whose.of(me.agency_id, me.id, me.roles), today, load_calendar(session)
    )
    return render_template(
        "dashboard/reminders.html",
        today=today,
        reminders=found,
        whole_agency="approver" in me.roles,
        due_within=DUE_SOON_DAYS,
    )


@bp.route("/dashboard")
def home() -> str:
    session = db()
    visible = sorted(visible_agency_ids(current_user))
    today = local_today(datetime.now(UTC))
    open_values = [s.value for s in OPEN_STATES]
    overdue, soon = _attention(visible, today)
    lapsed = _shortlist(*pause_lapsed(session, visible, today, SHOWN), today, _other_side)
    # A handler only ever handles their own agency's requests, which they always see; no
    # agency condition, so the (handler, state, received) index answers it alone.
    mine_where = (Request.handler_id == current_user.id, Request.state.in_(open_values))
    mine = list(
        session.scalars(
            select(Request).where(*mine_where).order_by(Request.received_on).limit(SHOWN)
        )
    )
    mine_total = session.scalar(select(func.count()).select_from(Request).where(*mine_where))
    by_state = dict(
        session.execute(
            select(Request.state, func.count())
            .where(Request.agency_id.in_(visible), Request.state.in_(open_values))
            .group_by(Request.state)
        ).all()
    )
    year = month_totals(session, visible, today.year, today.year)
    by_group = {g.code: 0 for g in GROUPS}
    received = [0] * 12
    for (month, outcome), n in year.items():
        if outcome == RECEIVED:
            received[month.month - 1] += n
        else:
            by_group[OUTCOME_BY_CODE[outcome].group.code] += n
    return render_template(
        "dashboard/home.html",
        today=today,
        overdue=overdue,
        soon=soon,
        lapsed=lapsed,
        case_deadlines=_case_deadlines(visible, today),
        can_lapse=bool(current_user.roles & CASEWORKERS),
        mine=mine,
        mine_total=mine_total or 0,
        states=[(s.label, by_state.get(s.value, 0)) for s in STORED_STATES if s in OPEN_STATES],
        open_total=sum(by_state.values()),
        month_chart=month_bars(received, f"{today.year}年各月收到申请数"),
        outcome_chart=share_bar(
            [(_short(g.label), by_group[g.code]) for g in GROUPS],
            f"{today.year}年办理结果构成",
        ),
        reminders=_reminders(current_user.agency_id, today),
        approvals=_approvals(),
        unassigned=session.scalar(
            select(func.count())
            .select_from(Request)
            .where(
                Request.agency_id == current_user.agency_id,
                Request.handler_id.is_(None),
                Request.state.in_(open_values),
            )
        )
        or 0,
        due_within=DUE_SOON_DAYS,
        shown=SHOWN,
    )
