"""The PDF of a published report, frozen beside its numbers.

A publication (``models.PublishedReport``) freezes the numbers; ``freeze_pdf`` freezes
the document the public saw, with its SHA-256, in an append-only row. The editor then
renders the report afresh and compares hashes: rendering is deterministic, so a
different hash means the content changed (a late event, an edited narrative or table 二),
not that time passed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import PublishedReport
from models.report_draft import PublishedReportPdf
from workflow.annual_report.report import AnnualReport, published_annual_report
from workflow.kernel.errors import ConflictError, ValidationError


@dataclass(frozen=True)
class RenderedReport:
    """A report as printed: the PDF bytes and the font they were set in (for the record)."""

    pdf: bytes
    font: str


#: Prints an annual report (``documents.report_pdf.rendered_report`` in the app); the
#: domain decides what is frozen and when, the renderer only how it looks.
ReportRenderer = Callable[[AnnualReport], RenderedReport]


def pdf_hash(pdf: bytes) -> str:
    """SHA-256 of a PDF, hex (what the page shows and compares)."""
    return hashlib.sha256(pdf).hexdigest()


def frozen_pdf(session: Session, published: PublishedReport) -> PublishedReportPdf | None:
    """The PDF frozen with ``published``, if any."""
    if published.id is None:
        return None
    return session.scalar(
        select(PublishedReportPdf).where(PublishedReportPdf.published_report_id == published.id)
    )


def freeze_pdf(
    session: Session, published: PublishedReport, render: ReportRenderer
) -> PublishedReportPdf:
    """Store the PDF of a publication, once; flush, never commit (the caller commits).

    ``render`` prints the report rebuilt from the publication's frozen numbers and the
    current draft (narrative, table 二, issuer). Call it in the publishing transaction.
    """
    if published.id is None:
        session.add(published)
        session.flush()  # the publication's id and agency, in the caller's transaction
    if frozen_pdf(session, published) is not None:
        raise ConflictError("该年度报告的PDF已在发布时固定，不能更改")
    rendered = render(published_annual_report(session, published))
    if not rendered.pdf.startswith(b"%PDF-"):
        raise ValidationError("不是PDF文件，无法固定")
    row = PublishedReportPdf(
        published_report=published,
        pdf=rendered.pdf,
        pdf_hash=pdf_hash(rendered.pdf),
        font=rendered.font[:200],
    )
    session.add(row)
    session.flush()
    return row
