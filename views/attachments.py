"""Attachments: file one with a request (or one of its events), download it.

The upload is a plain multipart form on the request page (no JavaScript); the handler
parses it, calls ``workflow.attachments.operations.attach`` once and commits once. The
download is for anyone who may read the request (404 otherwise, as for requests), served
as the type found from the content at upload, always as an attachment (never displayed
inline, so no uploaded file runs in the application's origin), with ``nosniff`` (set for
every response in ``app.py``) and the hash as its ETag.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

import settings
from models import Attachment, Event, Request, User
from models.file_store import StoredFileDamaged, StoredFileMissing, open_file_store
from views.access import MAX_ID, load_request_for, require_roles
from views.common import Refused, local_time, perform, signed_in_user, utc_now
from views.database import db
from workflow.attachments.operations import (
    ATTACH_ROLES,
    attach,
    attachments_of,
    content_type_of,
)
from workflow.catalog.attachments import (
    ACCEPTED_TYPES_LABEL,
    ATTACHMENT_KIND_BY_CODE,
    ATTACHMENT_KINDS,
    FILE_TYPE_BY_CODE,
    AttachmentKind,
)
from workflow.kernel.actor import Actor
from workflow.kernel.errors import NotFound
from workflow.online.follow_up import APPLICANT_ONLINE_LABEL
from workflow.requests.spec import TRIGGER_LABELS

bp = Blueprint("attachments", __name__)


@bp.before_request
@login_required
def _login_first() -> None:
    """Every page of this blueprint needs a signed-in user."""


def _back(req_id: int) -> Response:
    return redirect(url_for("requests.detail", request_id=req_id) + "#attachments", 303)


@bp.post(f"/requests/<int(max={MAX_ID}):request_id>/attachments")
@require_roles(*sorted(ATTACH_ROLES))
def upload(request_id: int) -> Response:
    """File the posted file with the request (caseworkers of its own agency)."""
    me = signed_in_user()
    req = load_request_for(me, request_id, write=True)
    sent = request.files.get("file")
    data = sent.read() if sent is not None else b""
    name = (sent.filename or "") if sent is not None else ""

    def operation() -> Attachment:
        return attach(
            db(),
            Actor.of(me),
            utc_now(),
            req,
            request.form,
            name,
            data,
            open_file_store(),
            max_bytes=settings.attachment_max_bytes(),
        )

    result = perform(operation, conflict="附件没有保存，请重新上传")
    if isinstance(result, Refused):
        flash("；".join([*result.messages, *result.field_errors.values()]), "error")
    else:
        kind = ATTACHMENT_KIND_BY_CODE[result.kind].label
        flash(f"已上传{kind}：{result.file_name}", "success")
    return _back(req.id)


def load_attachment(user: User, attachment_id: int) -> Attachment:
    """The attachment if ``user`` may read its request (404 otherwise, as for requests);
    the page and the API (``views.api.attachments``) load through it."""
    row = db().get(Attachment, attachment_id) if 0 < attachment_id <= MAX_ID else None
    if row is None:
        raise NotFound("附件不存在，或您无权查看")
    load_request_for(user, row.request_id, write=False)
    return row


def attachment_response(row: Attachment) -> Response:
    """The file as filed: the type found from its content, always as an attachment (never
    inline), sandboxed, with its hash as the ETag. The page and the API serve it so."""
    try:
        data = open_file_store().get(row.sha256)
    except (StoredFileMissing, StoredFileDamaged) as exc:
        raise NotFound(f"附件文件无法读取：{exc}。请联系系统管理员从备份恢复文件。") from exc
    extension = FILE_TYPE_BY_CODE[row.file_type].extension
    fallback = f"attachment-{row.id}{extension}"
    response = Response(data, mimetype=content_type_of(row))
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(row.file_name)}"
    )
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.set_etag(row.sha256)
    return response.make_conditional(request)


@bp.get(f"/attachments/<int(max={MAX_ID}):attachment_id>")
def download(attachment_id: int) -> Response:
    """The file as filed, for anyone who may read its request."""
    return attachment_response(load_attachment(signed_in_user(), attachment_id))


# --------------------------------------------------------------------------- the panel


@dataclass(frozen=True)
class AttachmentRow:
    attachment: Attachment
    kind: AttachmentKind
    type_label: str
    event: str
    uploaded: str
    uploader: str
    url: str


@dataclass(frozen=True)
class AttachmentsPanel:
    rows: list[AttachmentRow]
    #: Where to post an upload; None when the user only reads.
    upload_url: str | None
    kinds: tuple[AttachmentKind, ...]
    events: list[tuple[int, str]]
    accepted: str
    max_mb: int


def _uploader(row: Attachment) -> str:
    """Who filed it: the staff user; the applicant, for what they sent online; else the
    system."""
    if row.uploaded_by is not None:
        return row.uploaded_by.display_name
    return APPLICANT_ONLINE_LABEL if row.submission_id is not None else "系统"


def attachments_panel(
    session: Session, req: Request, events: list[Event], user: User, *, read_only: bool
) -> AttachmentsPanel:
    """The request page's 附件 card: what is on file, and the upload form for caseworkers."""
    labels = {
        e.id: f"{e.effective_date.isoformat()} {TRIGGER_LABELS.get(e.trigger, e.trigger)}"
        for e in events
    }
    rows = [
        AttachmentRow(
            attachment=a,
            kind=ATTACHMENT_KIND_BY_CODE[a.kind],
            type_label=FILE_TYPE_BY_CODE[a.file_type].label,
            event=labels.get(a.event_id, "") if a.event_id else "",
            uploaded=local_time(a.uploaded_at),
            uploader=_uploader(a),
            url=url_for("attachments.download", attachment_id=a.id),
        )
        for a in attachments_of(session, req)
    ]
    can_upload = not read_only and bool(user.roles & ATTACH_ROLES)
    return AttachmentsPanel(
        rows=rows,
        upload_url=url_for("attachments.upload", request_id=req.id) if can_upload else None,
        kinds=ATTACHMENT_KINDS,
        events=list(labels.items()),
        accepted=ACCEPTED_TYPES_LABEL,
        max_mb=settings.attachment_max_bytes() // 1048576,
    )
