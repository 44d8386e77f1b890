"""``/api/v1``'s attachments (附件, docs/domain.md §16): list a request's, file one (a
multipart upload), fetch one.

Filing is ``workflow.attachments.operations.attach``, the request page's operation, with
its checks (caseworkers of the request's own agency, the kind, the event, the size limit
``GONGKAI_ATTACHMENT_MAX_MB`` and the type read from the content); the download is the
page's (``views.attachments.attachment_response``): the same reader rule and safe headers.
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

import settings
from models import Attachment, Event, Request
from models.file_store import open_file_store
from views.access import MAX_ID, load_request_for
from views.api.blueprint import (
    LARGE_BODIES,
    ApiRefusal,
    api_user,
    bp,
    json_response,
    now,
    performed,
    require_roles,
)
from views.attachments import attachment_response, load_attachment
from views.database import db
from workflow.attachments.operations import ATTACH_ROLES, attach, attachments_of
from workflow.kernel.actor import Actor
from workflow.kernel.errors import ValidationError
from workflow.online.input import FIX, unknown_keys
from workflow.online.resources import iso_time
from workflow.online.schema import ATTACHMENT_FORM_FIELDS

#: The upload is the one API body larger than ``MAX_BODY``: the file plus the form's
#: boundaries and fields (``views.api.blueprint`` bounds it before reading).
MULTIPART_SLACK = 64 * 1024


def upload_limit() -> int:
    """Largest upload body accepted: the attachment limit and the multipart overhead."""
    return settings.attachment_max_bytes() + MULTIPART_SLACK


LARGE_BODIES["api.upload_attachment"] = upload_limit


def _resource(row: Attachment, seqs: dict[int, int]) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "file_name": row.file_name,
        "file_type": row.file_type,
        "size": row.size,
        "sha256": row.sha256,
        "note": row.note,
        "event_seq": seqs.get(row.event_id) if row.event_id else None,
        "uploaded_at": iso_time(row.uploaded_at),
        "uploaded_by": row.uploaded_by.username if row.uploaded_by else None,
        "url": url_for(".attachment_file", attachment_id=row.id),
    }


def _event_seqs(req: Request) -> dict[int, int]:
    return dict(db().execute(select(Event.id, Event.seq).where(Event.request_id == req.id)).all())


@bp.get(f"/requests/<int(max={MAX_ID}):request_id>/attachments")
def request_attachments(request_id: int) -> Response:
    """The request's attachments in the order they were filed (readers of the request)."""
    req = load_request_for(api_user(), request_id, write=False)
    seqs = _event_seqs(req)
    return json_response({"items": [_resource(a, seqs) for a in attachments_of(db(), req)]})


@bp.post(f"/requests/<int(max={MAX_ID}):request_id>/attachments")
def upload_attachment(request_id: int) -> Response:
    """File ``file`` as ``kind`` (optionally with the event numbered ``event_seq`` and a
    ``note``): multipart/form-data, as a browser's form would send it. **201**."""
    me = api_user()
    require_roles(ATTACH_ROLES)
    req = load_request_for(me, request_id, write=True)
    if request.mimetype != "multipart/form-data":
        raise ApiRefusal(415, "附件须以 multipart/form-data 上传（文件字段 file）")
    form = request.form
    errors = unknown_keys({**form, **request.files}, ATTACHMENT_FORM_FIELDS)
    sent = request.files.get("file")
    raw = {"kind": form.get("kind", ""), "note": form.get("note", "")}
    seq = form.get("event_seq", "").strip()
    if seq:
        seqs = {s: i for i, s in _event_seqs(req).items()}
        found = seqs.get(int(seq)) if seq.isascii() and seq.isdigit() and len(seq) < 10 else None
        if found is None:
            errors["event_seq"] = f"本申请没有第{seq[:10]}条办理记录"
        raw["event_id"] = str(found or "")
    if errors:
        raise ValidationError(FIX, errors)
    data = sent.read() if sent is not None else b""
    row = performed(
        lambda: attach(
            db(),
            Actor.of(me),
            now(),
            req,
            raw,
            (sent.filename or "") if sent is not None else "",
            data,
            open_file_store(),
            max_bytes=settings.attachment_max_bytes(),
        ),
        conflict="附件没有保存，请重新上传",
    )
    location = url_for(".attachment_file", attachment_id=row.id)
    return json_response(_resource(row, _event_seqs(req)), 201, {"Location": location})


@bp.get(f"/attachments/<int(max={MAX_ID}):attachment_id>")
def attachment_file(attachment_id: int) -> Response:
    """The file as filed, for anyone who may read its request (the page's headers; no
    cache may keep it, as for every API answer)."""
    response = attachment_response(load_attachment(api_user(), attachment_id))
    response.headers["Cache-Control"] = "no-store"
    return response
