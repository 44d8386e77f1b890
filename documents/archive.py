"""The PDF of a published report, frozen beside its numbers.

A publication (``models.PublishedReport``) freezes the numbers; ``freeze_pdf`` freezes
the document the public saw, with its SHA-256, in an append-only row. The editor then
renders the report afresh and compares hashes: rendering is deterministic, so a
different hash means the content changed (a late event, an edited narrative or table 二),
not that time passed.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents.fonts import pdf_font
from documents.report_pdf import render_report_pdf
from models import PublishedReport
from models.report_draft import PublishedReportPdf
from workflow.annual_report import published_annual_report
from workflow.errors import ConflictError, ValidationError


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
    session: Session, published: PublishedReport, pdf_bytes: bytes | None = None
) -> PublishedReportPdf:
    """Store the PDF of a publication, once; flush, never commit (the caller commits).

    Without ``pdf_bytes`` the PDF is rendered here from the publication's frozen numbers
    and the current draft (narrative, table 二, issuer), in the configured font. Call it
    in the publishing transaction, after adding ``published`` to the session.
    """
    if published.id is None:
        session.add(published)
        session.flush()  # the publication's id and agency, in the caller's transaction
    if frozen_pdf(session, published) is not None:
        raise ConflictError("该年度报告的PDF已在发布时固定，不能更改")
    font = pdf_font()
    if pdf_bytes is None:
        pdf_bytes = render_report_pdf(published_annual_report(session, published), font)
    elif not pdf_bytes.startswith(b"%PDF-"):
        raise ValidationError("不是PDF文件，无法固定")
    row = PublishedReportPdf(
        published_report=published,
        pdf=pdf_bytes,
        pdf_hash=pdf_hash(pdf_bytes),
        font=font.description[:200],
    )
    session.add(row)
    session.flush()
    return row
