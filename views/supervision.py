"""The supervisor's view: the agencies below, read-only (workflow.statistics.supervision).

Open to the users of an agency that has agencies below it; the ``agency`` parameter
narrows the view to any agency of the user's own subtree (another branch is 404, as
everywhere). Nothing here writes: a supervisor reads its subordinates' requests through
the request list, where ``views.access`` keeps them read-only.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, render_template, request, send_file, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from documents.grid import table3_grid, table4_grid
from documents.supervision_xlsx import render_supervision_xlsx
from models import Agency
from models.agency import subtree_ids
from views.charts import bars, grouped_bars
from views.common import positive_int, signed_in_user, utc_now
from views.database import db
from workflow.annual_report.tracker import (
    consolidated,
    report_tracker,
)
from workflow.catalog.outcomes import GROUP_BY_CODE
from workflow.kernel.actor import local_today
from workflow.kernel.errors import NotFound, PermissionDenied, ValidationError
from workflow.statistics.layouts import table3_layout
from workflow.statistics.layouts.table4 import TABLE4_LAYOUT
from workflow.statistics.supervision import (
    COLUMNS,
    MEASURES,
    TOTAL_NAME,
    AgencyFigures,
    Column,
    Period,
    column_value,
    sorted_rows,
    supervision_table,
    trends,
)
from workflow.store.calendar import load_calendar

bp = Blueprint("supervision", __name__)

#: Years shown in the year-over-year chart.
TREND_YEARS = 5


@bp.before_request
@login_required
def _login_first() -> None:
    """Every page here needs a signed-in user."""


@dataclass(frozen=True)
class Root:
    """The agency the view is about and the agencies it covers (parents first)."""

    agency: Agency
    ids: list[int]


def _root() -> Root:
    """The chosen agency of the user's subtree; 403 for a user with nobody below."""
    me = signed_in_user()
    session = db()
    own = subtree_ids(session, me.agency_id)
    if len(own) == 1:
        raise PermissionDenied("本机关没有下级机关：监督视图供上级机关查看下级机关的办理情况")
    code = request.args.get("agency") or me.agency.code
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None or agency.id not in own:
        raise NotFound("机关不存在，或您无权查看")
    return Root(agency, subtree_ids(session, agency.id))


def _period(today: date) -> tuple[Period, str | None]:
    """The period asked for, or this year with the reason the input was not used."""
    try:
        return Period.parse(request.args.get("start"), request.args.get("end"), today), None
    except ValidationError as err:
        return Period.of_year(today.year, today), str(err)


def _link(row: AgencyFigures, column: Column, period: Period) -> str | None:
    """The request list behind one number (None when there is no list to show)."""
    if column.measure is None:
        return None
    # The total row stands for the chosen agency and every agency below it.
    where: dict[str, object] = {"agency": row.agency_id}
    if row.name == TOTAL_NAME:
        where["subs"] = 1
    if column.measure == "overdue":
        return url_for("requests.list_requests", overdue=1, **where)
    args: dict[str, object] = {
        **where,
        "measure": column.measure,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }
    if column.outcome:
        args["outcome"] = column.outcome
    return url_for("requests.list_requests", **args)


def _table_args(root: Root, period: Period, **extra: object) -> dict[str, object]:
    return {
        "agency": root.agency.code,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        **extra,
    }


@bp.get("/supervision")
def page() -> str:
    """Every agency below for a period: the figures, sortable, each a link to its list."""
    session = db()
    root = _root()
    today = local_today(utc_now())
    period, problem = _period(today)
    table = supervision_table(session, root.agency, root.ids, period, load_calendar(session), today)
    sort = request.args.get("sort", "")
    descending = request.args.get("desc") == "1"
    return render_template(
        "supervision/page.html",
        root=root,
        period=period,
        problem=problem,
        table=table,
        rows=sorted_rows(table.rows, sort, descending),
        columns=COLUMNS,
        sort=sort,
        descending=descending,
        value=column_value,
        link=lambda row, column: _link(row, column, period),
        args=lambda **extra: _table_args(root, period, **extra),
        agencies=_agencies(),
    )


def _agencies() -> list[Agency]:
    """The agencies a supervisor may narrow the view to (those with agencies below)."""
    session = db()
    me = signed_in_user()
    ids = subtree_ids(session, me.agency_id)
    parents = set(session.scalars(select(Agency.parent_id).where(Agency.id.in_(ids)).distinct()))
    return list(
        session.scalars(
            select(Agency)
            .where(Agency.id.in_([i for i in ids if i in parents]))
            .order_by(Agency.code)
        )
    )


@bp.get("/supervision/export.xlsx")
def export_xlsx() -> Response:
    """The table as shown (same period and order) as a workbook."""
    session = db()
    root = _root()
    today = local_today(utc_now())
    period, _ = _period(today)
    table = supervision_table(session, root.agency, root.ids, period, load_calendar(session), today)
    rows = sorted_rows(table.rows, request.args.get("sort", ""), request.args.get("desc") == "1")
    title = f"{root.agency.name}及下级机关政府信息公开申请办理情况"
    content = render_supervision_xlsx(title, period, rows, table.total)
    return send_file(
        io.BytesIO(content),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{title}（{period.start}至{period.end}）.xlsx",
        max_age=0,
    )


