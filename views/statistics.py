"""The statistics page: tables 三 and 四 in the official layout, every number a link to
the requests behind it, the seven checks, and publishing (freezing) a finished year.

Everything shown comes from ``workflow.statistics.queries`` (the fast path, verified against
the fold by ``stats-verify``) and the layouts in ``workflow.statistics.layouts``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from documents.grid import table3_grid, table4_grid
from documents.report_pdf import rendered_report
from models import Agency, Challenge, Request
from views.access import visible_agency_ids
from views.common import perform_and_flash, utc_now
from views.database import db
from views.security import log
from views.selection import parse_selection
from workflow.annual_report.archive import frozen_pdf
from workflow.annual_report.publishing import (
    PUBLISHERS,
    changed_challenges,
    changed_requests,
    find_published,
    frozen_differences,
    hash_intact,
    publish,
    readiness,
    republish,
    versions,
)
from workflow.annual_report.report import load_report
from workflow.catalog.applicants import KIND_BY_CODE
from workflow.catalog.outcomes import FORMATS
from workflow.catalog.states import State
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.errors import DomainError, NotFound, PermissionDenied
from workflow.statistics.challenges import cell_challenge_ids
from workflow.statistics.layouts import table3_layout
from workflow.statistics.layouts.table4 import TABLE4_LAYOUT
from workflow.statistics.queries import cell_request_ids, derive

bp = Blueprint("statistics", __name__)


@bp.before_request
@login_required
def _login_first() -> None:
    """Every page here needs a signed-in user."""


class PublishForm(FlaskForm):
    """Only the CSRF token: what is published is what the page shows."""


@bp.route("/statistics")
def page() -> str:
    session = db()
    sel = parse_selection(live_year=True)
    result = derive(session, sel.scope, sel.year, sel.fmt_override)
    published = find_published(session, sel.scope, sel.year)
    failed = [c for c in result.checks if not c.ok]
    agencies = list(
        session.scalars(
            select(Agency)
            .where(Agency.id.in_(visible_agency_ids(current_user)))
            .order_by(Agency.id)
        )
    )
    can_publish = bool(current_user.roles & PUBLISHERS) and sel.agency.id == current_user.agency_id
    changes = frozen_differences(published, result) if published else []
    history = versions(session, published) if published else []
    causes = (
        changed_requests(
            session, sel.scope, sel.year, history[-1].format, history[-1].published_at, changes
        )
        if changes
        else {}
    )
    case_causes = (
        changed_challenges(session, sel.scope, sel.year, history[-1].published_at, changes)
        if changes
        else {}
    )
    return render_template(
        "statistics/page.html",
        sel=sel,
        result=result,
        grid3=table3_grid(result.fmt, result.table3),
        grid4=table4_grid(result.table4),
        link3=url_for(".drill", **sel.args(table="3", cell="__KEY__")),
        link4=url_for(".drill", **sel.args(table="4", cell="__KEY__")),
        failed=failed,
        flagged={cell for check in failed for cell in check.cells},
        published=published,
        changes=changes,
        causes=causes,
        case_causes=case_causes,
        versions=history,
        intact=hash_intact(published) if published else True,
        can_publish=can_publish and published is None,
        can_correct=can_publish and published is not None,
        form=PublishForm(),
        agencies=agencies,
        formats=FORMATS,
        this_year=local_today(datetime.now(UTC)).year,
    )


def _confirmed() -> bool:
    """Whether the publisher ticked the confirmation (after the role check: a refusal
    for who they are comes before one for what they sent)."""
    if not current_user.roles & PUBLISHERS:
        raise PermissionDenied("只有审核人或管理员可以发布年度统计")
    return request.form.get("confirmed") == "1"


@bp.get("/statistics/publish/confirm")
def publish_confirm() -> str:
    """Before freezing anything: what is missing or wrong, and the figures to be stated.

    Shown for the first publication and for a correction (更正发布) of a published year,
    whose form asks for the reason. Reading it changes nothing; publishers only.
    """
    if not current_user.roles & PUBLISHERS:
        raise PermissionDenied("只有审核人或管理员可以发布年度统计")
    session = db()
    sel = parse_selection()
    if sel.agency.id != current_user.agency_id:
        raise PermissionDenied("只能发布本机关的年度统计")
    published = find_published(session, sel.scope, sel.year)
    data = load_report(session, sel.scope, sel.year, sel.fmt_override)
    return render_template(
        "statistics/confirm.html",
        sel=sel,
        data=data,
        ready=readiness(data, published),
        published=published,
        versions=versions(session, published) if published else [],
        form=PublishForm(),
        this_year=local_today(datetime.now(UTC)).year,
    )


@bp.route("/statistics/publish", methods=["POST"])
def publish_view() -> Response:
    sel = parse_selection()
    form = PublishForm()
    if not form.validate_on_submit():
        raise DomainError("表单已过期，请刷新后重试")
    if not _confirmed():
        flash("请先核对发布前检查的内容，并勾选确认后再发布", "error")
        return redirect(url_for(".publish_confirm", **sel.args()))
    session = db()
    done: dict[str, object] = {}

    def operation() -> str:
        report = publish(
            session,
            Actor.of(current_user),
            utc_now(),
            sel.scope,
            sel.year,
            sel.fmt_override,
            render=rendered_report,
        )
        frozen = frozen_pdf(session, report)
        assert frozen is not None  # publish froze it, with render given
        done.update(report_id=report.id, year=sel.year, content_hash=report.content_hash)
        return (
            f"{sel.year}年度统计已发布：数字哈希 {report.content_hash[:16]}…，"
            f"报告PDF哈希 {frozen.pdf_hash[:16]}…"
        )

    if perform_and_flash(operation, conflict=f"{sel.year}年度统计刚刚已由他人发布"):
        log("report_published", detail={**done, "scope": sel.args()})
    return redirect(url_for(".page", **sel.args()))


@bp.route("/statistics/republish", methods=["POST"])
def republish_view() -> Response:
    """Publish a published year again as a numbered correction (更正发布) with a reason."""
    sel = parse_selection()
    form = PublishForm()
    if not form.validate_on_submit():
        raise DomainError("表单已过期，请刷新后重试")
    if not _confirmed():
        flash("请先核对更正前检查的内容，并勾选确认后再更正发布", "error")
        return redirect(url_for(".publish_confirm", **sel.args()))
    session = db()

    def operation() -> str:
        row = republish(
            session,
            Actor.of(current_user),
            utc_now(),
            sel.scope,
            sel.year,
            request.form.get("reason", ""),
            render=rendered_report,
        )
        return (
            f"{sel.year}年度报告已更正发布（第{row.number}次更正）：数字哈希 "
            f"{row.content_hash[:16]}…，报告PDF哈希 {(row.pdf_hash or '')[:16]}…"
        )

    done = perform_and_flash(operation, conflict=f"{sel.year}年度报告刚刚已由他人更正发布")
    if not done:
        return redirect(url_for(".publish_confirm", **sel.args()))
    return redirect(url_for(".page", **sel.args()))


@bp.route("/statistics/drill")
def drill() -> str:
    """The requests (table 三) or cases (table 四) behind one number."""
    session = db()
    sel = parse_selection()
    table = request.args.get("table")
    # A cell key is "row.column"; outcome rows contain dots themselves.
    row, _, col = request.args.get("cell", "").rpartition(".")
    if table == "4":
        if row not in TABLE4_LAYOUT.group_keys or col not in TABLE4_LAYOUT.column_keys:
            raise NotFound("统计表中没有这个单元格")
        ids = cell_challenge_ids(session, sel.scope, sel.year, row, col)
        cases = list(session.scalars(select(Challenge).where(Challenge.id.in_(ids))))
        title = f"表四 · {TABLE4_LAYOUT.group(row).label} · {TABLE4_LAYOUT.column(col).label}"
        return render_template(
            "statistics/drill.html", sel=sel, title=title, cases=cases, requests=[]
        )
    layout = table3_layout(sel.fmt)
    ids = cell_request_ids(session, sel.scope, sel.year, sel.fmt, row, col)
    found = {r.id: r for r in session.scalars(select(Request).where(Request.id.in_(ids)))}
    title = f"表三 · {layout.row(row).label} · {layout.column(col).full_label}"
    return render_template(
        "statistics/drill.html",
        sel=sel,
        title=title,
        requests=[found[i] for i in ids],
        cases=[],
        kind_label=lambda code: KIND_BY_CODE[code].label,
        state_label=lambda value: State(value).label,
    )
