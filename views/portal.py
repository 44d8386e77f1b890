"""The public portal: apply online and follow the application (no account needed).

Handlers parse, call one ``workflow.online.portal`` operation and commit once, like the staff
pages. Abuse is bounded without accounts: submissions and failed status look-ups are
counted per address in a sliding window (``workflow.store.rate_limits``, shared by every
worker and machine through the database or Redis), failed look-ups also per application
number (so many addresses cannot take turns guessing one number's 查询码), and
a honeypot field that people never see (but form-filling robots do) refuses the form.
Both hold for the multipart forms that carry files as for plain ones, and are checked
before any file is looked at. Files are bounded twice: the body of a form is refused
before it is read when larger than the settings' total (``_limit_body``, a Chinese 413
page), and the domain checks each file, the count and the total
(``workflow.attachments.uploads``), storing nothing unless everything passes.
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
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField

import settings
from models import Agency
from models.file_store import FileStore, open_file_store
from views.access import MAX_ID
from views.common import Refused, perform, perform_and_flash, utc_now
from views.database import db
from views.forms import PayloadForm, apply_errors, build_form, show_refusal
from views.notices import pdf_response
from views.rate_limits import client_address, counters
from workflow.attachments.uploads import Upload, UploadLimits
from workflow.catalog.attachments import (
    ACCEPTED_TYPES_LABEL,
    ATTACHMENT_KIND_BY_CODE,
    PORTAL_SUPPLEMENT_KIND,
)
from workflow.kernel.errors import NotFound, ValidationError
from workflow.online.follow_up import answer_supplement, check_code, open_notice, status, withdraw
from workflow.online.portal import (
    APPLICATION_FILE_FIELDS,
    PORTAL_FIELDS,
    SUPPLEMENT_FILE_FIELD,
    WRONG_CODE,
    submit,
)

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


#: Room for a form's text fields beyond its files, in the body limit.
TEXT_ALLOWANCE = 1024 * 1024


def _limits() -> UploadLimits:
    """The deployment's file limits: per file as for staff uploads, plus the portal's."""
    return UploadLimits(
        max_bytes=settings.attachment_max_bytes(),
        max_files=settings.portal_max_files(),
        max_total_bytes=settings.portal_upload_max_bytes(),
    )


def _uploads(fields: tuple[tuple[str, str], ...]) -> list[Upload]:
    """The files the form sent, per input (an input left empty sends a nameless, empty
    part: no file)."""
    found = [
        Upload(field, kind, sent.filename or "", sent.read())
        for field, kind in fields
        for sent in request.files.getlist(field)
    ]
    return [upload for upload in found if upload.name or upload.data]


def _keeping(files: list[Upload]) -> tuple[FileStore | None, UploadLimits | None]:
    """The store and the limits, opened only when files came (an S3 store is a client)."""
    return (open_file_store(), _limits()) if files else (None, None)


def _file_hints() -> dict[str, object]:
    """What the pages say about files: the inputs with their kinds, types and limits."""
    limits = _limits()
    return {
        "file_fields": [(f, ATTACHMENT_KIND_BY_CODE[k]) for f, k in APPLICATION_FILE_FIELDS],
        "supplement_field": SUPPLEMENT_FILE_FIELD,
        "accepted": ACCEPTED_TYPES_LABEL,
        "max_mb": limits.max_bytes // 1048576,
        "max_files": limits.max_files,
        "max_total_mb": limits.max_total_bytes // 1048576,
    }


@bp.url_value_preprocessor
def _limit_body(_endpoint: str | None, _values: dict[str, object] | None) -> None:
    """Refuse a portal form larger than its files may be before anything reads it.

    URL value preprocessors run before every ``before_request`` function, so before the
    app-wide CSRF check, which is the first to read the form."""
    request.max_content_length = settings.portal_upload_max_bytes() + TEXT_ALLOWANCE


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_err: RequestEntityTooLarge) -> tuple[str, int]:
    hints = _file_hints()
    message = (
        f"提交的内容过大，未被接受：一次提交的文件合计不能超过 {hints['max_total_mb']} MB，"
        f"单个文件不能超过 {hints['max_mb']} MB。请返回上一页，减少或压缩文件后重新提交。"
    )
    return render_template("error.html", status=413, message=message), 413


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
    hints = _file_hints()
    if request.method == "GET":
        return render_template(
            "portal/apply.html", agency=agency, form=form, honeypot=HONEYPOT, **hints
        )
    address = client_address()
    refusal = _wait_message(
        "portal-apply", address, "PORTAL_MAX_SUBMISSIONS", MAX_SUBMISSIONS, SUBMIT_WINDOW, "提交"
    )
    if request.form.get(HONEYPOT):
        refusal = "提交未被接受，请勿填写隐藏的字段"
    if refusal is not None:
        apply_errors(form, {}, [refusal])
        page = render_template(
            "portal/apply.html", agency=agency, form=form, honeypot=HONEYPOT, **hints
        )
        return page, 429 if "频繁" in refusal else 400
    files = _uploads(APPLICATION_FILE_FIELDS)
    done = perform(lambda: submit(db(), agency, form.raw(), utc_now(), files, *_keeping(files)))
    if isinstance(done, Refused):
        show_refusal(form, done)
        # A file's problem is shown at its input, not again in the box at the top.
        file_errors = {
            f: done.field_errors[f] for f, _ in APPLICATION_FILE_FIELDS if f in done.field_errors
        }
        form.general_errors = [m for m in form.general_errors if m not in file_errors.values()]
        page = render_template(
            "portal/apply.html",
            agency=agency,
            form=form,
            honeypot=HONEYPOT,
            file_errors=file_errors,
            **hints,
        )
        return page, done.status
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
        return render_template(
            "portal/status.html", form=form, found=found, error=None, **_file_hints()
        )
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
    page = render_template(
        "portal/status.html", form=form, found=found, error=error, **_file_hints()
    )
    return page, code


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
    """The applicant's 补正, in words and/or files, received today."""
    granted = _require_grant()
    text = request.form.get("note", "")
    files = _uploads(((SUPPLEMENT_FILE_FIELD, PORTAL_SUPPLEMENT_KIND),))

    result = perform(
        lambda: answer_supplement(db(), granted, text, utc_now(), files, *_keeping(files))
    )
    if isinstance(result, Refused):
        flash("；".join(["补正未提交：" + str(result), *result.field_errors.values()]), "error")
    else:
        sent = f"（含{len(files)}个文件）" if files else ""
        flash(f"补正材料已提交{sent}，机关已收到", "success")
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
