"""Reply deadlines selected in SQL, from the clock stored in ``request_facts``, and the
service dates of consultation letters and fee notices the clocks count from.

Why: the workbench and the list's "overdue only" filter used to replay the events of
every open request to find its deadline — 10,891 open requests for a province at 1M
requests, 1–2.7 s a page (bench/RESULTS.md). The projection now keeps the part of the
reply clock that does not depend on ``today`` (``workflow.requests.deadlines.StoredClock``):
the due date the events fix (a consultation's at the latest), or "paused" for a fee
pause that slides every day, and the other side's deadline of a running pause. Dates are
selected in SQL; sliding ones are few and computed from their events here.

The stored date depends on the working calendar, so every calendar change recomputes
the clock of every open request in the same transaction (:func:`refresh_open_clocks`,
called by ``workflow.admin.operations`` and by ``init`` after migrating, which also covers a
``chinesecalendar`` upgrade); ``stats-verify`` checks the stored clocks nightly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from itertools import groupby, islice
from operator import attrgetter
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from models import Event, Notice, Request, RequestFacts
from workflow.catalog.states import OPEN_STATES
from workflow.kernel.calendar import WorkingCalendar
from workflow.requests.deadlines import PAUSE_TRIGGERS, StoredClock, compute_deadlines, stored_clock
from workflow.requests.office import corrected_service_dates

#: Requests whose events are read per statement while refreshing (bounded memory, and
#: well below SQLite's limit on bound parameters).
CHUNK = 2000

_OPEN = [s.value for s in OPEN_STATES]
#: Notices whose service date starts the other side's time (Art. 32, 34; fee measures).
SERVICE_NOTICE_KINDS: tuple[str, ...] = ("consultation_third_party", "consultation_agency", "fee")


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def service_dates(session: Session, request_ids: Sequence[int]) -> dict[int, dict[int, date]]:
    """Recorded service dates of the requests' consultation letters and fee notices:
    request id → event id → the day the other side received it."""
    found: dict[int, dict[int, date]] = {rid: {} for rid in request_ids}
    if not request_ids:
        return found
    rows = session.execute(
        select(Notice.request_id, Notice.event_id, Notice.served_on).where(
            Notice.request_id.in_(list(request_ids)),
            Notice.kind.in_(SERVICE_NOTICE_KINDS),
            Notice.served_on.is_not(None),
        )
    )
    for rid, event_id, served_on in rows:
        found[rid][event_id] = served_on
    return found


def served_for(session: Session, request_id: int, events: Sequence[Any]) -> dict[int, date]:
    """:func:`service_dates` of one request, without a query when nothing was sent."""
    if not any(e.trigger in PAUSE_TRIGGERS for e in events):
        return {}
    return service_dates(session, [request_id])[request_id]


def served_positions(events: Sequence[Any], by_event: Mapping[int, date]) -> dict[int, date]:
    """Service dates keyed by event id → by position in ``events`` (what the clocks take)."""
    by_event = corrected_service_dates(events, by_event)
    if not by_event:
        return {}
    return {i: by_event[e.id] for i, e in enumerate(events) if e.id in by_event}


def _events_of(session: Session, request_ids: Sequence[int]) -> dict[int, list[Any]]:
    """The clock-relevant columns of the requests' events, each list in log order."""
    rows = session.execute(
        select(Event.request_id, Event.id, Event.trigger, Event.effective_date, Event.payload)
        .where(Event.request_id.in_(list(request_ids)))
        .order_by(Event.request_id, Event.seq)
    )
    found: dict[int, list[Any]] = {rid: [] for rid in request_ids}
    for rid, events in groupby(rows, key=attrgetter("request_id")):
        found[rid] = list(events)
    return found


def refresh_open_clocks(session: Session, calendar: WorkingCalendar) -> int:
    """Recompute the stored clock of every open request; returns how many moved.

    Concluded and voided requests keep no clock, so a calendar change cannot touch them.
    Only explicit columns are read and written, so a migration can call this too.
    """
    f = RequestFacts
    rows = list(
        session.execute(
            select(Request.id, Request.received_on, f.reply_due, f.paused, f.pause_due)
            .join(f, f.request_id == Request.id)
            .where(Request.state.in_(_OPEN))
        )
    )
    table = f.__table__
    write = (
        update(table)
        .where(table.c.request_id == bindparam("rid"))
        .values(
            reply_due=bindparam("due"),
            paused=bindparam("is_paused"),
            pause_due=bindparam("other_due"),
        )
    )
    moved = 0
    for chunk in _chunks(rows, CHUNK):
        ids = [r.id for r in chunk]
        events, served = _events_of(session, ids), service_dates(session, ids)
        changes = []
        for rid, received_on, reply_due, paused, pause_due in chunk:
            log = events[rid]
            clock = stored_clock(received_on, log, calendar, served_positions(log, served[rid]))
            if clock != StoredClock(reply_due, bool(paused), pause_due):
                changes.append(
                    {
                        "rid": rid,
                        "due": clock.reply_due,
                        "is_paused": clock.paused,
                        "other_due": clock.pause_due,
                    }
                )
        if changes:
            session.execute(write, changes)
            moved += len(changes)
            for change in changes:  # rows already loaded in this session must not go stale
                loaded = session.identity_map.get(session.identity_key(f, change["rid"]))
                if loaded is not None:
                    session.expire(loaded)
    return moved


