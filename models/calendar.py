"""Admin-entered working-day data beside the ``chinesecalendar`` package."""

from __future__ import annotations

from datetime import date, datetime
from uuid import uuid4

from sqlalchemy import String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow


class CalendarOverride(Base):
    """One day whose status differs from the package (or from the weekend fallback)."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(primary_key=True)
    is_workday: Mapped[bool]
    note: Mapped[str] = mapped_column(String(100), default="")


class CalendarYear(Base):
    """A year whose State Council arrangement an admin has entered completely."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    note: Mapped[str] = mapped_column(String(200), default="")
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarRevision(Base):
    """One row whose token changes whenever the calendar does.

    Each process keeps its built ``WorkingCalendar`` until the token moves
    (``workflow.store.calendar.load_calendar``), so an action reads one short row instead of
    both calendar tables. The token is random, never a counter, so two databases (or a
    database truncated between tests) can never present the same token for different
    calendars.
    """

    __tablename__ = "calendar_revision"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(32))


def new_token() -> str:
    return uuid4().hex


@event.listens_for(Session, "before_flush")
def _calendar_changed(session: Session, _context: object, _instances: object) -> None:
    """Any written calendar row gives the calendar a new token, in the same transaction."""
    changed = (*session.new, *session.dirty, *session.deleted)
    if not any(isinstance(o, CalendarOverride | CalendarYear) for o in changed):
        return
    with session.no_autoflush:
        row = session.get(CalendarRevision, 1)
    if row is None:
        session.add(CalendarRevision(id=1, token=new_token()))
    else:
        row.token = new_token()
