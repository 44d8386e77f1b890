"""Published annual statistics: frozen numbers with a content hash, never changed.

A publication is inserted once and protected like the event logs (code guard and
database trigger). The report page compares it with a fresh derivation cell by cell.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.agency import Agency
from models.base import Base, utcnow
from models.user import User


class PublishedReport(Base):
    __tablename__ = "published_reports"
    __table_args__ = (UniqueConstraint("agency_id", "year", "with_subordinates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    year: Mapped[int]
    with_subordinates: Mapped[bool] = mapped_column(default=False)
    format: Mapped[str] = mapped_column(String(8))
    #: The statistics JSON (docs/domain.md §11 schema) exactly as published.
    numbers: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: This publication's link in its agency's chain of publications
    #: (``workflow.annual_report.publishing.report_link``).
    chain_hash: Mapped[str | None] = mapped_column(String(80))
    #: The agency's name when it published (a renamed agency's history keeps it).
    agency_name: Mapped[str | None] = mapped_column(String(200))

    agency: Mapped[Agency] = relationship()
    published_by: Mapped[User | None] = relationship()


class ReportCorrection(Base):
    """A correction (更正发布) of a published year: a new numbered version, never a change.

    The first publication stays as it was (``PublishedReport`` and its PDF); each
    correction is one more append-only row with its own frozen numbers, PDF and hashes,
    the reason it was issued, who issued it and when. Version 1 is the publication,
    correction ``number`` N is version N + 1.
    """

    __tablename__ = "report_corrections"
    __table_args__ = (UniqueConstraint("published_report_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    published_report_id: Mapped[int] = mapped_column(ForeignKey("published_reports.id"))
    number: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(8))
    numbers: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    pdf_hash: Mapped[str | None] = mapped_column(String(64))
    font: Mapped[str] = mapped_column(String(200), default="")
    agency_name: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: This correction's link in its agency's chain of corrections, covering the link of
    #: the version it replaces (``workflow.annual_report.publishing.correction_link``).
    chain_hash: Mapped[str | None] = mapped_column(String(80))

    published_report: Mapped[PublishedReport] = relationship()
    published_by: Mapped[User | None] = relationship()
