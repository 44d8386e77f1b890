"""The office's work through the API with the same operations and rules as the staff pages
(``workflow.requests.office_operations``, docs/domain.md §15): ``/requests/<id>/assignment``
(分办), ``/corrections`` (更正), ``/proposals`` (提请延期 or 签发) and their ``approve`` /
``reject`` (审核, by the proposal's ``seq``), ``/split`` (拆分), ``/merge`` (合并), and
``/proposals`` (the approver's pending list)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from werkzeug.wrappers import Response

from models import Event, Request, User
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
from views.api.resources import agency_codes, full_request
from views.database import db
from views.presenters import describe_proposal
from workflow.kernel.actor import Actor
from workflow.kernel.errors import NotFound, ValidationError
from workflow.online.input import check_fields
from workflow.online.resources import iso_time, summary_resource
from workflow.online.schema import MAX_MERGE, PROPOSAL_KINDS_API
from workflow.requests import office_operations as office_ops
from workflow.requests.office import needs_approver
from workflow.requests.operations import conflict_message
from workflow.requests.spec import EXTENSION_PROPOSAL_FIELDS


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


# --------------------------------------------------------------------------- 审核签发


def _seq_to_id(req: Request, seq: Any, trigger: str | None = None) -> int:
    """The id of the request's event numbered ``seq`` (404 when there is none)."""
    wanted = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
    query = select(Event.id).where(Event.request_id == req.id, Event.seq == wanted)
    if trigger is not None:
        query = query.where(Event.trigger == trigger)
    found = db().scalar(query) if wanted is not None else None
    if found is None:
        raise NotFound(f"本申请没有第{seq}条{'待审核事项' if trigger else '办理记录'}")
    return found


def _proposal_resource(req: Request, event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "request_id": req.id,
        "tracking_no": req.tracking_no,
        "kind": event.payload.get("kind"),
        "text": describe_proposal(event),
        "proposed_by": event.actor.username if event.actor else None,
        "proposed_at": iso_time(event.recorded_at),
    }


@bp.post(f"/requests/<int(max={MAX_ID}):request_id>/proposals")
def propose(request_id: int) -> Response:
    """提请审核: ``{"kind": "extension", "days", "reason"}`` (Art. 33 para 2) or
    ``{"kind": "decision", "seq": n}`` (签发 the decision recorded as step ``n``). It waits
    for an approver; nothing else changes until then (201)."""
    me = api_user()
    require_roles(office_ops.PROPOSE_ROLES)
    req = load_request_for(me, request_id, write=True)
    body = json_body()
    kind = body.get("kind") if isinstance(body, dict) else None
    if kind not in PROPOSAL_KINDS_API:
        raise ValidationError(
            "请选择审核事项", {"kind": "应为 " + " 或 ".join(sorted(PROPOSAL_KINDS_API))}
        )
    version = _version(body)
    rest = {k: v for k, v in body.items() if k != "version"}
    if kind == "extension":
        raw = check_fields(rest, EXTENSION_PROPOSAL_FIELDS, extra=("kind", "note"))
    else:
        _object(rest, {"kind", "seq", "note"})
        seq = body.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise ValidationError("请更正标出的内容", {"seq": "应为答复记录的序号（整数）"})
        raw = {"target_id": _seq_to_id(req, seq), "note": str(body.get("note") or "")}
    event = performed(
        lambda: office_ops.propose(
            db(), req, Actor.of(me), now(), kind, raw, expected_version=version
        ),
        conflict=conflict_message(req.tracking_no),
    )
    return json_response(
        {"proposal": _proposal_resource(req, event), **full_request(req, now())}, 201
    )


@bp.get("/proposals")
def pending_proposals() -> Response:
    """The token user's agency's proposals waiting for an approver, oldest first (the
    approver's workbench list)."""
    me = api_user()
    require_roles(frozenset({office_ops.APPROVER}))
    items = [_proposal_resource(r, e) for r, e in office_ops.pending_for(db(), me.agency_id)]
    return json_response({"items": items})


