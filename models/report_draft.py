"""The annual report's hand-written parts, and the PDF frozen at publication.

``ReportDraft`` holds what staff write for the yearly report (docs/domain.md §7): the narrative
sections 一、五、六, the issuing office and date, the format override and the table 二
figures (主动公开, entered, not derived). It is a working document, not the legal log,
so it is updated in place; ``version`` is an optimistic lock so two editors saving at
once get a conflict message instead of silently overwriting each other.

``PublishedReportPdf`` is the exact PDF of a published report. Published reports are
append-only (a database trigger refuses every UPDATE), so the PDF cannot be added to the
``published_reports`` row after it was inserted; it lives in its own append-only row,
one per publication, which the publish action inserts in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.agency import Agency
from models.base import Base, in_list, utcnow
from models.report import PublishedReport
from models.user import User
from workflow.catalog.outcomes import FORMATS


class ReportDraft(Base):
    __tablename__ = "report_drafts"
    __table_args__ = (
        UniqueConstraint("agency_id", "year", "with_subordinates"),
        CheckConstraint("format IS NULL OR " + in_list("format", FORMATS), name="format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    year: Mapped[int]
    with_subordinates: Mapped[bool] = mapped_column(default=False)
    #: Report format override; NULL = the format of the year (``format_for_year``).
    format: Mapped[str | None] = mapped_column(String(8))
    #: 一、总体情况
    overview: Mapped[str] = mapped_column(Text, default="")
    #: 五、存在的主要问题及改进情况
    problems: Mapped[str] = mapped_column(Text, default="")
    #: 六、其他需要报告的事项 (empty = pre-filled with the year's fee figures)
    other_matters: Mapped[str] = mapped_column(Text, default="")
    #: Issuing office printed at the end (empty = the agency's name).
    issuer: Mapped[str] = mapped_column(String(200), default="")
    issued_on: Mapped[date | None] = mapped_column(Date)
    #: Table 二 values by layout cell key ("rules.new_made"): ints, amounts as strings.
    table2: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    agency: Mapped[Agency] = relationship()
    updated_by: Mapped[User | None] = relationship()

    __mapper_args__: ClassVar[dict[str, object]] = {"version_id_col": version}


class PublishedReportPdf(Base):
    __tablename__ = "published_report_pdfs"

    id: Mapped[int] = mapped_column(primary_key=True)
    published_report_id: Mapped[int] = mapped_column(
        ForeignKey("published_reports.id"), unique=True
    )
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    #: SHA-256 of ``pdf``, hex: shown on the page and compared with a fresh rendering.
    pdf_hash: Mapped[str] = mapped_column(String(64))
    #: The font the PDF was set in (a different font alone changes the bytes).
    font: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    published_report: Mapped[PublishedReport] = relationship()