@bp.get("/supervision/trends")
def trends_page() -> str:
    """Year over year, and this year month by month, as server-side SVG charts."""
    session = db()
    root = _root()
    today = local_today(utc_now())
    year = today.year
    found = trends(session, root.ids, year, year - TREND_YEARS + 1)
    return render_template(
        "supervision/trends.html",
        root=root,
        trends=found,
        year_chart=grouped_bars(
            [f"{y}年" for y in found.years],
            [("收到", found.received_by_year), ("办结", found.concluded_by_year)],
            f"{found.years[0]}—{year}年收到和办结申请数",
        ),
        month_chart=grouped_bars(
            [f"{m}月" for m in range(1, 13)],
            [("收到", found.received_by_month), ("办结", found.concluded_by_month)],
            f"{year}年各月收到和办结申请数",
        ),
        received_chart=bars(
            [f"{y}年" for y in found.years], found.received_by_year, "各年收到申请数"
        ),
    )


def _year(today: date) -> int:
    """The report year asked for; by default last year (the reports now due)."""
    return positive_int(request.args.get("year"), today.year - 1) or today.year - 1


#: Up to this many agencies the tracker recounts every agency's statistics from its log
#: (the fold check of ``stats-verify``) by default; above it the recount is asked for
#: (about 0.25 s per agency of 300 requests, bench/RESULTS.md), and the nightly
#: ``stats-verify`` covers everyone.
FOLD_BY_DEFAULT_UP_TO = 30


@bp.get("/supervision/reports")
def reports() -> str:
    """Each agency's annual report for the year: status against its Art. 49 deadline."""
    session = db()
    root = _root()
    today = local_today(utc_now())
    year = min(max(_year(today), 2008), today.year)
    sent = request.args.getlist("fold")  # the hidden "0", then the box's "1" when ticked
    asked = sent[-1] if sent else None
    fold = asked == "1" if asked in ("0", "1") else len(root.ids) <= FOLD_BY_DEFAULT_UP_TO
    return render_template(
        "supervision/reports.html",
        root=root,
        year=year,
        fold=fold,
        lines=report_tracker(session, root.ids, year, today, fold=fold),
    )


@bp.get("/supervision/consolidated")
def consolidated_page() -> str:
    """The consolidated tables 三 and 四 of the subtree; each cell opens its breakdown."""
    session = db()
    root = _root()
    today = local_today(utc_now())
    year = min(max(_year(today), 2008), today.year)
    found = consolidated(session, root.agency, root.ids, year)
    return render_template(
        "supervision/consolidated.html",
        root=root,
        year=year,
        result=found,
        grid3=table3_grid(found.fmt, found.table3),
        grid4=table4_grid(found.table4),
        link3=url_for(".breakdown", agency=root.agency.code, year=year, table="3", cell="__KEY__"),
        link4=url_for(".breakdown", agency=root.agency.code, year=year, table="4", cell="__KEY__"),
    )


@bp.get("/supervision/breakdown")
def breakdown() -> str:
    """One cell of the consolidated tables, agency by agency."""
    session = db()
    root = _root()
    today = local_today(utc_now())
    year = min(max(_year(today), 2008), today.year)
    found = consolidated(session, root.agency, root.ids, year)
    table = request.args.get("table")
    row, _, col = request.args.get("cell", "").rpartition(".")
    if table == "4":
        if row not in TABLE4_LAYOUT.group_keys or col not in TABLE4_LAYOUT.column_keys:
            raise NotFound("统计表中没有这个单元格")
        title = f"表四 · {TABLE4_LAYOUT.group(row).label} · {TABLE4_LAYOUT.column(col).label}"
        values = {a: t4.get(row, {}).get(col, 0) for a, t4 in found.table4_by_agency.items()}
        total = found.table4.get(row, {}).get(col, 0)
    else:
        layout = table3_layout(found.fmt)
        if row not in layout.row_keys or col not in layout.column_keys:
            raise NotFound("统计表中没有这个单元格")
        title = f"表三 · {layout.row(row).label} · {layout.column(col).full_label}"
        values = {a: t3.get(row, {}).get(col, 0) for a, t3 in found.table3_by_agency.items()}
        total = found.table3.get(row, {}).get(col, 0)
    agencies = {a.id: a for a in session.scalars(select(Agency).where(Agency.id.in_(root.ids)))}
    return render_template(
        "supervision/breakdown.html",
        root=root,
        year=year,
        title=title,
        lines=[(agencies[a], values.get(a, 0)) for a in root.ids],
        total=total,
        table=table if table == "4" else "3",
        cell=f"{row}.{col}",
        groups=GROUP_BY_CODE,
        measures=MEASURES,
    )
