"""The append-only event log: the truth every state, deadline and statistic comes from.

Rows are only ever inserted. ``forbid_event_changes`` refuses any update or delete at
flush time; the migrations add database triggers that refuse them too, so neither a bug
nor a hand-written SQL statement can rewrite history.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, utcnow
from models.request import Request
from models.user import User


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete a recorded event."""


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("request_id", "seq"),
        Index("ix_events_effective", "effective_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"))
    seq: Mapped[int]
    trigger: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    effective_date: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    request: Mapped[Request] = relationship()
    actor: Mapped[User | None] = relationship()


@event.listens_for(Session, "before_flush")
def forbid_event_changes(session: Session, _context: object, _instances: object) -> None:
    for obj in session.deleted:
        if isinstance(obj, Event):
            raise AppendOnlyError("事件记录只能追加，不能删除")
    for obj in session.dirty:
        if isinstance(obj, Event) and session.is_modified(obj):
            raise AppendOnlyError("事件记录只能追加，不能修改")
