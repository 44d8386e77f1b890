"""The staff side of the portal: the "待确认收到" queue and confirming receipt.

Confirming is the agency's half of "双方确认" (Art. 31(3)): it registers the request with
the day the clerk confirms (or states) as the legal receipt date. Caseworkers of the
agency the application was made to, as for registering on paper.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from views.access import MAX_ID, require_roles
from views.common import Refused, local_time, perform, signed_in_user, utc_now
from views.database import db
from workflow.kernel.actor import Actor, local_today
from workflow.online.portal import confirm, files_of, pending, submitted_on
from workflow.requests.spec import SPEC_BY_TRIGGER

bp = Blueprint("portal_queue", __name__, url_prefix="/portal")
REGISTER_ROLES = tuple(sorted(SPEC_BY_TRIGGER["register"].roles))


class ConfirmForm(FlaskForm):
    """Only the CSRF token (checked app-wide); the receipt date is read as typed."""


@bp.before_request
@login_required
@require_roles(*REGISTER_ROLES)
def _caseworkers_only() -> None:
    """Every page here needs a signed-in caseworker."""


@bp.get("/queue")
def queue() -> str:
    rows = pending(db(), signed_in_user().agency_id)
    return render_template(
        "portal/queue.html",
        rows=rows,
        files={row.id: [f.file_name for f in files_of(db(), row.id)] for row in rows},
        today=local_today(utc_now()),
        submitted_on=submitted_on,
        local_time=local_time,
        form=ConfirmForm(),
    )


@bp.post(f"/queue/<int(max={MAX_ID}):submission_id>/confirm")
def confirm_receipt(submission_id: int) -> Response:
    me = signed_in_user()
    received = request.form.get("received_on", "")
    req = perform(
        lambda: confirm(db(), Actor.of(me), utc_now(), submission_id, received),
        conflict="该网上申请刚刚已由他人确认",
    )
    if isinstance(req, Refused):
        details = "；".join(req.field_errors.values())
        flash(f"{req}{'：' + details if details else ''}", "error")
        return redirect(url_for(".queue"), 303)
    flash(f"已确认收到并登记，编号 {req.tracking_no}（收到日期 {req.received_on}）", "success")
    return redirect(url_for("requests.detail", request_id=req.id), 303)
