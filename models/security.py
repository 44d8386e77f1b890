"""The security log and the shared rate-limit counters (docs/domain.md §13).

``SecurityLogEntry`` is append-only like the event log: ``models.event`` refuses updates
and deletes at flush time and migration 0016 adds the database triggers, so an entry,
once written, cannot be changed through the application. ``username`` and ``address``
are copied into the row (the account may be renamed, the address is not an object) and
cut to their column size, so a 450 KB submitted username costs 64 characters.

``RateHit`` is the database backend of ``workflow.store.rate_limits``: one row per counted
attempt, keyed by a SHA-256, pruned as its window passes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.user import User


class SecurityLogEntry(Base):
    __tablename__ = "security_log"
    __table_args__ = (
        Index("ix_security_log_at", "at"),
        Index("ix_security_log_agency_at", "agency_id", "at"),
        Index("ix_security_log_subject_id", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: A code of ``workflow.catalog.security.SECURITY_KINDS``.
    kind: Mapped[str] = mapped_column(String(40))
    #: Who acted (None: an anonymous visitor, or the operator at the command line).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The actor's username, or the name typed at a failed login (cut to 64 characters).
    username: Mapped[str] = mapped_column(String(64), default="")
    #: The account the entry is about (a reset password, changed roles …).
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The agency whose auditors see the entry (the subject's, else the actor's).
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    address: Mapped[str] = mapped_column(String(64), default="")
    #: What happened: before/after values, request ids, the refused path …
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_id])


class RateHit(Base):
    __tablename__ = "rate_hits"
    __table_args__ = (Index("ix_rate_hits_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Hex SHA-256 of the limit's scope and key: bounded whatever was submitted.
    key: Mapped[str] = mapped_column(String(64))
    #: Seconds since the epoch (wall clock, the same on every machine).
    at: Mapped[float] = mapped_column(Float)
