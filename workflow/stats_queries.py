"""Annual statistics from the database: the reference fold over the event log and the
fast path over the ``request_facts`` projection, which must always agree.

The fold reads every event and applies ``workflow.request_facts`` and
``workflow.statistics`` exactly as the unit tests do; the fast path asks the database for
the same base cells with ``GROUP BY`` and lays them out with the same
``table3_from_counts``. ``verify`` compares the two (``python app.py stats-verify``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from models import Agency, Event, Request, RequestFacts
from workflow.errors import NotFound
from workflow.operations import load_calendar, project, projection_values
from workflow.report_layouts import format_for_year
from workflow.report_layouts.table3 import (
    CARRIED_FORWARD,
    CARRIED_OVER,
    NEW_RECEIVED,
    TOTAL,
    TOTAL_CONCLUDED,
    table3_layout,
)
from workflow.request_facts import facts_from_events
from workflow.statistics import (
    Cell,
    Check,
    Table3Counts,
    Table4Counts,
    checks,
    request_cells,
    table3_from_counts,
    year_bounds,
)

#: Requests read per batch by the fold, so a large agency never sits in memory at once.
FOLD_BATCH = 2000


@dataclass(frozen=True)
class Scope:
    """Which agencies a statistic covers: one agency, optionally with its subordinates."""

    agency: Agency
    agency_ids: tuple[int, ...]
    with_subordinates: bool

    @classmethod
    def of(cls, agency: Agency, with_subordinates: bool = False) -> Scope:
        ids = [a.id for a in agency.descendants()] if with_subordinates else [agency.id]
        return cls(agency, tuple(sorted(ids)), with_subordinates)


@dataclass(frozen=True)
class Statistics:
    scope: Scope
    year: int
    fmt: str
    table3: Table3Counts
    table4: Table4Counts
    checks: list[Check]


def _histories(session: Session, scope: Scope) -> Iterator[tuple[Request, list[Event]]]:
    """Every request of the scope with its events, in batches of ``FOLD_BATCH``."""
    last_id = 0
    while True:
        batch = list(
            session.scalars(
                select(Request)
                .where(Request.agency_id.in_(scope.agency_ids), Request.id > last_id)
                .order_by(Request.id)
                .limit(FOLD_BATCH)
            )
        )
        if not batch:
            return
        last_id = batch[-1].id
        events = session.scalars(
            select(Event)
            .where(Event.request_id.in_([r.id for r in batch]))
            .order_by(Event.request_id, Event.seq)
        )
        by_request = {rid: list(evs) for rid, evs in groupby(events, key=lambda e: e.request_id)}
        for request in batch:
            yield request, by_request.get(request.id, [])


def fold_counts(session: Session, scope: Scope, year: int, fmt: str) -> Counter[Cell]:
    """Base cells of table 三 by folding the event log (the reference path)."""
    counts: Counter[Cell] = Counter()
    for request, events in _histories(session, scope):
        facts = facts_from_events(request.received_on, events)
        counts.update(request_cells(request.applicant_kind, facts, year, fmt))
    return counts


def _row_conditions(year: int) -> dict[str, Any]:
    """SQL for the non-outcome rows of table 三 over ``request_facts`` (SPEC §6).

    The same expressions drive the fast path's ``GROUP BY`` and the drill-down lists,
    so a number and the list behind it cannot disagree.
    """
    start, end = year_bounds(year)
    f = RequestFacts
    concluded_after = lambda day: or_(f.concluded_on.is_(None), f.concluded_on > day)  # noqa: E731
    return {
        NEW_RECEIVED: f.received_on.between(start, end),
        CARRIED_OVER: and_(f.received_on < start, concluded_after(start - timedelta(days=1))),
        CARRIED_FORWARD: and_(f.received_on <= end, concluded_after(end)),
        TOTAL_CONCLUDED: and_(f.concluded_on.between(start, end), f.outcome.is_not(None)),
    }


def _live(scope: Scope) -> Any:
    f = RequestFacts
    return and_(f.agency_id.in_(scope.agency_ids), f.voided.is_(False))


def fast_counts(session: Session, scope: Scope, year: int) -> Counter[Cell]:
    """The same base cells from the projection, aggregated in SQL (outcome codes as rows)."""
    f = RequestFacts
    rows_sql = _row_conditions(year)
    flat = (NEW_RECEIVED, CARRIED_OVER, CARRIED_FORWARD)
    counts: Counter[Cell] = Counter()
    result = session.execute(
        select(f.applicant_kind, *(func.sum(case((rows_sql[r], 1), else_=0)) for r in flat))
        .where(_live(scope), f.received_on <= year_bounds(year)[1])
        .group_by(f.applicant_kind)
    )
    for kind, *values in result:
        for row, value in zip(flat, values, strict=True):
            counts[(row, kind)] += int(value or 0)
    concluded = session.execute(
        select(f.applicant_kind, f.outcome, func.count())
        .where(_live(scope), rows_sql[TOTAL_CONCLUDED])
        .group_by(f.applicant_kind, f.outcome)
    )
    for kind, outcome, n in concluded:
        counts[(outcome, kind)] += int(n)
    return +counts


def cell_request_ids(
    session: Session, scope: Scope, year: int, fmt: str, row: str, column: str, limit: int = 500
) -> list[int]:
    """The requests behind one cell of table 三 (the drill-down), oldest first."""
    layout = table3_layout(fmt)
    f = RequestFacts
    if row not in layout.row_keys or column not in layout.column_keys:
        raise NotFound("统计表中没有这个单元格")
    conditions = _row_conditions(year)
    if row in conditions:
        where = conditions[row]
    else:
        where = and_(conditions[TOTAL_CONCLUDED], f.outcome.in_(layout.row(row).outcome_codes))
    stmt = select(f.request_id).where(_live(scope), where)
    if column != TOTAL:
        stmt = stmt.where(f.applicant_kind == column)
    return list(session.scalars(stmt.order_by(f.received_on, f.request_id).limit(limit)))


def table3_for(
    session: Session, scope: Scope, year: int, fmt: str, *, fast: bool = True
) -> Table3Counts:
    counts = fast_counts(session, scope, year) if fast else fold_counts(session, scope, year, fmt)
    return table3_from_counts(counts, fmt)


def derive(
    session: Session,
    scope: Scope,
    year: int,
    fmt: str | None = None,
    *,
    fast: bool = True,
    table4: Table4Counts | None = None,
) -> Statistics:
    """Tables 三 and 四 of ``year`` with every check, rule 5 against the previous year."""
    from workflow.challenge_stats import table4_for

    fmt = format_for_year(year, fmt)
    t3 = table3_for(session, scope, year, fmt, fast=fast)
    t4 = table4 if table4 is not None else table4_for(session, scope, year)
    previous = table3_for(session, scope, year - 1, format_for_year(year - 1), fast=fast)
    return Statistics(scope, year, fmt, t3, t4, checks(t3, t4, fmt, previous))


@dataclass(frozen=True)
class Difference:
    cell: str
    fold: int
    fast: int


def differences(a: Table3Counts, b: Table3Counts) -> list[Difference]:
    """Cell-by-cell differences between two table 三 (also used for frozen reports)."""
    return [
        Difference(f"{row}.{col}", a.get(row, {}).get(col, 0), b.get(row, {}).get(col, 0))
        for row in sorted(set(a) | set(b))
        for col in sorted(set(a.get(row, {})) | set(b.get(row, {})))
        if a.get(row, {}).get(col, 0) != b.get(row, {}).get(col, 0)
    ]


def verify(session: Session, scope: Scope, years: Sequence[int]) -> dict[int, list[Difference]]:
    """Recompute each year from the log and compare with the fast path."""
    found: dict[int, list[Difference]] = {}
    for year in years:
        fmt = format_for_year(year)
        diff = differences(
            table3_for(session, scope, year, fmt, fast=False),
            table3_for(session, scope, year, fmt, fast=True),
        )
        if diff:
            found[year] = diff
    return found


def years_with_data(session: Session, scope: Scope) -> list[int]:
    """Every year from the first receipt to the last conclusion in the scope."""
    f = RequestFacts
    first, last_received, last_concluded = session.execute(
        select(func.min(f.received_on), func.max(f.received_on), func.max(f.concluded_on)).where(
            f.agency_id.in_(scope.agency_ids)
        )
    ).one()
    if first is None:
        return []
    last = max(d for d in (last_received, last_concluded) if d is not None)
    return list(range(first.year, last.year + 1))


def verify_projection(session: Session, scope: Scope, *, repair: bool = False) -> list[int]:
    """Ids of requests whose projection row (facts and stored clock) differs from their
    events under today's calendar; rebuilt if asked."""
    calendar = load_calendar(session)
    stale: list[int] = []
    for request, events in _histories(session, scope):
        expected = {
            "applicant_kind": request.applicant_kind,
            **projection_values(request.received_on, events, calendar),
        }
        row = session.get(RequestFacts, request.id)
        actual = None if row is None else {c: getattr(row, c) for c in expected}
        if actual != expected:
            stale.append(request.id)
            if repair:
                project(session, request, events, calendar)
    if repair:
        session.flush()
    return stale
