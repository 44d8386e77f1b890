"""``/api/v1/requests/<id>/assignment`` and ``/corrections``: 分办 and 更正 with the same
operations and rules as the staff pages (``workflow.requests.office_operations``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from werkzeug.wrappers import Response

from models import Event, User
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
from views.api.resources import full_request
from views.database import db
from workflow.kernel.actor import Actor
from workflow.kernel.errors import ValidationError
from workflow.requests import office_operations as office_ops
from workflow.requests.office import needs_approver
from workflow.requests.operations import conflict_message


def _object(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError("请求体应为 JSON 对象")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValidationError("未知字段：" + "、".join(unknown), {k: "未知字段" for k in unknown})
    return body


def _version(body: dict[str, Any]) -> int | None:
    value = body.get("version")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@bp.post(f"/requests/<int(max={MAX_ID}):request_id>/assignment")
def assign_request(request_id: int) -> Response:
    """分办: ``{"handler": "username" | null, "version": n, "note": "…"}``."""
    me = api_user()
    require_roles(office_ops.ASSIGN_ROLES)
    req = load_request_for(me, request_id, write=True)
    body = performed(lambda: _object(json_body(), {"handler", "version", "note"}), conflict="")
    name = body.get("handler")
    handler_id = None
    if name is not None:
        handler_id = (
            db().scalar(
                select(User.id).where(User.username == str(name), User.agency_id == req.agency_id)
            )
            or -1
        )
    performed(
        lambda: office_ops.assign(
            db(),
            req,
            Actor.of(me),
            now(),
            handler_id,
            note=str(body.get("note") or ""),
            expected_version=_version(body),
        ),
        conflict=conflict_message(req.tracking_no),
    )
    return json_response(full_request(req, now()))


@bp.post(f"/requests/<int(max={MAX_ID}):request_id>/corrections")
def correct_request(request_id: int) -> Response:
    """更正 one step by its ``seq``: recorded at once (a payload field; a date or an
    outcome by an approver), or proposed to the approvers (201 either way)."""
    me = api_user()
    require_roles(office_ops.PROPOSE_ROLES)
    req = load_request_for(me, request_id, write=True)
    fields = {"seq", "field", "new", "reason", "confirm_published", "version"}
    body = performed(lambda: _object(json_body(), fields), conflict="")
    seq = body.get("seq")
    target = db().scalar(select(Event.id).where(Event.request_id == req.id, Event.seq == seq))
    raw = {
        "target_id": target if target is not None else "",
        "field": str(body.get("field") or ""),
        "new": body.get("new"),
        "reason": str(body.get("reason") or ""),
        "confirm_published": "1" if body.get("confirm_published") is True else "",
    }
    direct = not needs_approver(raw["field"]) or "approver" in me.roles
    event = performed(
        lambda: (
            office_ops.correct(db(), req, Actor.of(me), now(), raw, expected_version=_version(body))
            if direct
            else office_ops.propose(
                db(), req, Actor.of(me), now(), "correction", raw, expected_version=_version(body)
            )
        ),
        conflict=conflict_message(req.tracking_no),
    )
    return json_response(
        {
            "recorded": direct,
            "event": {"seq": event.seq, "trigger": event.trigger},
            **full_request(req, now()),
        },
        201,
    )
