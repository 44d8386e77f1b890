"""The reports of an agency and every agency below it, made by a background job.

A superior agency's editor starts the job for a year; its page shows the progress per
agency, the agencies whose report failed or whose checks do not hold, and then offers
the ZIP of PDFs. Only the starter and users of the job's agency or above see the job.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from jobs.report_batch import KIND, batch_path, start_report_batch
from views.access import require_roles
from views.common import utc_now
from views.job_pages import CancelForm, stop_job, visible_job
from workflow.kernel.actor import local_today

bp = Blueprint("report_batch", __name__, url_prefix="/reports/batch")

#: Who may make the reports (those who edit a report: docs/domain.md §1).
EDITORS = ("admin", "approver", "handler")


class BatchForm(FlaskForm):
    year = IntegerField(
        "报告年度",
        validators=[
            InputRequired("请填写报告年度"),
            NumberRange(2008, 2100, "报告年度应在2008年至2100年之间"),
        ],
    )


@bp.before_request
@login_required
@require_roles(*EDITORS)
def _editors_only() -> None:
    """Making reports reads every agency below: report editors only."""


@bp.route("", methods=["GET", "POST"])
def start() -> ResponseReturnValue:
    form = BatchForm()
    if form.validate_on_submit():
        assert form.year.data is not None
        job_id = start_report_batch(current_user, form.year.data)
        return redirect(url_for(".job", job_id=job_id), 303)
    if not form.is_submitted():
        form.year.data = local_today(utc_now()).year - 1
    status = 400 if form.is_submitted() else 200
    return render_template("reports/batch.html", form=form), status


@bp.get("/<job_id>")
def job(job_id: str) -> str:
    record = visible_job(job_id, KIND)
    return render_template(
        "imports/job.html",
        job=record,
        cancel=CancelForm(),
        heading="年度报告批量生成",
        unit="个机关",
        cancel_url=url_for(".cancel", job_id=record.id),
        back_url=url_for(".start"),
        download_url=url_for(".download", job_id=record.id) if record.state == "done" else None,
    )


@bp.post("/<job_id>/cancel")
def cancel(job_id: str) -> ResponseReturnValue:
    record = visible_job(job_id, KIND)
    return stop_job(record, url_for(".job", job_id=record.id), "已请求取消：不会生成文件")


@bp.get("/<job_id>.zip")
def download(job_id: str) -> Response:
    record = visible_job(job_id, KIND)
    path = batch_path(record.id)
    if record.state != "done" or not path.is_file():
        abort(404)
    return send_file(
        path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"annual-reports-{record.id[:8]}.zip",
    )
