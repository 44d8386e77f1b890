"""The annual report: the editor (narrative, table 二, checks, preview) and the downloads.

``/reports`` shows one report (agency, year, with or without subordinates — the same
query string as the statistics page): every check of docs/domain.md §6 with failures highlighted,
the draft form for staff of the agency (narrative sections 一、五、六 with the derived
sentences to insert, table 二 in the format's layout, issuing office and date), and a
preview of the three tables drawn by the same grids as the PDF and the XLSX.
``/reports/pdf`` and ``/reports/xlsx`` download them; ``/reports/pdf?frozen=1`` the PDF
frozen at publication.

Inserting a sentence works without JavaScript: the button posts the form, the sentence
is appended server-side and the form comes back unsaved, to be checked and saved.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectField, StringField, TextAreaField

from documents.fonts import pdf_font
from documents.grid import report_grids
from documents.notices_pdf import cn_date
from documents.report_pdf import render_report_pdf
from documents.report_xlsx import render_report_xlsx
from models import Agency
from views.access import visible_agency_ids
from views.common import Refused, perform, positive_int, utc_now
from views.database import db
from views.selection import Selection, parse_selection
from workflow.annual_report.archive import frozen_pdf, pdf_hash
from workflow.annual_report.narrative import SECTIONS
from workflow.annual_report.publishing import (
    find_published,
    frozen_differences,
    frozen_version_pdf,
)
from workflow.annual_report.report import (
    MAX_ISSUER,
    MAX_NARRATIVE,
    NARRATIVE_FIELDS,
    TABLE2_PREFIX,
    ReportData,
    can_edit,
    load_report,
    parse_draft,
    report_title,
    save_draft,
    table2_values,
)
from workflow.catalog.outcomes import FORMATS
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.errors import NotFound, PermissionDenied
from workflow.statistics.fold import Check, Table2Value
from workflow.statistics.layouts import format_for_year, table2_layout

bp = Blueprint("reports", __name__)

#: Help under each narrative field.
NARRATIVE_HELP: dict[str, str] = {
    "overview": "可插入下方的统计语句，保证叙述与表格数字一致（规则7）。",
    "problems": "",
    "other_matters": "留空则自动填写本年度信息处理费收取情况。",
}


@bp.before_request
@login_required
def _login_first() -> None:
    """Every page of this blueprint needs a signed-in user."""


class DraftForm(FlaskForm):
    """The draft's fixed fields; table 二 inputs are generated from the layout."""

    format = SelectField("报表格式", validate_choice=False)
    overview = TextAreaField(SECTIONS["overview"], render_kw={"rows": 10})
    problems = TextAreaField(SECTIONS["problems"], render_kw={"rows": 8})
    other_matters = TextAreaField(SECTIONS["other_matters"], render_kw={"rows": 4})
    issuer = StringField("发布机关（落款）", render_kw={"maxlength": MAX_ISSUER})
    issued_on = StringField("落款日期", render_kw={"type": "date"})
    version = HiddenField()
    shown_format = HiddenField()


def _draft_form(data: ReportData, posted: bool) -> DraftForm:
    """The form, filled from the saved draft (GET) or bound to what was posted."""
    draft = data.draft
    initial: dict[str, Any] = {
        "format": (draft.format if draft else None) or "",
        "issuer": draft.issuer if draft else "",
        "issued_on": draft.issued_on.isoformat() if draft and draft.issued_on else "",
        "version": str(draft.version if draft else 0),
        "shown_format": data.report.fmt,
        **{name: getattr(draft, name) if draft else "" for name in NARRATIVE_FIELDS},
    }
    form = DraftForm(formdata=request.form if posted else None, data=initial)
    default = format_for_year(data.report.year)
    form.format.choices = [("", f"按年度（{default}年格式）")] + [
        (f, f"{f}年格式") for f in FORMATS
    ]
    for name in NARRATIVE_FIELDS:
        form[name].render_kw = {**(form[name].render_kw or {}), "maxlength": MAX_NARRATIVE}
        form[name].description = NARRATIVE_HELP[name]
    return form


def _table2_inputs(data: ReportData, posted: bool) -> dict[str, str]:
    """Table 二 input texts: as posted (to show mistakes as typed) or as saved."""
    layout = table2_layout(data.report.fmt)
    if posted:
        return {c.key: request.form.get(TABLE2_PREFIX + c.key, "") for c in layout.cells}
    saved = data.report.table2
    return {c.key: table2_values.display(c.kind, saved.get(c.key)) for c in layout.cells}


@dataclass(frozen=True)
class PublishedView:
    """What the page says about a publication of this report."""

    published_at: datetime
    content_hash: str
    pdf_hash: str | None
    fresh_hash: str
    numbers_changed: int

    @property
    def pdf_differs(self) -> bool:
        return self.pdf_hash is not None and self.pdf_hash != self.fresh_hash


def _published_view(sel: Selection, data: ReportData) -> PublishedView | None:
    session = db()
    published = find_published(session, sel.scope, sel.year)
    if published is None:
        return None
    frozen = frozen_pdf(session, published)
    return PublishedView(
        published.published_at,
        published.content_hash,
        frozen.pdf_hash if frozen else None,
        pdf_hash(render_report_pdf(data.report)),
        len(frozen_differences(published, data.statistics)),
    )


def _texts(form: DraftForm) -> dict[str, str]:
    return {name: form[name].data or "" for name in NARRATIVE_FIELDS}


