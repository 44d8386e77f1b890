"""``/api/v1/requests``: register, list, read, and fire an action — one operation each.

The same operations as the staff pages (``workflow.requests.operations``) with the same checks;
what differs is only the input (typed JSON, checked by ``workflow.online.input`` against
the spec's fields) and the answer (the request resource).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

import settings
from models import Agency, Request
from views.access import MAX_ID, load_request_for, visible_agency_ids
from views.api.blueprint import (
    agency_named,
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
from workflow.catalog.states import STORED_STATES
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.backdating import REASON_FIELD
from workflow.kernel.errors import ValidationError
from workflow.online.input import FIX, check_event_body, check_fields, parse_event
from workflow.online.resources import summary_resource
from workflow.online.schema import DEFAULT_PAGE, MAX_PAGE
from workflow.requests.intake import INTAKE_FIELDS
from workflow.requests.operations import conflict_message, fire, register
from workflow.requests.query import MAX_QUERY, ListFilter, filtered, page
from workflow.requests.spec import SPEC_BY_TRIGGER
from workflow.store.calendar import load_calendar

#: Query parameters of the list; any other is refused (a misspelt filter is a bug).
LIST_PARAMETERS = ("agency", "state", "received_from", "received_to", "q", "after", "limit")


def _created(req: Request) -> Response:
    location = url_for(".request_detail", request_id=req.id)
    return json_response(full_request(req, now()), 201, {"Location": location})


@bp.post("/requests")
def register_request() -> Response:
    """Register a request from the registration fields (the staff form's names)."""
    me = api_user()
    require_roles(SPEC_BY_TRIGGER["register"].roles)
    raw = check_fields(json_body(), INTAKE_FIELDS, extra=("agency", REASON_FIELD))
    agency = agency_named(raw.pop("agency", None), me.agency)
    req = performed(
        lambda: register(
            db(), Actor.of(me), now(), raw, agency=agency, backdate_limit=settings.backdate_days()
        ),
        conflict="保存时与他人的登记冲突，申请没有登记。请重新提交。",
    )
    return _created(req)


@bp.get(f"/requests/<int(max={MAX_ID}):request_id>")
def request_detail(request_id: int) -> Response:
    req = load_request_for(api_user(), request_id, write=False)
    return json_response(full_request(req, now()))


@bp.post(f"/requests/<int(max={MAX_ID}):request_id>/events")
def fire_event(request_id: int) -> Response:
    """Fire one trigger; 409 when ``version`` is not the request's version any more."""
    me = api_user()
    req = load_request_for(me, request_id, write=True)
    body = json_body()
    trigger = body.get("trigger") if isinstance(body, dict) else None
    spec = SPEC_BY_TRIGGER.get(trigger) if isinstance(trigger, str) else None
    if spec is not None and spec.trigger != "register":
        require_roles(spec.roles)
    checked = check_event_body(body)
    conflict = conflict_message(req.tracking_no)
    performed(
        lambda: fire(
            db(),
            req,
            checked.spec.trigger,
            Actor.of(me),
            now(),
            parse_event(checked),
            expected_version=checked.version,
            backdate_limit=settings.backdate_days(),
        ),
        conflict=conflict,
    )
    return json_response(full_request(req, now()))


def _date_argument(name: str, errors: dict[str, str]) -> date | None:
    text = request.args.get(name)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = "日期应为 YYYY-MM-DD"
        return None


def _limit(errors: dict[str, str]) -> int:
    text = request.args.get("limit", str(DEFAULT_PAGE))
    if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_PAGE:
        return int(text)
    errors["limit"] = f"每页条数应为 1 至 {MAX_PAGE} 的整数"
    return DEFAULT_PAGE


def _cursor_ok(after: str) -> bool:
    """Whether ``after`` is a cursor this list hands out (``received_on~id``)."""
    day, _, row_id = after.rpartition("~")
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return row_id.isascii() and row_id.isdigit() and len(row_id) < 19


def _agency_scope(visible: set[int], errors: dict[str, str]) -> set[int]:
    code = request.args.get("agency")
    if code is None:
        return visible
    found = db().scalar(select(Agency.id).where(Agency.code == code))
    if found is None or found not in visible:
        errors["agency"] = "没有这个机关，或不在您的查阅范围内"
        return set()
    return {found}


@bp.get("/requests")
def list_requests() -> Response:
    """Visible requests, newest receipt first, in keyset pages (``next`` → ``after``)."""
    args = request.args
    errors = {
        k: f"未知参数“{k[:60]}”，可用参数：{'、'.join(LIST_PARAMETERS)}"
        for k in args
        if k not in LIST_PARAMETERS
    }
    agency_ids = _agency_scope(visible_agency_ids(api_user()), errors)
    state = args.get("state", "")
    if state and state not in {s.value for s in STORED_STATES}:
        errors["state"] = "可用状态：" + "、".join(s.value for s in STORED_STATES)
    received_from = _date_argument("received_from", errors)
    received_to = _date_argument("received_to", errors)
    q = " ".join(args.get("q", "").split())
    if len(q) > MAX_QUERY:
        errors["q"] = f"检索词不能超过{MAX_QUERY}个字符"
    after = args.get("after", "")
    if after and not _cursor_ok(after):
        errors["after"] = "after 应为上一页答复中的 next"
    limit = _limit(errors)
    if errors:
        raise ValidationError(FIX, errors)
    session = db()
    flt = ListFilter(state=state, q=q, after=after)
    stmt = filtered(session, agency_ids, flt, load_calendar(session), local_today(now()))
    if received_from:
        stmt = stmt.where(Request.received_on >= received_from)
    if received_to:
        stmt = stmt.where(Request.received_on <= received_to)
    rows, following = page(session, stmt, flt, limit)
    codes = agency_codes({r.agency_id for r in rows})
    items: list[dict[str, Any]] = [summary_resource(r, codes[r.agency_id]) for r in rows]
    return json_response({"items": items, "next": following.after if following else None})
