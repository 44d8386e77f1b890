"""``POST /api/v1/transfers``: a case from the 12345 hotline or a platform, idempotently.

201 with the new request the first time; 200 with the same request whenever the same
(source, reference) arrives again — also when two retries race, where the database's
unique key refuses the second and it answers with the first (``workflow.transfers``).
"""

from __future__ import annotations

from flask import url_for
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from app import db
from views.api.blueprint import (
    agency_named,
    api_user,
    bp,
    json_body,
    json_response,
    now,
    require_roles,
)
from views.api.resources import full_request
from workflow.api_input import check_fields
from workflow.errors import ConflictError
from workflow.intake import INTAKE_FIELDS
from workflow.operations import Actor
from workflow.spec import SPEC_BY_TRIGGER
from workflow.transfers import TRANSFER_KEYS, find_transfer, parse_transfer_key, receive_transfer


@bp.post("/transfers")
def transfer() -> Response:
    me = api_user()
    require_roles(SPEC_BY_TRIGGER["register"].roles)
    raw = check_fields(json_body(), INTAKE_FIELDS, extra=("agency", *TRANSFER_KEYS))
    agency = agency_named(raw.pop("agency", None), me.agency)
    session = db()
    try:
        req, created = receive_transfer(session, Actor.of(me), now(), raw, agency=agency)
        session.commit()
    except IntegrityError:
        session.rollback()
        found = find_transfer(session, agency.id, parse_transfer_key(raw))
        if found is None:
            raise ConflictError("转办正在登记中，请稍后重试") from None
        req, created = found, False
    location = url_for(".request_detail", request_id=req.id)
    return json_response(full_request(req, now()), 201 if created else 200, {"Location": location})
