"""Counting a fee (2020 fee measures, Arts. 3–5): who the same applicant is, which 件 this is.

Per request (按件) the tariff climbs with the number of requests one applicant made to
the agency in the calendar month, so charging a request needs the units counted before
it that month. Who counts as *the same applicant* (docs/domain.md §18):

* with an ID number (居民身份证, 统一社会信用代码 …): every request with that number, whatever
  name it was registered under;
* without one: requests under exactly the same name that share a phone number or an
  e-mail address; a request with neither counts alone.

In doubt the count is lower, never higher: the fee is the agency's claim and it must be
able to show the requests were one applicant's. Voided registrations were errors and do
not count; a request split into several 件 (一事一申请, "以合理的最小单位拆分") counts
with the units its own per-request fee notice recorded.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from models import Event, Request
from models.pii import same
from workflow.catalog.fees import PER_REQUEST
from workflow.catalog.states import State


def same_applicant(request: Request) -> ColumnElement[bool] | None:
    """The SQL condition for "the same applicant" as ``request`` (None: it stands alone)."""
    if request.id_number.strip():
        return same(Request.id_number, request.id_number.strip())
    contacts = [
        condition
        for condition, value in (
            (same(Request.phone, request.phone.strip()), request.phone),
            (Request.email == request.email.strip(), request.email),
        )
        if value.strip()
    ]
    if not contacts:
        return None
    return and_(
        Request.applicant_name == request.applicant_name,
        Request.id_number == "",
        or_(*contacts),
    )


def units_before(session: Session, request: Request) -> int:
    """The 件 this applicant made to the agency earlier in ``request``'s calendar month."""
    condition = same_applicant(request)
    if condition is None:
        return 0
    month_start = request.received_on.replace(day=1)
    earlier = or_(
        Request.received_on < request.received_on,
        and_(Request.received_on == request.received_on, Request.id < request.id),
    )
    ids = list(
        session.scalars(
            select(Request.id).where(
                Request.agency_id == request.agency_id,
                Request.id != request.id,
                Request.state != State.VOIDED.value,
                Request.received_on >= month_start,
                earlier,
                condition,
            )
        )
    )
    if not ids:
        return 0
    split: dict[int, int] = {}
    for request_id, payload in session.execute(
        select(Event.request_id, Event.payload)
        .where(Event.request_id.in_(ids), Event.trigger == "issue_fee_notice")
        .order_by(Event.request_id, Event.seq)
    ):
        if payload.get("method") == PER_REQUEST and payload.get("units"):
            split[request_id] = int(payload["units"])
    return sum(split.get(i, 1) for i in ids)
