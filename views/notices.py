"""The notices (文书): issue one, download the stored PDF, record its service date.

Handlers follow the request pages' shape: load and check access, call one operation
from ``workflow.notices.operations``, commit once. A refusal the clerk can act on (already
issued, a date out of range) is flashed on the request page the buttons live on;
access problems are 403 / 404 pages. The download serves the stored bytes, so a reprint
is identical to what was sent, and the content hash doubles as the ETag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from flask import Blueprint, redirect, request, url_for
from flask_login import login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from documents.notices_pdf import render_notice
from models import Event, Notice, Request, User
from models.file_store import open_file_store
from views.access import MAX_ID, load_request_for, require_roles
from views.common import local_time, perform_and_flash, signed_in_user, utc_now
from views.database import db
from workflow.catalog.notices import NOTICE_KIND_BY_CODE, NoticeKind
from workflow.catalog.outcomes import OUTCOME_BY_CODE
from workflow.challenges.remedies import RemedyDeadlines
from workflow.kernel.actor import Actor
from workflow.kernel.errors import NotFound
from workflow.notices.operations import (
    NOTICE_ROLES,
    issuable_notices,
    issue_notice,
    notices_of,
    record_service,
    remedy_deadlines,
    reply_served_on,
)
from workflow.store.calendar import load_calendar

bp = Blueprint("notices", __name__)


@bp.before_request
@login_required
def _login_first() -> None:
    """Every page of this blueprint needs a signed-in user."""


def _back(req_id: int) -> Response:
    """Back to the request page's documents panel (303: the POST is done)."""
    return redirect(url_for("requests.detail", request_id=req_id) + "#documents", 303)


def load_notice(user: User, notice_id: int, *, write: bool) -> tuple[Notice, Request]:
    """The notice if ``user`` may see its request (404 otherwise, as for requests)."""
    notice = db().get(Notice, notice_id) if 0 < notice_id <= MAX_ID else None
    if notice is None:
        raise NotFound("文书不存在，或您无权查看")
    return notice, load_request_for(user, notice.request_id, write=write)


def notice_label(notice: Notice) -> str:
    """The kind's name, and for a reply the outcome it states: 答复书（不予公开·…）."""
    kind = NOTICE_KIND_BY_CODE[notice.kind]
    outcome = OUTCOME_BY_CODE.get(notice.outcome or "")
    return f"{kind.label}（{outcome.short}）" if outcome else kind.label


@bp.post(f"/requests/<int(max={MAX_ID}):request_id>/notices")
@require_roles(*sorted(NOTICE_ROLES))
def issue(request_id: int) -> Response:
    """Issue the notice of the posted kind for the request's latest fitting event."""
    me = signed_in_user()
    req = load_request_for(me, request_id, write=True)

    def operation() -> str:
        notice = issue_notice(
            db(),
            Actor.of(me),
            utc_now(),
            req,
            request.form.get("kind", ""),
            render=render_notice,
            store=open_file_store(),
        )
        return f"已出具{notice_label(notice)}，文号 {notice.number}"

    perform_and_flash(operation, conflict="文书刚刚已由他人更新，请刷新页面后查看")
    return _back(req.id)


@bp.get(f"/notices/<int(max={MAX_ID}):notice_id>.pdf")
def download(notice_id: int) -> Response:
    """The PDF exactly as issued (anyone who may read the request may read its notices)."""
    notice, _req = load_notice(signed_in_user(), notice_id, write=False)
    return pdf_response(notice)


def pdf_response(notice: Notice) -> Response:
    """The stored PDF with its name, ETag (the content hash) and conditional answers."""
    name = f"{notice.number}{NOTICE_KIND_BY_CODE[notice.kind].label}.pdf"
    fallback = f"notice-{notice.year}-{notice.serial}.pdf"
    response = Response(notice.content, mimetype="application/pdf")
    # RFC 6266 / RFC 5987: an ASCII name for old clients, the Chinese one for the rest.
    response.headers["Content-Disposition"] = (
        f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    )
    # A notice names the applicant: never stored by a browser or proxy (app.py sets
    # no-store on every page); the ETag still spares a re-download within one view.
    response.set_etag(notice.content_hash)
    return response.make_conditional(request)


@bp.post(f"/notices/<int(max={MAX_ID}):notice_id>/served")
@require_roles(*sorted(NOTICE_ROLES))
def served(notice_id: int) -> Response:
    """Record the day the notice reached its addressee (once; the remedy clock starts)."""
    me = signed_in_user()
    notice, req = load_notice(me, notice_id, write=True)

    def operation() -> str:
        served_on = request.form.get("served_on", "")
        record_service(db(), Actor.of(me), utc_now(), notice, served_on)
        return f"已记录{notice.number}的送达日期：{notice.served_on}"

    perform_and_flash(operation, conflict="文书刚刚已由他人更新，请刷新页面后查看")
    return _back(req.id)


# --------------------------------------------------------------------------- the panel


@dataclass(frozen=True)
class NoticeRow:
    notice: Notice
    label: str
    issued: str
    issuer: str
    url: str
    #: Where to post the service date; None when already served or the user only reads.
    serve_url: str | None


@dataclass(frozen=True)
class DocumentsPanel:
    """The request page's 文书 card: issued notices, what may be issued, remedy dates."""

    rows: list[NoticeRow]
    issuable: list[tuple[NoticeKind, Event]]
    issue_url: str
    remedies: RemedyDeadlines | None
    #: Whether ``remedies`` counts from a recorded service date (else the reply date).
    served: bool
    today: date


def documents_panel(
    session: Session,
    req: Request,
    events: list[Event],
    user: User,
    today: date,
    *,
    read_only: bool,
) -> DocumentsPanel:
    """Everything the panel shows; buttons only for staff who may act on the request."""
    notices = notices_of(session, req)
    can_act = not read_only and bool(user.roles & NOTICE_ROLES)
    rows = [
        NoticeRow(
            notice=n,
            label=notice_label(n),
            issued=local_time(n.issued_at),
            issuer=n.issued_by.display_name if n.issued_by else "系统",
            url=url_for("notices.download", notice_id=n.id),
            serve_url=url_for("notices.served", notice_id=n.id)
            if can_act and n.served_on is None
            else None,
        )
        for n in notices
    ]
    return DocumentsPanel(
        rows=rows,
        issuable=issuable_notices(req, events, notices, user.roles) if can_act else [],
        issue_url=url_for("notices.issue", request_id=req.id),
        remedies=remedy_deadlines(events, notices, load_calendar(session)),
        served=reply_served_on(events, notices) is not None,
        today=today,
    )
