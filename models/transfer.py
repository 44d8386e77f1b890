"""Where a transferred request came from: the source system and its own reference.

A 12345 hotline ticket or a platform case is registered once per agency however often
the source system retries (``workflow.online.transfers``): the unique key below is what makes a
retry find the request registered the first time, even when two retries race.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.request import Request


class RequestTransfer(Base):
    __tablename__ = "request_transfers"
    __table_args__ = (UniqueConstraint("agency_id", "source", "reference"),)

    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    #: The sending system ("12345", a platform's name), as the token's caller names it.
    source: Mapped[str] = mapped_column(String(32))
    #: The case number in the sending system.
    reference: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[Request] = relationship()
