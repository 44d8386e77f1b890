"""Finding requests: the list's filters, search, sorting and keyset pagination.

Shared by the request list page and its CSV export so both show exactly the same rows.
Keyset ("seek") pagination keeps deep pages as fast as the first one on hundreds of
thousands of rows: the next page starts after the last row's (sort key, id) instead of
counting past ``OFFSET`` rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Select, and_, or_, select, tuple_
from sqlalchemy.orm import Session

from models import Request, RequestFacts
from workflow.calendar import WorkingCalendar
from workflow.catalog.applicants import KIND_BY_CODE
from workflow.catalog.channels import CHANNEL_BY_CODE
from workflow.catalog.outcomes import GROUP_BY_CODE, OUTCOME_BY_CODE
from workflow.deadlines import compute_deadlines
from workflow.operations import histories
from workflow.states import OPEN_STATES, STORED_STATES

#: Sort orders: key → (column, descending).
SORTS: dict[str, tuple[str, str, bool]] = {
    "received_desc": ("收到日期（新→旧）", "received_on", True),
    "received_asc": ("收到日期（旧→新）", "received_on", False),
    "tracking_desc": ("编号（大→小）", "tracking_no", True),
    "tracking_asc": ("编号（小→大）", "tracking_no", False),
}
DEFAULT_SORT = "received_desc"
MAX_QUERY = 100


def _int(text: str | None, low: int, high: int) -> int | None:
    value = (text or "").strip()
    if value.isascii() and value.isdigit() and low <= int(value) <= high:
        return int(value)
    return None


@dataclass(frozen=True)
class ListFilter:
    """What the clerk asked for; unknown values are dropped rather than refused."""

    state: str = ""
    year: int | None = None
    kind: str = ""
    channel: str = ""
    handler: int | None = None
    overdue: bool = False
    outcome: str = ""
    q: str = ""
    sort: str = DEFAULT_SORT
    after: str = ""

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> ListFilter:
        state = args.get("state", "")
        outcome = args.get("outcome", "")
        sort = args.get("sort", DEFAULT_SORT)
        return cls(
            state=state if state in {s.value for s in STORED_STATES} else "",
            year=_int(args.get("year"), 2000, 2100),
            kind=args.get("kind", "") if args.get("kind", "") in KIND_BY_CODE else "",
            channel=args.get("channel", "") if args.get("channel", "") in CHANNEL_BY_CODE else "",
            handler=_int(args.get("handler"), 1, 2**31 - 1),
            overdue=args.get("overdue") in ("1", "on", "y"),
            outcome=outcome if outcome in OUTCOME_BY_CODE or outcome in GROUP_BY_CODE else "",
            q=" ".join(args.get("q", "").split())[:MAX_QUERY],
            sort=sort if sort in SORTS else DEFAULT_SORT,
            after=args.get("after", "")[:80],
        )

    def args(self, **override: object) -> dict[str, object]:
        """Query-string arguments reproducing this filter (empty ones left out)."""
        values = {
            "state": self.state,
            "year": self.year,
            "kind": self.kind,
            "channel": self.channel,
            "handler": self.handler,
            "overdue": 1 if self.overdue else None,
            "outcome": self.outcome,
            "q": self.q,
            "sort": None if self.sort == DEFAULT_SORT else self.sort,
            "after": self.after,
            **override,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}

    @property
    def active(self) -> bool:
        return bool(self.args(sort=None, after=None))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def overdue_ids(
    session: Session, agency_ids: Iterable[int], calendar: WorkingCalendar, today: date
) -> list[int]:
    """Open requests whose reply deadline has passed (computed from their events)."""
    open_rows = list(
        session.execute(
            select(Request.id, Request.received_on).where(
                Request.agency_id.in_(list(agency_ids)),
                Request.state.in_([s.value for s in OPEN_STATES]),
            )
        )
    )
    events = histories(session, [rid for rid, _ in open_rows])
    return [
        rid
        for rid, received in open_rows
        if compute_deadlines(received, events[rid], calendar, today).overdue(today)
    ]


def filtered(
    session: Session,
    agency_ids: Iterable[int],
    flt: ListFilter,
    calendar: WorkingCalendar,
    today: date,
) -> Select[tuple[Request]]:
    """The filtered statement, unordered and unpaged (count it, page it or export it)."""
    stmt = select(Request).where(Request.agency_id.in_(list(agency_ids)))
    if flt.state:
        stmt = stmt.where(Request.state == flt.state)
    if flt.year:
        stmt = stmt.where(Request.year == flt.year)
    if flt.kind:
        stmt = stmt.where(Request.applicant_kind == flt.kind)
    if flt.channel:
        stmt = stmt.where(Request.channel == flt.channel)
    if flt.handler:
        stmt = stmt.where(Request.handler_id == flt.handler)
    if flt.outcome:
        f = RequestFacts
        codes = (
            [flt.outcome]
            if flt.outcome in OUTCOME_BY_CODE
            else [c for c in OUTCOME_BY_CODE if c.split(".")[0] == flt.outcome]
        )
        stmt = stmt.where(
            Request.id.in_(select(f.request_id).where(f.outcome.in_(codes), f.voided.is_(False)))
        )
    if flt.q:
        pattern = f"%{_escape_like(flt.q)}%"
        stmt = stmt.where(
            or_(
                Request.tracking_no.ilike(pattern, escape="\\"),
                Request.applicant_name.ilike(pattern, escape="\\"),
                Request.subject.ilike(pattern, escape="\\"),
            )
        )
    if flt.overdue:
        stmt = stmt.where(Request.id.in_(overdue_ids(session, agency_ids, calendar, today)))
    return stmt


def ordered(stmt: Select[tuple[Request]], flt: ListFilter) -> Select[tuple[Request]]:
    _, column, descending = SORTS[flt.sort]
    key = getattr(Request, column)
    if descending:
        return stmt.order_by(key.desc(), Request.id.desc())
    return stmt.order_by(key.asc(), Request.id.asc())


def cursor_of(row: Request, flt: ListFilter) -> str:
    """The position after ``row`` in ``flt``'s order, for the next page's ``after``."""
    _, column, _ = SORTS[flt.sort]
    value = getattr(row, column)
    text = value.isoformat() if isinstance(value, date) else str(value)
    return f"{text}~{row.id}"


def page(
    session: Session, stmt: Select[tuple[Request]], flt: ListFilter, size: int
) -> tuple[list[Request], ListFilter | None]:
    """One page after ``flt.after`` and the filter of the next page (None on the last)."""
    _, column, descending = SORTS[flt.sort]
    key = getattr(Request, column)
    value, _, raw_id = flt.after.rpartition("~")
    if value and raw_id.isascii() and raw_id.isdigit():
        bound: object = value
        if column == "received_on":
            try:
                bound = date.fromisoformat(value)
            except ValueError:
                bound = None
        if bound is not None:
            position = tuple_(key, Request.id)
            after = (
                position < (bound, int(raw_id)) if descending else position > (bound, int(raw_id))
            )
            stmt = stmt.where(and_(after))
    rows = list(session.scalars(ordered(stmt, flt).limit(size + 1)))
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    return rows, replace(flt, after=cursor_of(rows[-1], flt))
