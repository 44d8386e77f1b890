"""What a request resource shows (events, actors, clocks, transfer), loaded in a few queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from models import Agency, Request, RequestTransfer, User
from views.database import db
from workflow.kernel.actor import local_today
from workflow.online.resources import request_resource
from workflow.requests.operations import history, request_deadlines
from workflow.store.calendar import load_calendar


def agency_codes(agency_ids: set[int]) -> dict[int, str]:
    rows = db().execute(select(Agency.id, Agency.code).where(Agency.id.in_(agency_ids)))
    return dict(rows.all())


def full_request(req: Request, now: datetime) -> dict[str, Any]:
    """The request resource as of ``now``: facts, the event log with usernames, the clocks."""
    session = db()
    events = history(session, req)
    actor_ids = {e.actor_id for e in events if e.actor_id}
    usernames = dict(
        session.execute(select(User.id, User.username).where(User.id.in_(actor_ids))).all()
    )
    deadlines = request_deadlines(session, req, events, load_calendar(session), local_today(now))
    transfer = session.get(RequestTransfer, req.id)
    return request_resource(req, req.agency.code, events, usernames, deadlines, transfer)
