"""Issued documents (文书, docs/domain.md §9): numbered, dated, stored as the PDF that was sent.

A notice is evidence of what the agency told the applicant, so it is stored exactly as
issued (the PDF bytes and their SHA-256) and never re-rendered: a reprint is the same
file. The only later fact is when it was served (送达), recorded once, because the
applicant's remedy periods run from that day. ``forbid_notice_changes`` enforces this
at flush time; the migration adds database triggers that refuse it too.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    LargeBinary,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.orm.attributes import get_history

from models.agency import Agency
from models.base import Base, in_list, utcnow
from models.event import Event
from models.request import Request
from models.user import User
from workflow.catalog.notices import NOTICE_KIND_CODES
from workflow.catalog.outcomes import OUTCOME_BY_CODE


class NoticeImmutableError(RuntimeError):
    """Raised when code tries to change an issued notice (other than serving it once)."""


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (
        # Numbers run per agency and year across every kind (one 文号 sequence).
        UniqueConstraint("agency_id", "year", "serial"),
        # One notice per documented event: a reprint is a download, not a new number.
        UniqueConstraint("event_id"),
        CheckConstraint(in_list("kind", NOTICE_KIND_CODES), name="kind"),
        CheckConstraint(
            "outcome IS NULL OR " + in_list("outcome", tuple(OUTCOME_BY_CODE)), name="outcome"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    kind: Mapped[str] = mapped_column(String(32))
    #: The outcome a reply states (None for the other kinds).
    outcome: Mapped[str | None] = mapped_column(String(40))
    year: Mapped[int]
    serial: Mapped[int]
    #: The printed 文号, e.g. "测试机关依申〔2026〕第12号".
    number: Mapped[str] = mapped_column(String(300))
    #: The date printed on the notice: the legal date of the act it documents.
    dated_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The PDF as issued; deferred so that listing notices does not load every file.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    served_on: Mapped[date | None] = mapped_column(Date)
    #: Who recorded the service (None when a command or an import did).
    served_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    served_recorded_at: Mapped[datetime | None]
    #: How service was recorded when no clerk recorded it: ``portal`` = the applicant
    #: first opened the notice on the portal (electronic service, docs/domain.md §11.6).
    served_via: Mapped[str | None] = mapped_column(String(20))

    agency: Mapped[Agency] = relationship()
    request: Mapped[Request] = relationship()
    event: Mapped[Event] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    served_by: Mapped[User | None] = relationship(foreign_keys=[served_by_id])


class NoticeCounter(Base):
    """Last notice serial per agency and year (handed out by ``operations.next_serial``)."""

    __tablename__ = "notice_counters"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


#: Columns that may be filled in once after issue; every other column is frozen.
SERVICE_COLUMNS: frozenset[str] = frozenset(
    {"served_on", "served_by_id", "served_recorded_at", "served_via"}
)


@event.listens_for(Session, "before_flush")
def forbid_notice_changes(session: Session, _context: object, _instances: object) -> None:
    """Refuse deleting a notice, changing what it says, or recording service twice."""
    for obj in session.deleted:
        if isinstance(obj, Notice):
            raise NoticeImmutableError("已出具的文书不能删除")
    for obj in session.dirty:
        if not isinstance(obj, Notice) or not session.is_modified(obj):
            continue
        for column in Notice.__table__.columns:
            changed = get_history(obj, column.key)
            if not changed.has_changes():
                continue
            if column.key not in SERVICE_COLUMNS:
                raise NoticeImmutableError("已出具的文书内容不能修改")
            if any(value is not None for value in changed.deleted):
                raise NoticeImmutableError("送达日期已记录，不能更改")
