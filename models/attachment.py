"""Attachments (附件): files kept with a request or one of its events (issue 15 item 5).

The row says what the file is (kind, the name it came with, its type found from the
content, size) and who filed it when; the bytes live in the file store under
``sha256`` (``models.file_store``), once however many rows name them. A filed attachment
is evidence, like an event: rows are only inserted (``forbid_attachment_changes``, and
database triggers from migration 0015), never changed or deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, in_list, utcnow
from models.event import AppendOnlyError, Event
from models.request import Request
from models.user import User
from workflow.catalog.attachments import ATTACHMENT_KIND_CODES, FILE_TYPE_CODES


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (
        CheckConstraint(in_list("kind", ATTACHMENT_KIND_CODES), name="kind"),
        CheckConstraint(in_list("file_type", FILE_TYPE_CODES), name="file_type"),
        Index("ix_attachments_request", "request_id", "id"),
        Index("ix_attachments_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"))
    #: The event it belongs to (a supplement's materials, a delivery receipt), if any.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    kind: Mapped[str] = mapped_column(String(32))
    #: The name it was uploaded under (shown, and offered when downloading).
    file_name: Mapped[str] = mapped_column(String(200))
    #: ``workflow.catalog.attachments.FileType`` found from the content.
    file_type: Mapped[str] = mapped_column(String(16))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(200), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Sent by the applicant through this online submission (then no staff user filed
    #: it: ``uploaded_by_id`` is empty and the applicant is named as its source).
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("portal_submissions.id"))

    request: Mapped[Request] = relationship()
    event: Mapped[Event | None] = relationship()
    uploaded_by: Mapped[User | None] = relationship()


@event.listens_for(Session, "before_flush")
def forbid_attachment_changes(session: Session, _context: object, _instances: object) -> None:
    for obj in session.deleted:
        if isinstance(obj, Attachment):
            raise AppendOnlyError("已归档的附件不能删除")
    for obj in session.dirty:
        if isinstance(obj, Attachment) and session.is_modified(obj):
            raise AppendOnlyError("已归档的附件不能修改")
