"""The public portal: apply online and follow the application (no account needed).

Handlers parse, call one ``workflow.online.portal`` operation and commit once, like the staff
pages. Abuse is bounded without accounts: submissions and failed status look-ups are
counted per address in a sliding window (``workflow.store.rate_limits``, shared by every
worker and machine through the database or Redis), failed look-ups also per application
number (so many addresses cannot take turns guessing one number's 查询码), and
a honeypot field that people never see (but form-filling robots do) refuses the form.
Every form carries the CSRF token (checked app-wide before any view runs); the 查询码
travels in a POST body, never in a URL.
"""

from __future__ import annotations

import math
import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField

from models import Agency
from views.access import MAX_ID
from views.common import Refused, perform, perform_and_flash, utc_now
from views.database import db
from views.forms import PayloadForm, apply_errors, build_form, submit_form
from views.notices import pdf_response
from views.rate_limits import client_address, counters
from workflow.kernel.errors import NotFound, ValidationError
from workflow.online.follow_up import answer_supplement, check_code, open_notice, status, withdraw
from workflow.online.portal import PORTAL_FIELDS, WRONG_CODE, submit

bp = Blueprint("portal", __name__, url_prefix="/apply")

#: Name of the honeypot input (hidden from people by CSS, left empty by them).
HONEYPOT = "website"
#: Defaults of ``PORTAL_MAX_SUBMISSIONS`` per hour and ``PORTAL_MAX_LOOKUPS`` failed
#: status look-ups per 15 minutes, per client address.
MAX_SUBMISSIONS = 5
MAX_LOOKUPS = 10
#: The visitor's session key holding the submission opened with its 查询码, and how long.
GRANT = "portal_submission"
GRANT_MINUTES = 30


class StatusForm(FlaskForm):
    number = StringField("申请编号", render_kw={"maxlength": 32, "autocomplete": "off"})
    code = PasswordField("查询码", render_kw={"maxlength": 32, "autocomplete": "off"})


#: Windows of the two limits, in seconds.
SUBMIT_WINDOW = 3600
LOOKUP_WINDOW = 15 * 60


def _wait_message(
    scope: str, key: str, setting: str, default: int, window: float, what: str
) -> str | None:
    limit = int(current_app.config.get(setting, default))
    wait = counters().wait(scope, key, limit, window)
    return f"{what}过于频繁，请{max(1, math.ceil(wait / 60))}分钟后再试" if wait > 0 else None


def _agency(code: str) -> Agency:
    agency = db().scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise NotFound("没有这个机关")
    return agency


@bp.get("")
def index() -> str:
    agencies = db().scalars(select(Agency).order_by(Agency.id))
    return render_template("portal/index.html", agencies=list(agencies), form=StatusForm())


def _form() -> PayloadForm:
    return build_form(PORTAL_FIELDS)


@bp.route("/<code>", methods=["GET", "POST"])
def apply(code: str) -> str | tuple[str, int]:
    """The application form of one agency; on success the number and 查询码, once."""
    agency = _agency(code)
    form = _form()
    if request.method == "GET":
        return render_template("portal/apply.html", agency=agency, form=form, honeypot=HONEYPOT)
    address = client_address()
    refusal = _wait_message(
        "portal-apply", address, "PORTAL_MAX_SUBMISSIONS", MAX_SUBMISSIONS, SUBMIT_WINDOW, "提交"
    )
    if request.form.get(HONEYPOT):
        refusal = "提交未被接受，请勿填写隐藏的字段"
    if refusal is not None:
        apply_errors(form, {}, [refusal])
        page = render_template("portal/apply.html", agency=agency, form=form, honeypot=HONEYPOT)
        return page, 429 if "频繁" in refusal else 400
    done, status = submit_form(form, lambda: submit(db(), agency, form.raw(), utc_now()))
    if done is None:
        page = render_template("portal/apply.html", agency=agency, form=form, honeypot=HONEYPOT)
        return page, status
    counters().hit("portal-apply", address, SUBMIT_WINDOW)  # counts submissions
    return render_template("portal/submitted.html", agency=agency, done=done)


@bp.route("/status", methods=["GET", "POST"])
def status_page() -> str | tuple[str, int]:
    """Status by number and 查询码; a wrong pair never says whether the number exists.

    A right pair opens the submission for this visit (``GRANT``, for ``GRANT_MINUTES``),
    so the applicant can download notices, answer a 补正 or withdraw without retyping.
    """
    form = StatusForm()
    if request.method == "GET":
        granted = _granted()
        found = status(db(), granted) if granted is not None else None
        return render_template("portal/status.html", form=form, found=found, error=None)
    address = client_address()
    # The number as typed, cut: it only keys a counter (hashed), it is never stored.
    number = request.form.get("number", "").strip().upper()[:32]
    limits = (("portal-status", address), ("portal-status-number", number))
    error = None
    for scope, key in limits:
        error = error or _wait_message(
            scope, key, "PORTAL_MAX_LOOKUPS", MAX_LOOKUPS, LOOKUP_WINDOW, "查询"
        )
    found = None
    if error is None:
        try:
            submission_id = check_code(
                db(), request.form.get("number", ""), request.form.get("code", "")
            )
        except ValidationError:
            for scope, key in limits:
                counters().hit(scope, key, LOOKUP_WINDOW)
            error = WRONG_CODE
        else:
            session[GRANT] = {"id": submission_id, "at": time.time()}
            found = status(db(), submission_id)
    code = 200 if found else 429 if error and "频繁" in error else 400
    return render_template("portal/status.html", form=form, found=found, error=error), code


@bp.get(f"/status/notices/<int(max={MAX_ID}):notice_id>.pdf")
def notice_pdf(notice_id: int) -> Response:
    """A notice of the opened submission; the first opening serves it (electronic service)."""
    granted = _require_grant()
    notice = perform(lambda: open_notice(db(), granted, notice_id, utc_now()))
    if isinstance(notice, Refused):
        abort(notice.status)
    response = pdf_response(notice)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/status/supplement")
def answer_supplement_page() -> Response:
    """The applicant's 补正, in words, received today."""
    granted = _require_grant()
    text = request.form.get("note", "")

    def answer() -> str:
        answer_supplement(db(), granted, text, utc_now())
        return "补正材料已提交，机关已收到"

    perform_and_flash(answer, refused="补正未提交：")
    return redirect(url_for("portal.status_page"), 303)


@bp.post("/status/withdraw")
def withdraw_page() -> Response:
    """Withdraw the request (the box must be ticked: it ends the request)."""
    granted = _require_grant()
    if request.form.get("confirm") != "yes":
        flash("撤回未办理：请勾选“确认撤回本申请”", "error")
        return redirect(url_for("portal.status_page"), 303)
    reason = request.form.get("reason", "")

    def end() -> str:
        withdraw(db(), granted, reason, utc_now())
        return "申请已撤回，办理终止"

    perform_and_flash(end, refused="撤回未办理：")
    return redirect(url_for("portal.status_page"), 303)


@bp.post("/status/leave")
def leave() -> Response:
    """End the visit's access to the submission (on a shared computer)."""
    session.pop(GRANT, None)
    return redirect(url_for("portal.status_page"), 303)


def _granted() -> int | None:
    grant = session.get(GRANT)
    if not isinstance(grant, dict) or time.time() - float(grant.get("at", 0)) > GRANT_MINUTES * 60:
        session.pop(GRANT, None)
        return None
    return int(grant["id"])


def _require_grant() -> int:
    granted = _granted()
    if granted is None:
        abort(404)
    return granted
