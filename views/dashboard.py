"""The workbench (工作台): what needs attention today, and the year at a glance.

Overdue and due-soon requests come first (that is what staff look at first), then the
user's own open cases, counts by state, the year's intake by month and outcome shares
as server-side SVG, and the annual-report deadlines of Art. 49.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import extract, func, select

from app import db
from models import PublishedReport, Request, RequestFacts
from views.access import visible_agency_ids
from views.charts import month_bars, share_bar
from views.requests import DeadlineLine, reply_status
from workflow.catalog.outcomes import GROUPS, OUTCOME_BY_CODE
from workflow.operations import deadlines_of, histories, load_calendar, local_today
from workflow.states import OPEN_STATES, STORED_STATES, State

bp = Blueprint("dashboard", __name__)

#: Working days ahead that count as "due soon" on the workbench.
DUE_WITHIN = 5


@bp.before_request
@login_required
def _login_first() -> None:
    """Every page here needs a signed-in user."""


@dataclass(frozen=True)
class Attention:
    request: Request
    reply: DeadlineLine
    days_left: int


@dataclass(frozen=True)
class Reminder:
    text: str
    due: date
    done: bool
    days_left: int


def _attention(
    open_requests: list[Request], today: date
) -> tuple[list[Attention], list[Attention]]:
    """Open requests that are overdue, and those due within ``DUE_WITHIN`` working days."""
    session = db()
    calendar = load_calendar(session)
    events = histories(session, [r.id for r in open_requests])
    overdue, soon = [], []
    for req in open_requests:
        deadlines = deadlines_of(req, events[req.id], calendar, today)
        left = deadlines.days_left(today)
        if left is None or deadlines.paused:
            continue
        item = Attention(req, reply_status(deadlines, today), left)
        if left < 0:
            overdue.append(item)
        elif left <= DUE_WITHIN:
            soon.append(item)
    return sorted(overdue, key=lambda a: a.days_left), sorted(soon, key=lambda a: a.days_left)


def _reminders(agency_id: int, today: date) -> list[Reminder]:
    """Art. 49: departments publish by 31 January, governments (县级以上) by 31 March."""
    year = today.year - 1
    published = (
        db().scalar(
            select(PublishedReport.id).where(
                PublishedReport.agency_id == agency_id, PublishedReport.year == year
            )
        )
        is not None
    )
    found = []
    for who, due in (
        ("政府部门", date(today.year, 1, 31)),
        ("县级以上人民政府", date(today.year, 3, 31)),
    ):
        text = f"{who}应于{due.month}月{due.day}日前公布{year}年度政府信息公开工作年度报告"
        found.append(Reminder(text, due, published, (due - today).days))
    return found


def _short(label: str) -> str:
    """ "（二）部分公开（区分处理的…）" → "部分公开": the chart legend has little room."""
    return label.split("）", 1)[1].split("（")[0]


@bp.route("/dashboard")
def home() -> str:
    session = db()
    visible = visible_agency_ids(current_user)
    today = local_today(datetime.now(UTC))
    open_values = [s.value for s in OPEN_STATES]
    open_requests = list(
        session.scalars(
            select(Request)
            .where(Request.agency_id.in_(visible), Request.state.in_(open_values))
            .order_by(Request.received_on)
        )
    )
    overdue, soon = _attention(open_requests, today)
    mine = [r for r in open_requests if r.handler_id == current_user.id]
    by_state = dict(
        session.execute(
            select(Request.state, func.count())
            .where(Request.agency_id.in_(visible))
            .group_by(Request.state)
        ).all()
    )
    f = RequestFacts
    year_start, year_end = date(today.year, 1, 1), date(today.year, 12, 31)
    monthly = dict(
        session.execute(
            select(extract("month", f.received_on), func.count())
            .where(f.agency_id.in_(visible), f.voided.is_(False))
            .where(f.received_on.between(year_start, year_end))
            .group_by(extract("month", f.received_on))
        ).all()
    )
    outcomes = session.execute(
        select(f.outcome, func.count())
        .where(f.agency_id.in_(visible), f.voided.is_(False))
        .where(f.concluded_on.between(year_start, year_end), f.outcome.is_not(None))
        .group_by(f.outcome)
    ).all()
    by_group = {g.code: 0 for g in GROUPS}
    for code, n in outcomes:
        by_group[OUTCOME_BY_CODE[code].group.code] += n
    return render_template(
        "dashboard/home.html",
        today=today,
        overdue=overdue,
        soon=soon,
        mine=mine,
        states=[(State(s).label, by_state.get(s.value, 0)) for s in STORED_STATES],
        month_chart=month_bars(
            [monthly.get(m, 0) for m in range(1, 13)], f"{today.year}年各月收到申请数"
        ),
        outcome_chart=share_bar(
            [(_short(g.label), by_group[g.code]) for g in GROUPS],
            f"{today.year}年办理结果构成",
        ),
        reminders=_reminders(current_user.agency_id, today),
        due_within=DUE_WITHIN,
    )
