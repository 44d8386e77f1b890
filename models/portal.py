"""Applications made on the public portal, before and after staff confirm their receipt.

An online application is legally received on the day both sides confirm it (Art. 31(3)),
so a submission is not yet a request: it waits in the agency's "待确认收到" queue, and
confirming it registers the request with that day as its receipt date. The applicant
follows it with the submission number and a random 查询码, of which only a slow hash is
kept (a short code must not be recoverable from a copy of the database).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.agency import Agency
from models.base import Base, utcnow
from models.pii import EncryptedPayload
from models.request import Request


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
