"""Append-only event logs: the truth every state, deadline and statistic comes from.

Requests and challenges each have a log with the same columns (``EventColumns``).
Rows are only ever inserted: ``forbid_event_changes`` refuses any update or delete at
flush time, and the migrations add database triggers that refuse them too, so neither a
bug nor a hand-written SQL statement can rewrite history.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, relationship

from models.agency import AgencyChange
from models.base import Base, utcnow
from models.challenge import Challenge
from models.report import PublishedReport, ReportCorrection
from models.report_draft import PublishedReportPdf
from models.request import Request
from models.user import User


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete a recorded event."""


class EventColumns:
    """Who, when recorded, the legal effective date, the payload: one state change."""

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int]
    trigger: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    effective_date: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    @declared_attr
    def actor_id(cls) -> Mapped[int | None]:  # noqa: N805 - SQLAlchemy declared_attr
        return mapped_column(ForeignKey("users.id"))

    @declared_attr
    def actor(cls) -> Mapped[User | None]:  # noqa: N805
        return relationship()


class Event(EventColumns, Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("request_id", "seq"),
        Index("ix_events_effective", "effective_date"),
        # Fees of a year for the annual report's section 六 (bench/RESULTS.md).
        Index("ix_events_trigger_effective", "trigger", "effective_date"),
    )

    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"))
    request: Mapped[Request] = relationship()


class ChallengeEvent(EventColumns, Base):
    __tablename__ = "challenge_events"
    __table_args__ = (UniqueConstraint("challenge_id", "seq"),)

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    challenge: Mapped[Challenge] = relationship()


#: Row classes that may only ever be inserted (the logs and what was published).
APPEND_ONLY: tuple[type, ...] = (
    EventColumns,
    PublishedReport,
    PublishedReportPdf,
    ReportCorrection,
    AgencyChange,
)


@event.listens_for(Session, "before_flush")
def forbid_event_changes(session: Session, _context: object, _instances: object) -> None:
    for obj in session.deleted:
        if isinstance(obj, APPEND_ONLY):
            raise AppendOnlyError("事件记录和已发布的报告只能追加，不能删除")
    for obj in session.dirty:
        if isinstance(obj, APPEND_ONLY) and session.is_modified(obj):
            raise AppendOnlyError("事件记录和已发布的报告只能追加，不能修改")
