"""The JSON API's resources (docs/domain.md §11.5): plain dicts built from domain rows.

What a resource holds is described, field by field, by ``workflow.online.schema``; the
tests validate real responses against that document, so the two cannot drift. Dates are
ISO strings, recorded times UTC with a ``Z``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import UTC, date, datetime
from typing import Any

from models import Event, Notice, Request, RequestTransfer
from workflow.catalog.states import State
from workflow.requests.deadline_trace import TraceStep
from workflow.requests.deadlines import Deadlines
from workflow.statistics.facts import outcome_of

#: The deadlines of a request under their API names, in the order of the document.
DEADLINE_NAMES = ("supplement_notice_due", "reply_due", "consultation_due", "fee_due")


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def iso_time(value: datetime | None) -> str | None:
    """A stored (naive UTC) time as RFC 3339 UTC."""
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def deadlines_resource(deadlines: Deadlines) -> dict[str, Any]:
    """The ``deadlines`` member of a request, from ``compute_deadlines``.

    ``provisional`` names each deadline that rests on a year whose holiday arrangement is
    not yet published; ``trace`` is how each date was counted, step by step: the very
    steps the date was computed from (``Deadlines.trace``), so the two cannot disagree.
    """
    dates = {name: getattr(deadlines, name) for name in DEADLINE_NAMES}
    return {
        **{name: iso_date(value) for name, value in dates.items()},
        "paused": deadlines.paused,
        "provisional": sorted(n for n in deadlines.provisional if n in dates),
        "trace": {
            name: [step_resource(s) for s in steps] for name, steps in deadlines.trace.items()
        },
    }


def step_resource(step: TraceStep) -> dict[str, Any]:
    """One step of a deadline's explanation; dates as ISO strings."""
    values = {f.name: getattr(step, f.name) for f in fields(TraceStep)}
    return {k: iso_date(v) if isinstance(v, date) else v for k, v in values.items()}


def current_outcome(request: Request, events: Sequence[Event]) -> str | None:
    """The outcome of a concluded request: its latest concluding event's (null when open)."""
    if request.state != State.CONCLUDED.value:
        return None
    for event in reversed(events):
        code = outcome_of(event)
        if code is not None:
            return code
    return None


def event_resource(event: Event, usernames: Mapping[int, str]) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "trigger": event.trigger,
        "effective_on": event.effective_date.isoformat(),
        "recorded_at": iso_time(event.recorded_at),
        "actor": usernames.get(event.actor_id) if event.actor_id else None,
        "payload": dict(event.payload),
    }


def summary_resource(request: Request, agency_code: str) -> dict[str, Any]:
    """A request as the list shows it (no events, no clocks)."""
    return {
        "id": request.id,
        "tracking_no": request.tracking_no,
        "agency": agency_code,
        "state": request.state,
        "version": request.version,
        "received_on": request.received_on.isoformat(),
        "channel": request.channel,
    }


def request_resource(
    request: Request,
    agency_code: str,
    events: Sequence[Event],
    usernames: Mapping[int, str],
    deadlines: Deadlines,
    transfer: RequestTransfer | None,
) -> dict[str, Any]:
    """The whole request: facts, outcome, the event log and every clock."""
    return {
        **summary_resource(request, agency_code),
        "outcome": current_outcome(request, events),
        "transfer": {"source": transfer.source, "reference": transfer.reference}
        if transfer
        else None,
        "events": [event_resource(e, usernames) for e in events],
        "deadlines": deadlines_resource(deadlines),
    }


def notice_resource(notice: Notice, pdf_url: str) -> dict[str, Any]:
    return {
        "id": notice.id,
        "kind": notice.kind,
        "number": notice.number,
        "outcome": notice.outcome,
        "dated_on": notice.dated_on.isoformat(),
        "issued_at": iso_time(notice.issued_at),
        "served_on": iso_date(notice.served_on),
        "sha256": notice.content_hash,
        "pdf": pdf_url,
    }
