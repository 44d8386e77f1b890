"""Per-agency, per-year serial numbers: tracking numbers and notice numbers (文号)."""

from __future__ import annotations

from sqlalchemy import Insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import NoticeCounter, TrackingCounter


def next_serial(
    session: Session,
    agency_id: int,
    year: int,
    counter: type[TrackingCounter] | type[NoticeCounter] = TrackingCounter,
) -> int:
    """Hand out the next serial atomically (UPDATE … RETURNING, no max() race).

    The first serial of an agency's year creates the counter row. Two clerks doing that
    at once (the first working morning of every year) both miss the UPDATE; a plain
    INSERT then fails for the second with a duplicate key. So the row is created with
    ``INSERT … ON CONFLICT DO NOTHING`` (the second waits for the first and inserts
    nothing) and the UPDATE is run again: both get a serial, in order, no gap.

    ``counter`` is the per-agency-year table: tracking numbers, or notice numbers (文号).
    No session synchronisation: nothing reads counter rows through the ORM, and the
    default ("evaluate") scans the whole identity map on every call (measured: 10 ms a
    serial with 50,000 objects loaded in the session, 0.3 ms without the scan).
    """
    stmt = (
        update(counter)
        .where(counter.agency_id == agency_id, counter.year == year)
        .values(last=counter.last + 1)
        .returning(counter.last)
        .execution_options(synchronize_session=False)
    )
    serial = session.execute(stmt).scalar()
    if serial is None:
        session.execute(
            _create_counter(session, counter).values(agency_id=agency_id, year=year, last=0)
        )
        serial = session.execute(stmt).scalar()
    assert serial is not None  # the row exists now, whoever created it
    return serial


def _create_counter(
    session: Session, counter: type[TrackingCounter] | type[NoticeCounter]
) -> Insert:
    """An INSERT of a counter row that does nothing when the row is already there."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(counter).on_conflict_do_nothing()  # type: ignore[attr-defined]