def _paused_overdue(
    session: Session, agency_ids: list[int], calendar: WorkingCalendar, today: date
) -> list[int]:
    """Sliding (fee-paused) requests whose deadline has passed anyway (over a weekend)."""
    f = RequestFacts
    paused = list(
        session.execute(
            # Read by the (agency, pause_due) index: a running pause always has its
            # ``pause_due`` (``StoredClock``), so the range drops no row; ``reply_due``'s
            # test is hidden in COALESCE, because SQLite took ``reply_due IS NULL`` for
            # selective and walked every concluded request of the due-date index (0.6 s
            # for a province at 100k requests, 0.5 ms this way; bench_supervision.py).
            select(f.request_id, f.received_on).where(
                f.agency_id.in_(agency_ids),
                f.paused.is_(True),
                f.pause_due > date.min,
                func.coalesce(f.reply_due, f.reply_due).is_(None),
            )
        )
    )
    found = []
    for chunk in _chunks(paused, CHUNK):
        ids = [rid for rid, _ in chunk]
        events, served = _events_of(session, ids), service_dates(session, ids)
        found.extend(
            rid
            for rid, received_on in chunk
            if compute_deadlines(
                received_on,
                events[rid],
                calendar,
                today,
                served_positions(events[rid], served[rid]),
            ).overdue(today)
        )
    return found


def overdue_condition(
    session: Session, agency_ids: Iterable[int], calendar: WorkingCalendar, today: date
) -> ColumnElement[bool]:
    """``Request`` rows whose reply deadline has passed: stored dates in SQL, sliding
    ones from their events (the same answer as ``Deadlines.overdue``).

    One ``IN (subquery)``, never ``IN … OR IN …``: PostgreSQL turns the former into a
    semi-join, the latter into a filter over every row of the list's order (measured
    0.2–0.35 s at 1M).
    """
    ids = list(agency_ids)
    f = RequestFacts
    paused = _paused_overdue(session, ids, calendar, today)
    running = and_(f.agency_id.in_(ids), f.reply_due < today)
    where = or_(running, f.request_id.in_(paused)) if paused else running
    return Request.id.in_(select(f.request_id).where(where))


def running_due(
    session: Session, agency_ids: Iterable[int], after: date | None, until: date, limit: int
) -> tuple[int, list[int]]:
    """Stored reply deadlines on or before ``until`` (and after ``after``, if given): how
    many, and the ids of the first ``limit`` by due date (most urgent first). A
    consultation counts with the date a silent party leaves: it is what may be missed."""
    f = RequestFacts
    where = [f.agency_id.in_(list(agency_ids)), f.reply_due <= until]
    if after is not None:
        where.append(f.reply_due > after)
    count = session.scalar(select(func.count()).select_from(f).where(*where)) or 0
    ids = list(
        session.scalars(
            select(f.request_id).where(*where).order_by(f.reply_due, f.request_id).limit(limit)
        )
    )
    return count, ids


def pause_lapsed(
    session: Session, agency_ids: Iterable[int], today: date, limit: int
) -> tuple[int, list[int]]:
    """Requests whose 补正, fee or consultation deadline has passed: the lapse or the
    consulted party's opinion should now be recorded. How many, and the first ``limit``
    ids, longest lapsed first (only open requests have a ``pause_due``)."""
    f = RequestFacts
    where = [f.agency_id.in_(list(agency_ids)), f.pause_due < today]
    count = session.scalar(select(func.count()).select_from(f).where(*where)) or 0
    ids = list(
        session.scalars(
            select(f.request_id).where(*where).order_by(f.pause_due, f.request_id).limit(limit)
        )
    )
    return count, ids


def _between(ordinal: Mapping[date, int], start: date, end: date) -> int:
    """``WorkingCalendar.working_days_between`` read off the running counts."""
    return ordinal[end] - ordinal[start] if end > start else 0


def refresh_reply_days(session: Session, calendar: WorkingCalendar) -> int:
    """Recount the working days to reply (``request_facts.reply_days``) of every replied
    request under ``calendar``; returns how many changed.

    Like the stored reply deadlines, the count follows the calendar: a year entered or a
    day changed afterwards changes the working days between receipt and reply. It needs no
    events: receipt and reply dates are in the row, and a row counts as replied when its
    ``reply_days`` is set (migration 0018 marks the replied rows with -1 for this to fill).
    Each day's count of working days since the earliest receipt is built once, so every
    row costs a subtraction, not a walk over its days.
    """
    f = RequestFacts
    rows = list(
        session.execute(
            select(f.request_id, f.received_on, f.concluded_on, f.reply_days).where(
                f.reply_days.is_not(None), f.concluded_on.is_not(None)
            )
        )
    )
    if not rows:
        return 0
    first = min(r.received_on for r in rows)
    last = max(r.concluded_on for r in rows)
    ordinal: dict[date, int] = {}
    count, day = 0, first
    while day <= last:
        count += calendar.is_workday(day) if day > first else 0
        ordinal[day] = count
        day = date.fromordinal(day.toordinal() + 1)
    changes = [
        {"rid": rid, "days": days}
        for rid, received_on, concluded_on, stored in rows
        if (days := _between(ordinal, received_on, concluded_on)) != stored
    ]
    table = f.__table__
    write = (
        update(table)
        .where(table.c.request_id == bindparam("rid"))
        .values(reply_days=bindparam("days"))
    )
    for chunk in _chunks(changes, CHUNK):
        session.execute(write, list(chunk))
    for change in changes:  # rows already loaded in this session must not go stale
        loaded = session.identity_map.get(session.identity_key(f, change["rid"]))
        if loaded is not None:
            session.expire(loaded)
    return len(changes)
