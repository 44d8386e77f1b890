"""Reply deadlines selected in SQL, from the clock stored in ``request_facts``.

Why: the workbench and the list's "overdue only" filter used to replay the events of
every open request to find its deadline — 10,891 open requests for a province at 1M
requests, 1–2.7 s a page (bench/RESULTS.md). The projection now keeps the part of the
reply clock that does not depend on ``today`` (``workflow.requests.deadlines.StoredClock``):
the due date of a running clock, or "paused". Running clocks are selected by date in
SQL; paused ones slide every day, are few, and are computed from their events here.

The stored date depends on the working calendar, so every calendar change recomputes
the clock of every open request in the same transaction (:func:`refresh_open_clocks`,
called by ``workflow.admin.operations`` and by ``init`` after migrating, which also covers a
``chinesecalendar`` upgrade); ``stats-verify`` checks the stored clocks nightly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from itertools import groupby, islice
from operator import attrgetter
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from models import Event, Request, RequestFacts
from workflow.catalog.states import OPEN_STATES
from workflow.kernel.calendar import WorkingCalendar
from workflow.requests.deadlines import StoredClock, compute_deadlines, stored_clock

#: Requests whose events are read per statement while refreshing (bounded memory, and
#: well below SQLite's limit on bound parameters).
CHUNK = 2000

_OPEN = [s.value for s in OPEN_STATES]


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _events_of(session: Session, request_ids: Sequence[int]) -> dict[int, list[Any]]:
    """The clock-relevant columns of the requests' events, each list in log order."""
    rows = session.execute(
        select(Event.request_id, Event.trigger, Event.effective_date, Event.payload)
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
            select(Request.id, Request.received_on, f.reply_due, f.paused)
            .join(f, f.request_id == Request.id)
            .where(Request.state.in_(_OPEN))
        )
    )
    table = f.__table__
    write = (
        update(table)
        .where(table.c.request_id == bindparam("rid"))
        .values(reply_due=bindparam("due"), paused=bindparam("is_paused"))
    )
    moved = 0
    for chunk in _chunks(rows, CHUNK):
        events = _events_of(session, [r.id for r in chunk])
        changes = []
        for rid, received_on, reply_due, paused in chunk:
            clock = stored_clock(received_on, events[rid], calendar)
            if clock != StoredClock(reply_due, bool(paused)):
                changes.append({"rid": rid, "due": clock.reply_due, "is_paused": clock.paused})
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
    """Paused requests whose sliding deadline has passed anyway (paused after it ran out)."""
    f = RequestFacts
    paused = list(
        session.execute(
            select(f.request_id, f.received_on).where(
                f.agency_id.in_(agency_ids), f.paused.is_(True)
            )
        )
    )
    found = []
    for chunk in _chunks(paused, CHUNK):
        events = _events_of(session, [rid for rid, _ in chunk])
        found.extend(
            rid
            for rid, received_on in chunk
            if compute_deadlines(received_on, events[rid], calendar, today).overdue(today)
        )
    return found


def overdue_condition(
    session: Session, agency_ids: Iterable[int], calendar: WorkingCalendar, today: date
) -> ColumnElement[bool]:
    """``Request`` rows whose reply deadline has passed: running clocks by date in SQL,
    paused ones from their events (the same answer as ``Deadlines.overdue``).

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
    """Running clocks due on or before ``until`` (and after ``after``, if given): how many,
    and the ids of the first ``limit`` by due date (most urgent first)."""
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
