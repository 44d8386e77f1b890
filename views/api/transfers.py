"""``POST /api/v1/transfers``: a case from the 12345 hotline or a platform, idempotently.

201 with the new request the first time; 200 with the same request whenever the same
(source, reference) arrives again — also when two retries race, where the database's
unique key refuses the second and it answers with the first (``workflow.online.transfers``).
"""

from __future__ import annotations

from flask import url_for
from werkzeug.wrappers import Response

from views.api.blueprint import (
    Rejected,
    agency_named,
    api_user,
    bp,
    json_body,
    json_response,
    now,
    require_roles,
)
from views.api.resources import full_request
from views.common import Refused, perform
from views.database import db
from workflow.kernel.actor import Actor
from workflow.online.input import check_fields
from workflow.online.transfers import (
    TRANSFER_KEYS,
    find_transfer,
    parse_transfer_key,
    receive_transfer,
)
from workflow.requests.intake import INTAKE_FIELDS
from workflow.requests.spec import SPEC_BY_TRIGGER


@bp.post("/transfers")
def transfer() -> Response:
    me = api_user()
    require_roles(SPEC_BY_TRIGGER["register"].roles)
    raw = check_fields(json_body(), INTAKE_FIELDS, extra=("agency", *TRANSFER_KEYS))
    agency = agency_named(raw.pop("agency", None), me.agency)
    conflict = "转办正在登记中，请稍后重试"
    result = perform(
        lambda: receive_transfer(db(), Actor.of(me), now(), raw, agency=agency), conflict=conflict
    )
    if isinstance(result, Refused):  # a retry racing the first delivery: answer with it
        key = parse_transfer_key(raw)
        found = find_transfer(db(), agency.id, key) if result.status == 409 else None
        if found is None:
            raise Rejected(result)
        req, created = found, False
    else:
        req, created = result
    location = url_for(".request_detail", request_id=req.id)
    return json_response(full_request(req, now()), 201 if created else 200, {"Location": location})