def _screen_table2(data: ReportData, inputs: Mapping[str, str]) -> dict[str, Table2Value]:
    """Table 二 as on the screen, for the checks and the preview (blank where invalid)."""
    values, _errors = table2_values.parse_table2(data.report.fmt, inputs)
    return values


def _insert(form: DraftForm, data: ReportData, target: str) -> str | None:
    """Append a derived sentence to a narrative field; the notice to show, or None."""
    field_name, _, key = target.partition(":")
    sentence = next((s for s in data.sentences if s.key == key), None)
    if field_name not in NARRATIVE_FIELDS or sentence is None:
        return None
    current = (form[field_name].data or "").rstrip()
    form[field_name].data = f"{current}\n{sentence.text}" if current else sentence.text
    return f"已在“{SECTIONS[field_name]}”末尾插入统计语句，请核对后保存。"


def _agencies() -> list[Agency]:
    return list(
        db().scalars(
            select(Agency)
            .where(Agency.id.in_(visible_agency_ids(current_user)))
            .order_by(Agency.id)
        )
    )


@bp.route("/reports", methods=["GET", "POST"])
def editor() -> Response | tuple[str, int]:
    session = db()
    sel = parse_selection()
    actor = Actor.of(current_user)
    editable = can_edit(actor, sel.scope)
    posted = request.method == "POST"
    if posted and not editable:
        raise PermissionDenied("只有本机关的管理员、审核人或承办人可以编辑年度报告")
    data = load_report(session, sel.scope, sel.year, sel.fmt_override)
    form = _draft_form(data, posted)
    inputs = _table2_inputs(data, posted)
    errors: dict[str, str] = {}
    general: list[str] = []
    notice = None
    status = 200
    if posted and request.form.get("insert"):
        notice = _insert(form, data, request.form["insert"])
    elif posted:
        shown = form.shown_format.data if form.shown_format.data in FORMATS else data.report.fmt
        version_text = form.version.data or ""
        version = int(version_text) if version_text.isascii() and version_text.isdigit() else -1
        result = perform(
            lambda: save_draft(
                session,
                actor,
                utc_now(),
                sel.scope,
                sel.year,
                parse_draft(request.form, shown),
                version,
            ),
            conflict="年度报告已被他人修改，未保存。请刷新页面后重新编辑。",
        )
        if not isinstance(result, Refused):
            flash("年度报告已保存", "success")
            return redirect(url_for(".editor", **sel.args()))
        errors, general, status = dict(result.field_errors), list(result.messages), result.status
        if status == 409:
            data = load_report(session, sel.scope, sel.year, sel.fmt_override)
            form.version.data = str(data.draft.version if data.draft else 0)
    for name, message in errors.items():
        if name in form and not name.startswith(TABLE2_PREFIX):
            form[name].errors = [message]
    table2_errors = {
        k.removeprefix(TABLE2_PREFIX): v for k, v in errors.items() if k.startswith(TABLE2_PREFIX)
    }
    screen_table2 = _screen_table2(data, inputs) if posted else data.report.table2
    checks: list[Check] = data.checks(_texts(form) if posted else None, screen_table2)
    failed = [c for c in checks if not c.ok]
    flagged = {cell for c in failed for cell in c.cells}
    report = data.report
    return render_template(
        "reports/editor.html",
        sel=sel,
        data=data,
        report=report,
        form=form,
        editable=editable,
        inputs=inputs,
        table2_errors=table2_errors,
        general_errors=general,
        notice=notice,
        checks=checks,
        failed=failed,
        flagged=flagged,
        grids=report_grids(report.fmt, screen_table2, report.table3, report.table4),
        missing=table2_values.missing(report.fmt, screen_table2),
        published=_published_view(sel, data),
        agencies=_agencies(),
        this_year=local_today(utc_now()).year,
        font=pdf_font(),
        narrative_fields=NARRATIVE_FIELDS,
        sections=SECTIONS,
        table2_prefix=TABLE2_PREFIX,
        cn_date=cn_date,
    ), status


def _download(content: bytes, filename: str, mimetype: str) -> Response:
    """An attachment; a Chinese filename is sent per RFC 5987 (filename*=UTF-8'')."""
    return send_file(
        io.BytesIO(content),
        mimetype=mimetype,
        as_attachment=True,
        download_name=filename,
        max_age=0,
    )


@bp.get("/reports/pdf")
def pdf() -> Response:
    """The report as PDF, freshly rendered; ``frozen=1`` the one frozen at publication."""
    session = db()
    sel = parse_selection()
    if request.args.get("frozen"):
        published = find_published(session, sel.scope, sel.year)
        version = positive_int(request.args.get("version"), 1) or 1
        content = frozen_version_pdf(session, published, version) if published else None
        if content is None:
            raise NotFound(f"{sel.year}年度报告尚未发布，或没有这个发布版本的PDF")
        name = (published.agency_name if published else None) or sel.agency.name
        title = report_title(name, sel.year)
        label = "已发布" if version == 1 else f"更正发布第{version - 1}次"
        return _download(content, f"{title}（{label}）.pdf", "application/pdf")
    report = load_report(session, sel.scope, sel.year, sel.fmt_override).report
    return _download(render_report_pdf(report), f"{report.title}.pdf", "application/pdf")


@bp.get("/reports/xlsx")
def xlsx() -> Response:
    """Tables 二 三 四 as a workbook, one sheet each."""
    session = db()
    sel = parse_selection()
    data = load_report(session, sel.scope, sel.year, sel.fmt_override)
    return _download(
        render_report_xlsx(data.report),
        f"{data.report.title}（表二至表四）.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
