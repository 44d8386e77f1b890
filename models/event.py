"""Append-only event logs: the truth every state, deadline and statistic comes from.

Requests and challenges each have a log with the same columns (``EventColumns``).
Rows are only ever inserted: ``forbid_event_changes`` refuses any update or delete at
flush time, and the migrations add database triggers that refuse them too, so neither a
bug nor a hand-written SQL statement can rewrite history.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, relationship

import settings
from models.agency import AgencyChange
from models.base import Base, utcnow
from models.challenge import Challenge
from models.pii import EncryptedPayload
from models.report import PublishedReport, ReportCorrection
from models.report_draft import PublishedReportPdf
from models.request import Request
from models.security import SecurityLogEntry
from models.user import User
from workflow.kernel import chain


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
    #: Personal values in it are encrypted at rest with ``GONGKAI_PII_KEY`` (``models.pii``).
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedPayload(), default=dict)
    #: This event's link in its record's hash chain (``workflow.kernel.chain``): a digest
    #: of the columns above and of the previous event's ``hash``.
    hash: Mapped[str | None] = mapped_column(String(80))

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


def chain_algorithm() -> str:
    """The digest new links of the hash chains use (``GONGKAI_LOG_HASH``), if available here.

    An unavailable choice falls back to SHA-256 rather than stopping every write; the
    digest names its algorithm, so ``verify-log`` shows which one each event used.
    """
    chosen = settings.log_hash()
    return chosen if chosen in chain.ALGORITHMS and chain.available(chosen) else chain.SHA256


#: Row classes that may only ever be inserted (the logs and what was published).
APPEND_ONLY: tuple[type, ...] = (
    EventColumns,
    PublishedReport,
    PublishedReportPdf,
    SecurityLogEntry,
    ReportCorrection,
    AgencyChange,
)

#: The tables the application's database role may only read and append to
#: (``models.db_roles``), with the columns it may still fill in once: a notice's service.
APPEND_ONLY_TABLES: dict[str, tuple[str, ...]] = {
    "events": (),
    "challenge_events": (),
    "published_reports": (),
    "published_report_pdfs": (),
    "notices": ("served_on", "served_by_id", "served_recorded_at", "served_via"),
    "security_log": (),
    "attachments": (),
    "report_corrections": (),
    "agency_changes": (),
}


@event.listens_for(Session, "before_flush")
def forbid_event_changes(session: Session, _context: object, _instances: object) -> None:
    for obj in session.deleted:
        if isinstance(obj, APPEND_ONLY):
            raise AppendOnlyError("事件记录和已发布的报告只能追加，不能删除")
    for obj in session.dirty:
        if isinstance(obj, APPEND_ONLY) and session.is_modified(obj):
            raise AppendOnlyError("事件记录和已发布的报告只能追加，不能修改")
