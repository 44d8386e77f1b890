"""Ledger upload for admins: the same all-or-nothing import as ``import-ledger``, as a job.

The upload is stored and imported by a background job (``jobs``), so a file of any size
(up to the limits) is taken; the job's page shows its progress and result. Rows may only
name agencies the admin manages (their own and those below it); every event is recorded
as the uploading admin's import of this file (``ImportSource``).
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField

from jobs.tasks import LEDGER_IMPORT, nightly_result, start_ledger_import
from views.access import require_roles
from views.job_pages import CancelForm, stop_job, visible_job
from views.security import log
from workflow.ledger.reader import LEDGER_COLUMNS, template_csv_bytes, template_xlsx_bytes

bp = Blueprint("imports", __name__)

#: Uploads above this size are refused (a 100k-row ledger is about 20 MB as CSV); the
#: job refuses more than ``jobs.tasks.MAX_ROWS`` rows.
MAX_UPLOAD = 50 * 1024 * 1024


class LedgerForm(FlaskForm):
    file = FileField("台账文件（CSV 或 XLSX，最大50MB）", validators=[FileRequired("请选择文件")])
    dry_run = BooleanField("只检查，不写入")


@bp.before_request
@login_required
@require_roles("admin")
def _admins_only() -> None:
    """Importing rewrites an agency's history: admins only."""


@bp.route("/imports/ledger", methods=["GET", "POST"])
def ledger_upload() -> ResponseReturnValue:
    """Store the file and start the import job; its page shows progress and the result."""
    form = LedgerForm()
    file_error: str | None = None
    status = 200
    if form.validate_on_submit():
        data = request.files["file"].read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            file_error, status = "文件超过50MB，请分批导入或使用命令行 import-ledger", 400
        else:
            name = request.files["file"].filename or "ledger"
            job_id = start_ledger_import(data, name, current_user, bool(form.dry_run.data))
            log(
                "ledger_imported",
                detail={
                    "job": job_id,
                    "file": name,
                    "bytes": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "dry_run": bool(form.dry_run.data),
                },
            )
            return redirect(url_for(".job", job_id=job_id), 303)
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "imports/ledger.html",
            form=form,
            file_error=file_error,
            columns=LEDGER_COLUMNS,
            nightly=nightly_result(),
        ),
        status,
    )


@bp.get("/imports/jobs/<job_id>")
def job(job_id: str) -> str:
    """Progress (rows, rate, time left), then the errors or the result; refreshes itself
    while the job runs, so it works without JavaScript."""
    record = visible_job(job_id, LEDGER_IMPORT)
    return render_template("imports/job.html", job=record, cancel=CancelForm())


@bp.post("/imports/jobs/<job_id>/cancel")
def cancel_job(job_id: str) -> ResponseReturnValue:
    record = visible_job(job_id, LEDGER_IMPORT)
    page = url_for(".job", job_id=record.id)
    return stop_job(record, page, "已请求取消：导入将回滚，不写入任何数据")


@bp.route("/imports/ledger/template.xlsx")
def ledger_template_xlsx() -> Response:
    return Response(
        template_xlsx_bytes(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": "attachment; filename=ledger-template.xlsx; "
            "filename*=UTF-8''%E7%94%B3%E8%AF%B7%E5%8F%B0%E8%B4%A6%E6%A8%A1%E6%9D%BF.xlsx"
        },
    )


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
