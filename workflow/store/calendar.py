"""The working calendar as stored: the admin's overrides and announced years, cached.

The pure arithmetic lives in ``workflow.kernel.calendar``; this is the one read of its
inputs from the database that every feature shares.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CalendarOverride, CalendarRevision, CalendarYear
from workflow.kernel.calendar import MemoCalendar, WorkingCalendar

#: Built calendars by revision token (``models.calendar.CalendarRevision``); a handful at
#: most, since a token only moves when an admin edits the calendar.
_CALENDARS: dict[str, WorkingCalendar] = {}
_MAX_CALENDARS = 8


def load_calendar(session: Session) -> WorkingCalendar:
    """The working calendar as this transaction sees it, built once per token per process.

    Measured at ~0.5 ms and two statements per action before (bench/RESULTS.md); now one
    primary-key read. The calendar memoises its answers (``MemoCalendar``): a list page
    explains twenty deadlines over the same weeks, and every page of the process asks
    again. Without a token row (never the case after migrating) nothing is cached.
    """
    token = session.scalar(select(CalendarRevision.token).where(CalendarRevision.id == 1))
    found = _CALENDARS.get(token) if token is not None else None
    if found is not None:
        return found
    overrides = {o.day: o.is_workday for o in session.scalars(select(CalendarOverride))}
    years = set(session.scalars(select(CalendarYear.year)))
    calendar = MemoCalendar(overrides, years)
    if token is not None:
        if len(_CALENDARS) >= _MAX_CALENDARS:
            _CALENDARS.clear()
        _CALENDARS[token] = calendar
    return calendar
