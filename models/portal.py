"""Applications made on the public portal, before and after staff confirm their receipt.

An online application is legally received on the day both sides confirm it (Art. 31(3)),
so a submission is not yet a request: it waits in the agency's "待确认收到" queue, and
confirming it registers the request with that day as its receipt date. The applicant
follows it with the submission number and a random 查询码, of which only a slow hash is
kept (a short code must not be recoverable from a copy of the database).

The files sent with the application (``PortalFile``) are kept with the submission, since
there is no request yet to file them with; confirming receipt files each of them with
the registered request as an attachment attributed to the applicant
(``Attachment.submission_id``). Like attachments, they are evidence: only ever inserted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.agency import Agency
from models.base import Base, in_list, utcnow
from models.event import AppendOnlyError
from models.pii import EncryptedPayload
from models.request import Request
from workflow.catalog.attachments import ATTACHMENT_KIND_CODES, FILE_TYPE_CODES


class PortalSubmission(Base):
    __tablename__ = "portal_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    #: The number the applicant is given ("WS" and 12 random digits).
    number: Mapped[str] = mapped_column(String(32), unique=True)
    code_hash: Mapped[str] = mapped_column(String(256))
    #: The application as submitted (the registration fields, cleaned).
    #: The form as submitted; its ID number, phone and address encrypted at rest with
    #: ``GONGKAI_PII_KEY`` (``models.pii``).
    values: Mapped[dict[str, Any]] = mapped_column(EncryptedPayload())
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set when staff confirm receipt: the registered request.
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), unique=True)
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    agency: Mapped[Agency] = relationship()
    request: Mapped[Request | None] = relationship()


class PortalFile(Base):
    """A file the applicant sent with the online application (bytes in the file store)."""

    __tablename__ = "portal_files"
    __table_args__ = (
        CheckConstraint(in_list("kind", ATTACHMENT_KIND_CODES), name="kind"),
        CheckConstraint(in_list("file_type", FILE_TYPE_CODES), name="file_type"),
        Index("ix_portal_files_submission", "submission_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("portal_submissions.id"))
    kind: Mapped[str] = mapped_column(String(32))
    #: The name it was sent under, made safe (``workflow.attachments.operations``).
    file_name: Mapped[str] = mapped_column(String(200))
    file_type: Mapped[str] = mapped_column(String(16))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[PortalSubmission] = relationship()


@event.listens_for(Session, "before_flush")
def forbid_portal_file_changes(session: Session, _context: object, _instances: object) -> None:
    for obj in session.deleted:
        if isinstance(obj, PortalFile):
            raise AppendOnlyError("申请人提交的文件不能删除")
    for obj in session.dirty:
        if isinstance(obj, PortalFile) and session.is_modified(obj):
            raise AppendOnlyError("申请人提交的文件不能修改")
