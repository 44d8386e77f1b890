"""The statistics page: tables 三 and 四 in the official layout, every number a link to
the requests behind it, the seven checks, and publishing (freezing) a finished year.

Everything shown comes from ``workflow.stats_queries`` (the fast path, verified against
the fold by ``stats-verify``) and the layouts in ``workflow.report_layouts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from app import db
from models import Agency, Challenge, Request
from views.access import visible_agency_ids
from workflow.catalog.applicants import KIND_BY_CODE
from workflow.catalog.outcomes import FORMATS
from workflow.challenge_stats import cell_challenge_ids
from workflow.errors import DomainError, NotFound
from workflow.operations import Actor, local_today
from workflow.publishing import (
    PUBLISHERS,
    find_published,
    frozen_differences,
    hash_intact,
    publish,
)
from workflow.report_layouts import format_for_year, table3_layout
from workflow.report_layouts.table4 import TABLE4_LAYOUT
from workflow.states import State
from workflow.stats_queries import Scope, Statistics, cell_request_ids, derive

bp = Blueprint("statistics", __name__)


@bp.before_request
@login_required
def _login_first() -> None:
    """Every page here needs a signed-in user."""


@dataclass(frozen=True)
class Selection:
    """What the page shows: agency, year, format and whether subordinates are included."""

    agency: Agency
    year: int
    fmt: str
    fmt_override: str | None
    with_subordinates: bool

    @property
    def scope(self) -> Scope:
        return Scope.of(self.agency, self.with_subordinates)

    def args(self, **extra: Any) -> dict[str, Any]:
        base = {"agency": self.agency.code, "year": self.year}
        if self.fmt_override:
            base["format"] = self.fmt_override
        if self.with_subordinates:
            base["subs"] = 1
        return {**base, **extra}


def _selection() -> Selection:
    """Parse the query string; unknown or invisible agencies are 404, bad years the default."""
    session = db()
    visible = visible_agency_ids(current_user)
    code = request.args.get("agency") or current_user.agency.code
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None or agency.id not in visible:
        raise NotFound("机关不存在，或您无权查看其统计")
    this_year = local_today(datetime.now(UTC)).year
    text = request.args.get("year", "")
    year = (
        int(text)
        if text.isascii() and text.isdigit() and 2000 <= int(text) <= 2100
        else this_year - 1
    )
    override = request.args.get("format")
    override = override if override in FORMATS else None
    subs = request.args.get("subs") in ("1", "on", "y")
    return Selection(agency, year, format_for_year(year, override), override, subs)


def table3_rows(result: Statistics, sel: Selection) -> list[dict[str, Any]]:
    """Rows for the table macro: label cells starting on the row, then linked numbers."""
    layout = table3_layout(result.fmt)
    labels: dict[int, list[Any]] = {}
    for cell in layout.label_cells():
        labels.setdefault(cell.row, []).append(cell)
    rows = []
    for i, row in enumerate(layout.rows):
        cells = [
            (
                result.table3[row.key][col],
                url_for(".drill", **sel.args(table="3", row=row.key, col=col)),
            )
            for col in layout.column_keys
        ]
        rows.append({"labels": labels.get(i, []), "cells": cells, "key": row.key})
    return rows


def table4_cells(result: Statistics, sel: Selection) -> list[tuple[int, str]]:
    return [
        (
            result.table4[group][col],
            url_for(".drill", **sel.args(table="4", row=group, col=col)),
        )
        for group in TABLE4_LAYOUT.group_keys
        for col in TABLE4_LAYOUT.column_keys
    ]


class PublishForm(FlaskForm):
    """Only the CSRF token: what is published is what the page shows."""


@bp.route("/statistics")
def page() -> str:
    session = db()
    sel = _selection()
    result = derive(session, sel.scope, sel.year, sel.fmt_override)
    published = find_published(session, sel.scope, sel.year)
    agencies = list(
        session.scalars(
            select(Agency)
            .where(Agency.id.in_(visible_agency_ids(current_user)))
            .order_by(Agency.id)
        )
    )
    can_publish = bool(current_user.roles & PUBLISHERS) and sel.agency.id == current_user.agency_id
    return render_template(
        "statistics/page.html",
        sel=sel,
        result=result,
        layout=table3_layout(result.fmt),
        t4=TABLE4_LAYOUT,
        rows=table3_rows(result, sel),
        t4_cells=table4_cells(result, sel),
        failed=[c for c in result.checks if not c.ok],
        published=published,
        changes=frozen_differences(published, result) if published else [],
        intact=hash_intact(published) if published else True,
        can_publish=can_publish and published is None,
        form=PublishForm(),
        agencies=agencies,
        formats=FORMATS,
        this_year=local_today(datetime.now(UTC)).year,
    )


@bp.route("/statistics/publish", methods=["POST"])
def publish_view() -> Response:
    sel = _selection()
    form = PublishForm()
    if not form.validate_on_submit():
        raise DomainError("表单已过期，请刷新后重试")
    session = db()
    try:
        report = publish(
            session,
            Actor.of(current_user),
            datetime.now(UTC),
            sel.scope,
            sel.year,
            sel.fmt_override,
        )
        session.commit()
    except DomainError as exc:
        session.rollback()
        flash(str(exc), "error")
    else:
        flash(f"{sel.year}年度统计已发布，内容哈希 {report.content_hash[:16]}…", "success")
    return redirect(url_for(".page", **sel.args()))


@bp.route("/statistics/drill")
def drill() -> str:
    """The requests (table 三) or cases (table 四) behind one number."""
    session = db()
    sel = _selection()
    table, row, col = (
        request.args.get("table"),
        request.args.get("row", ""),
        request.args.get("col", ""),
    )
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
