"""Ledger upload for admins: the same all-or-nothing import as ``import-ledger``.

Rows may only name agencies the admin manages (their own and those below it); the
replay runs as an approver of each row's agency, exactly like the command line.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, flash, render_template, request
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField

from models import Agency
from views.access import require_roles, visible_agency_ids
from views.database import db
from workflow.kernel.actor import local_today
from workflow.ledger.importer import ImportReport, default_actor, import_ledger
from workflow.ledger.reader import (
    COLUMN_NAMES,
    REQUIRED_COLUMNS,
    LedgerFileError,
    RowError,
    read_ledger_bytes,
    template_csv_bytes,
    validate_rows,
)

bp = Blueprint("imports", __name__)

#: Uploads above this size are refused (a 100k-row ledger is about 20 MB as CSV).
MAX_UPLOAD = 50 * 1024 * 1024
#: Rows one upload may hold. The replay runs inside the request at 80–170 rows/s
#: (bench/RESULTS.md), and gunicorn ends a request after 30 s by default: a bigger
#: ledger would be cut off (nothing stored, but a gateway error instead of an answer).
#: Bigger ledgers go through ``python app.py import-ledger`` (progress bar with ETA).
WEB_MAX_ROWS = 2000


class LedgerForm(FlaskForm):
    file = FileField("台账文件（UTF-8 CSV 或 XLSX）", validators=[FileRequired("请选择文件")])
    dry_run = BooleanField("只检查，不写入")


@bp.before_request
@login_required
@require_roles("admin")
def _admins_only() -> None:
    """Importing rewrites an agency's history: admins only."""


def _foreign_agency_errors(report_rows: list, allowed_codes: set[str]) -> list[RowError]:
    return [
        RowError(row.line, "agency", f"无权导入机关“{row.agency}”的台账")
        for row in report_rows
        if row.agency not in allowed_codes
    ]


@bp.route("/imports/ledger", methods=["GET", "POST"])
def ledger_upload() -> tuple[str, int] | str:
    form = LedgerForm()
    report: ImportReport | None = None
    file_error: str | None = None
    status = 200
    if form.validate_on_submit():
        now = datetime.now(UTC)
        data = request.files["file"].read(MAX_UPLOAD + 1)
        try:
            if len(data) > MAX_UPLOAD:
                raise LedgerFileError("文件超过50MB，请分批导入或使用命令行 import-ledger")
            raw = read_ledger_bytes(data, request.files["file"].filename or "")
            if len(raw) > WEB_MAX_ROWS:
                raise LedgerFileError(
                    f"本文件有{len(raw)}行，网页导入每次最多{WEB_MAX_ROWS}行（约半分钟）。"
                    "请分批上传，或由系统管理员在服务器上运行 python app.py import-ledger "
                    "导入整个文件（显示进度和剩余时间，同样全部成功或全部不写入）"
                )
        except LedgerFileError as exc:
            file_error, status = str(exc), 400
        else:
            report, status = _import(raw, form.dry_run.data, now), 200
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "imports/ledger.html",
            form=form,
            report=report,
            file_error=file_error,
            columns=COLUMN_NAMES,
            required=REQUIRED_COLUMNS,
        ),
        status,
    )


def _import(raw: list, dry_run: bool, now: datetime) -> ImportReport:
    session = db()
    rows, problems = validate_rows(raw, local_today(now))
    allowed = {
        a.code
        for a in session.query(Agency).filter(Agency.id.in_(visible_agency_ids(current_user)))
    }
    foreign = _foreign_agency_errors(rows, allowed)
    rows = [r for r in rows if r.agency in allowed]
    report = import_ledger(
        session,
        rows,
        default_actor,
        now,
        dry_run,
        prior_errors=[*problems, *foreign],
        total_rows=len(raw),
    )
    if report.stored:
        session.commit()
        flash(f"已导入 {report.imported} 行：{report.state_summary()}", "success")
    else:
        session.rollback()
    return report


@bp.route("/imports/ledger/template.csv")
def ledger_template() -> Response:
    return Response(
        template_csv_bytes(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": "attachment; filename=ledger-template.csv; "
            "filename*=UTF-8''%E7%94%B3%E8%AF%B7%E5%8F%B0%E8%B4%A6%E6%A8%A1%E6%9D%BF.csv"
        },
    )
