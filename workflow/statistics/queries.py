"""Annual statistics from the database: the reference fold over the event log and the
fast path over the ``request_facts`` projection, which must always agree.

The fold reads every event and applies ``workflow.statistics.facts`` and
``workflow.statistics.fold`` exactly as the unit tests do; the fast path asks the database for
the same base cells with ``GROUP BY`` and lays them out with the same
``table3_from_counts``. ``verify`` compares the two (``python app.py stats-verify``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby, pairwise
from typing import Any

from sqlalchemy import (
    Date,
    and_,
    case,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from models import Event, Request, RequestFacts
from workflow.kernel.errors import NotFound
from workflow.requests.clocks import served_for
from workflow.requests.operations import project, projection_values
from workflow.requests.spec import CONCLUDING_TRIGGERS
from workflow.statistics.challenges import table4_for
from workflow.statistics.facts import facts_from_events
from workflow.statistics.fold import (
    Cell,
    Check,
    Table3Counts,
    Table4Counts,
    checks,
    request_cells,
    table3_from_counts,
    year_bounds,
)
from workflow.statistics.layouts import format_for_year
from workflow.statistics.layouts.table3 import (
    CARRIED_FORWARD,
    CARRIED_OVER,
    NEW_RECEIVED,
    TOTAL,
    TOTAL_CONCLUDED,
    table3_layout,
)
from workflow.statistics.scope import Scope
from workflow.store.calendar import load_calendar

#: Requests read per batch by the fold, so a large agency never sits in memory at once.
FOLD_BATCH = 2000


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


def _can_count_since(start: date) -> Any:
    """Requests the fold must read for the years from ``start`` on: all but those
    received before ``start`` whose event log concludes them before it — a concluding
    event dated before ``start`` makes the first conclusion earlier still — and that
    carry no correction (which could move that date). Such a request is in no cell of
    those years (not received in them, not carried over, not concluded in them), so
    leaving it out changes no count of the fold, and an old projection row edited to
    look open is still caught: the fast path then counts it and the fold does not."""
    done_before = select(Event.request_id).where(
        Event.trigger.in_(CONCLUDING_TRIGGERS), Event.effective_date < start
    )
    corrected = select(Event.request_id).where(Event.trigger == "correct")
    return or_(
        Request.received_on >= start,
        Request.id.not_in(done_before),
        Request.id.in_(corrected),
    )


def _plain_histories(
    session: Session, scope: Scope, since: date | None = None
) -> Iterator[tuple[Any, list[Any]]]:
    """Every request of the scope (id, agency, receipt date, applicant kind) that can
    count in the years from ``since`` on (``_can_count_since``; every one if None),
    with the columns of its events that the facts read, as plain rows in batches of
    ``FOLD_BATCH``: the fold needs no ORM objects, and building them was most of its
    cost (the supervisor's tracker folds a whole subtree on every view)."""
    last_id = 0
    relevant = true() if since is None else _can_count_since(since)
    while True:
        batch = session.execute(
            select(Request.id, Request.agency_id, Request.received_on, Request.applicant_kind)
            .where(Request.agency_id.in_(scope.agency_ids), Request.id > last_id, relevant)
            .order_by(Request.id)
            .limit(FOLD_BATCH)
        ).all()
        if not batch:
            return
        last_id = batch[-1].id
        events = session.execute(
            select(Event.request_id, Event.id, Event.trigger, Event.effective_date, Event.payload)
            .where(Event.request_id.in_([r.id for r in batch]))
            .order_by(Event.request_id, Event.seq)
        )
        by_request = {rid: list(evs) for rid, evs in groupby(events, key=lambda e: e.request_id)}
        for request in batch:
            yield request, by_request.get(request.id, [])


def fold_counts_by_agency(
    session: Session, scope: Scope, formats: Mapping[int, str]
) -> dict[int, dict[int, Counter[Cell]]]:
    """Base cells of table 三 by folding the event log (the reference path), for each
    year of ``formats`` (year → format) and each agency of the scope apart, in one pass
    over the log (agency → year → cells; agencies without a counted request may be
    absent). Requests concluded before the first year are not read (``_can_count_since``).
    """
    found: dict[int, dict[int, Counter[Cell]]] = {}
    since = date(min(formats), 1, 1) if formats else None
    for request, events in _plain_histories(session, scope, since):
        facts = facts_from_events(request.received_on, events)
        by_year = found.get(request.agency_id)
        if by_year is None:
            by_year = found[request.agency_id] = {year: Counter() for year in formats}
        for year, fmt in formats.items():
            by_year[year].update(request_cells(request.applicant_kind, facts, year, fmt))
    return found


def fold_counts(session: Session, scope: Scope, year: int, fmt: str) -> Counter[Cell]:
    """Base cells of table 三 by folding the event log (the reference path)."""
    counts: Counter[Cell] = Counter()
    for by_year in fold_counts_by_agency(session, scope, {year: fmt}).values():
        counts.update(by_year[year])
    return counts


def _row_conditions(year: int, f: Any = RequestFacts) -> dict[str, Any]:
    """SQL for the non-outcome rows of table 三 over ``request_facts`` (docs/domain.md §6).

    The same expressions drive the fast path's ``GROUP BY`` and the drill-down lists,
    so a number and the list behind it cannot disagree. ``f`` holds the columns
    ``received_on``, ``concluded_on`` and ``outcome``: the table's, or the grouped rows
    of ``fast_counts_of``.
    """
    start, end = year_bounds(year)
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


#: The rows of table 三 given by a condition of ``_row_conditions`` (the others are outcomes).
_CONDITION_ROWS = (NEW_RECEIVED, CARRIED_OVER, CARRIED_FORWARD, TOTAL_CONCLUDED)


def _opaque(condition: Any) -> Any:
    """``condition`` as a CASE (NULL is false): the same test, hidden from SQLite's
    planner, which would otherwise answer a test of ``concluded_on`` from a
    ``concluded_on`` index and look every row of those years up in the table, instead of
    filtering the range of the covering index that it scans anyway."""
    return case((condition, true()), else_=false())


def _day_class(column: Any, bounds: Sequence[date]) -> Any:
    """A date replaced by the first day of the stretch between ``bounds`` it lies in.

    ``bounds`` are the dates the conditions of the years compare with (1 January of
    each year and of the year after), and every such comparison is ``day < bound`` or
    its negation (``day <= 31 December`` is ``day < 1 January``): it comes out the same
    for a day and for its stretch's first day. Days before the first bound become the
    day before it; NULL (still open) stays NULL.
    """
    whens: list[tuple[Any, Any]] = [(column.is_(None), null())]
    first_days = [bounds[0] - timedelta(days=1), *bounds[:-1]]
    for bound, first_day in zip(bounds, first_days, strict=True):
        whens.append((column < bound, literal(first_day, Date)))
    return case(*whens, else_=literal(bounds[-1], Date))


def _counted_groups(scope: Scope, bounds: Sequence[date], *, by_agency: bool = False) -> Any:
    """The rows that can be in a cell of the years from ``bounds[0]`` to the day before
    ``bounds[-1]``, counted (``n``) by ``kind``, ``outcome`` and the stretches between
    ``bounds`` their dates lie in (``received_on``, ``concluded_on``; see ``_day_class``).

    Those rows: received in the years; received before, and open or concluded since
    (carried over); received after, and concluded in the years (the workflow's date
    guards rule that out, but the conditions would count it). Any other row is in no
    cell of these years: leaving it out changes no number, and spares the ``GROUP BY``
    the rows of all earlier years. With ``by_agency`` each group is also kept apart by
    agency (``agency_id``), for per-agency tables from the same one statement. Each part
    reads one range of
    ``ix_request_facts_covering`` (agency, receipt date, …); of the earlier years' rows
    only their index entries are scanned. Most rows were received and concluded in the
    same stretch: those are grouped by kind and outcome alone, their stretch a constant
    (SQLite sorts every row it groups, faster on a shorter key).
    """
    f = RequestFacts
    first, after = bounds[0], bounds[-1]
    kind, outcome = f.applicant_kind.label("kind"), f.outcome.label("outcome")
    agency = (f.agency_id if by_agency else literal(0)).label("agency_id")
    agency_key = (f.agency_id,) if by_agency else ()
    grouped = []
    others = [
        and_(f.received_on < first, not_(_opaque(f.concluded_on < first))),
        and_(
            f.received_on >= after, _opaque(and_(f.concluded_on >= first, f.concluded_on < after))
        ),
    ]
    for lo, hi in pairwise(bounds):
        received = and_(f.received_on >= lo, f.received_on < hi)
        same = _opaque(and_(f.concluded_on >= lo, f.concluded_on < hi))
        grouped.append(
            select(
                agency,
                kind,
                outcome,
                literal(lo, Date).label("received_on"),
                literal(lo, Date).label("concluded_on"),
                func.count().label("n"),
            )
            .where(_live(scope), received, same)
            .group_by(*agency_key, f.applicant_kind, f.outcome)
        )
        others.append(and_(received, not_(same)))
    columns = (
        agency,
        kind,
        outcome,
        _day_class(f.received_on, bounds).label("received_on"),
        _day_class(f.concluded_on, bounds).label("concluded_on"),
    )
    rows = union_all(*(select(*columns).where(_live(scope), o) for o in others)).subquery()
    keys = (
        rows.c.agency_id,
        rows.c.kind,
        rows.c.outcome,
        rows.c.received_on,
        rows.c.concluded_on,
    )
    grouped.append(select(*keys, func.count().label("n")).group_by(*keys))
    return union_all(*grouped).subquery()


def fast_counts_of(
    session: Session, scope: Scope, years: Sequence[int]
) -> dict[int, Counter[Cell]]:
    """The base cells of several years from the projection, in one statement.

    The rows that can count are reduced to their applicant kind, outcome and the
    stretches their two dates lie in, and counted per such group in SQL
    (``_counted_groups``); the conditions of ``_row_conditions`` then decide over those
    few hundred groups which cells each adds to, so the numbers are those of the
    conditions over every row. Outcome codes stand for their rows, as in
    ``table3_from_counts``.
    """
    return _tally(session, scope, years, by_agency=False).get(0, {y: Counter() for y in years})


def fast_counts_by_agency(
    session: Session, scope: Scope, years: Sequence[int]
) -> dict[int, dict[int, Counter[Cell]]]:
    """:func:`fast_counts_of` for each agency of ``scope`` apart (agency → year → cells),
    still in one statement: the supervisor's report tracker and the breakdown of the
    consolidated tables. Agencies without a counted request are absent."""
    return _tally(session, scope, years, by_agency=True)


def _tally(
    session: Session, scope: Scope, years: Sequence[int], *, by_agency: bool
) -> dict[int, dict[int, Counter[Cell]]]:
    years = sorted(set(years))
    bounds = sorted({date(y, 1, 1) for y in years} | {date(y + 1, 1, 1) for y in years})
    groups = _counted_groups(scope, bounds, by_agency=by_agency)
    cells = [(year, row) for year in years for row in _CONDITION_ROWS]
    conditions = {year: _row_conditions(year, groups.c) for year in years}
    hits = [case((conditions[year][row], 1), else_=0) for year, row in cells]
    found: dict[int, dict[int, Counter[Cell]]] = {}
    for agency_id, kind, outcome, n, *hit in session.execute(
        select(groups.c.agency_id, groups.c.kind, groups.c.outcome, groups.c.n, *hits)
    ):
        counts = found.setdefault(int(agency_id), {year: Counter() for year in years})
        for (year, row), on in zip(cells, hit, strict=True):
            if on:
                counts[year][(outcome if row == TOTAL_CONCLUDED else row, kind)] += int(n)
    return {a: {year: +c for year, c in by_year.items()} for a, by_year in found.items()}


def fast_counts(session: Session, scope: Scope, year: int) -> Counter[Cell]:
    """The same base cells from the projection, aggregated in SQL (outcome codes as rows)."""
    return fast_counts_of(session, scope, [year])[year]


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
    fmt = format_for_year(year, fmt)
    previous_fmt = format_for_year(year - 1)
    if fast:  # both years from one statement
        counts = fast_counts_of(session, scope, (year - 1, year))
        t3 = table3_from_counts(counts[year], fmt)
        previous = table3_from_counts(counts[year - 1], previous_fmt)
    else:
        t3 = table3_for(session, scope, year, fmt, fast=False)
        previous = table3_for(session, scope, year - 1, previous_fmt, fast=False)
    t4 = table4 if table4 is not None else table4_for(session, scope, year)
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
    formats = {year: format_for_year(year) for year in years}
    folded: dict[int, Counter[Cell]] = {year: Counter() for year in years}
    for by_year in fold_counts_by_agency(session, scope, formats).values():
        for year in years:
            folded[year].update(by_year[year])
    found: dict[int, list[Difference]] = {}
    for year, fmt in formats.items():
        diff = differences(
            table3_from_counts(folded[year], fmt),
            table3_for(session, scope, year, fmt, fast=True),
        )
        if diff:
            found[year] = diff
    return found


#: The name the fold check carries wherever it is shown (tracker, statistics).
FOLD_RULE = "核对：统计数 = 按办理记录重新计算的数（stats-verify）"
#: Differing cells named in a failed fold check's detail (the rest are counted).
FOLD_DETAIL_CELLS = 5


def fold_check(year: int, fmt: str, folded: Counter[Cell], stored: Counter[Cell]) -> Check:
    """The stored projection's table 三 of ``year`` against the fold of the event log:
    what ``stats-verify`` checks, as one ``Check`` a page can list beside rules 1–8.
    A difference means a ``request_facts`` row no longer says what the request's
    events say (changed behind the application's back, or a defect): every count the
    tables show for that year is in doubt until ``stats-verify --repair``."""
    diff = differences(table3_from_counts(folded, fmt), table3_from_counts(stored, fmt))
    if not diff:
        return Check(FOLD_RULE, True, f"{year}年表三：统计数与办理记录重新计算一致", ())
    layout = table3_layout(fmt)
    named = []
    for d in diff[:FOLD_DETAIL_CELLS]:
        row, column = d.cell.split(".", 1)
        label = f"{'·'.join(layout.row(row).path)}·{layout.column(column).full_label}"
        named.append(f"{label}统计为{d.fast}、重新计算为{d.fold}")
    more = f"等{len(diff)}处" if len(diff) > FOLD_DETAIL_CELLS else ""
    detail = (
        f"{year}年表三与办理记录不一致：{'；'.join(named)}{more}"
        "（统计投影被改动或有缺陷，请运行 stats-verify --repair 并核查）"
    )
    return Check(FOLD_RULE, False, detail, tuple(d.cell for d in diff))


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
            **projection_values(
                request.received_on,
                events,
                calendar,
                served_for(session, request.id, events),
                subject=request.subject,
                applicant_name=request.applicant_name,
            ),
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