@bp.post(f"/requests/<int(max={MAX_ID}):request_id>/proposals/<int(max={MAX_ID}):seq>/approve")
def approve_proposal(request_id: int, seq: int) -> Response:
    """审核同意, the approver's own act: an extension is recorded on ``effective_on``
    (default today), a correction is recorded, a decision may be issued."""
    me = api_user()
    require_roles(frozenset({office_ops.APPROVER}))
    req = load_request_for(me, request_id, write=True)
    body = performed(
        lambda: _object(json_body(), {"note", "effective_on", "confirm_published", "version"}),
        conflict="",
    )
    proposal_id = _seq_to_id(req, seq, "propose")
    raw = {
        "note": str(body.get("note") or ""),
        "effective_date": str(body.get("effective_on") or ""),
        "confirm_published": "1" if body.get("confirm_published") is True else "",
    }
    performed(
        lambda: office_ops.approve(
            db(), req, Actor.of(me), now(), proposal_id, raw, expected_version=_version(body)
        ),
        conflict=conflict_message(req.tracking_no),
    )
    return json_response(full_request(req, now()))


@bp.post(f"/requests/<int(max={MAX_ID}):request_id>/proposals/<int(max={MAX_ID}):seq>/reject")
def reject_proposal(request_id: int, seq: int) -> Response:
    """审核退回, with the reason the proposer reads."""
    me = api_user()
    require_roles(frozenset({office_ops.APPROVER}))
    req = load_request_for(me, request_id, write=True)
    body = performed(lambda: _object(json_body(), {"reason", "version"}), conflict="")
    proposal_id = _seq_to_id(req, seq, "propose")
    performed(
        lambda: office_ops.reject(
            db(),
            req,
            Actor.of(me),
            now(),
            proposal_id,
            str(body.get("reason") or ""),
            expected_version=_version(body),
        ),
        conflict=conflict_message(req.tracking_no),
    )
    return json_response(full_request(req, now()))


# --------------------------------------------------------------------------- split, merge


@bp.post(f"/requests/<int(max={MAX_ID}):request_id>/split")
def split_request(request_id: int) -> Response:
    """拆分: ``{"items": ["…", "…"]}``; the request keeps the first item, each further one
    becomes a new request (201 with the kept request and the new ones)."""
    me = api_user()
    require_roles(office_ops.PROPOSE_ROLES)
    req = load_request_for(me, request_id, write=True)
    body = performed(lambda: _object(json_body(), {"items", "version"}), conflict="")
    items = body.get("items")
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ValidationError("请更正标出的内容", {"items": "应为文本数组，每项一条所需信息"})
    made = performed(
        lambda: office_ops.split(
            db(), req, Actor.of(me), now(), items, expected_version=_version(body)
        ),
        conflict=conflict_message(req.tracking_no),
    )
    code = req.agency.code
    return json_response(
        {**full_request(req, now()), "created": [summary_resource(r, code) for r in made]}, 201
    )


@bp.post(f"/requests/<int(max={MAX_ID}):request_id>/merge")
def merge_requests(request_id: int) -> Response:
    """合并: ``{"others": [id, …], "reason": "…"}``: the others (the same applicant's open
    requests of this agency) are concluded as merged into this one."""
    me = api_user()
    require_roles(office_ops.MERGE_ROLES)
    keep = load_request_for(me, request_id, write=True)
    body = performed(lambda: _object(json_body(), {"others", "reason", "version"}), conflict="")
    ids = body.get("others")
    if (
        not isinstance(ids, list)
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
        or len(ids) > MAX_MERGE
    ):
        raise ValidationError(
            "请更正标出的内容", {"others": f"应为申请 id 的数组（最多 {MAX_MERGE} 个）"}
        )
    others = [load_request_for(me, i, write=True) for i in dict.fromkeys(ids)]
    performed(
        lambda: office_ops.merge(
            db(),
            keep,
            others,
            Actor.of(me),
            now(),
            str(body.get("reason") or ""),
            expected_version=_version(body),
        ),
        conflict=conflict_message(keep.tracking_no),
    )
    codes = agency_codes({keep.agency_id})
    return json_response(
        {
            **full_request(keep, now()),
            "merged": [summary_resource(r, codes[r.agency_id]) for r in others],
        }
    )
