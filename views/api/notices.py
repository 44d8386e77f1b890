"""``/api/v1``'s notices (文书): list a request's, issue one, fetch the stored PDF.

Issuing follows ``workflow.notices.operations`` exactly as the request page's buttons do: the
same kinds, roles and refusals; the PDF served is the stored one, byte for byte.
"""

from __future__ import annotations

from flask import url_for
from werkzeug.wrappers import Response

from documents.notices_pdf import render_notice
from models import Notice
from models.file_store import open_file_store
from views.access import MAX_ID, load_request_for
from views.api.blueprint import (
    api_user,
    bp,
    json_body,
    json_response,
    now,
    performed,
    require_roles,
)
from views.database import db
from views.notices import load_notice, pdf_response
from workflow.catalog.notices import NOTICE_KIND_BY_CODE
from workflow.kernel.actor import Actor
from workflow.kernel.errors import ValidationError
from workflow.notices.operations import NOTICE_ROLES, issue_notice, notices_of
from workflow.online.input import FIX, unknown_keys
from workflow.online.resources import notice_resource


def _resource(notice: Notice) -> dict[str, object]:
    return notice_resource(notice, url_for(".notice_pdf", notice_id=notice.id))


@bp.get(f"/requests/<int(max={MAX_ID}):request_id>/notices")
def request_notices(request_id: int) -> Response:
    req = load_request_for(api_user(), request_id, write=False)
    return json_response({"items": [_resource(n) for n in notices_of(db(), req)]})


@bp.post(f"/requests/<int(max={MAX_ID}):request_id>/notices")
def issue_request_notice(request_id: int) -> Response:
    """Issue the notice of ``kind`` for the request's latest fitting event (201)."""
    me = api_user()
    require_roles(NOTICE_ROLES)
    req = load_request_for(me, request_id, write=True)
    body = json_body()
    if not isinstance(body, dict):
        raise ValidationError(FIX, {"_": "请求体应为 JSON 对象"})
    errors = unknown_keys(body, ("kind",))
    kind = body.get("kind")
    if kind not in NOTICE_KIND_BY_CODE:
        errors["kind"] = "文书种类应为：" + "、".join(
            f"{k.code}（{k.label}）" for k in NOTICE_KIND_BY_CODE.values()
        )
    if errors:
        raise ValidationError(FIX, errors)
    notice = performed(
        lambda: issue_notice(
            db(), Actor.of(me), now(), req, str(kind), render=render_notice, store=open_file_store()
        ),
        conflict="文书刚刚已由他人出具，请刷新后查看",
    )
    return json_response(_resource(notice), 201)


@bp.get(f"/notices/<int(max={MAX_ID}):notice_id>.pdf")
def notice_pdf(notice_id: int) -> Response:
    notice, _req = load_notice(api_user(), notice_id, write=False)
    return pdf_response(notice)
