"""A reconsideration or lawsuit against the handling of a request (docs/domain.md §5).

Like a request, its ``state`` is a cache of its append-only events (``challenge_events``)
and ``version`` guards against two legal officers recording at once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, in_list, utcnow
from models.request import Request
from workflow.catalog.challenges import INSTANCES, KINDS, ROUTES


class Challenge(Base):
    __tablename__ = "challenges"
    __table_args__ = (
        CheckConstraint(in_list("kind", tuple(k for k, _ in KINDS)), name="kind"),
        CheckConstraint(
            "route IS NULL OR " + in_list("route", tuple(r for r, _ in ROUTES)), name="route"
        ),
        CheckConstraint(in_list("instance", tuple(i for i, _ in INSTANCES)), name="instance"),
        CheckConstraint(in_list("state", ("pending", "concluded", "voided")), name="state"),
        # The workbench's and the reminders' cases with a deadline of the agency's own due.
        Index("ix_challenges_agency_due", "agency_id", "agency_due_first"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    route: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(String(200))
    case_no: Mapped[str] = mapped_column(String(100))
    instance: Mapped[str] = mapped_column(String(20))
    filed_on: Mapped[date] = mapped_column(Date)
    prior_id: Mapped[int | None] = mapped_column(ForeignKey("challenges.id"))
    state: Mapped[str] = mapped_column(String(20))
    last_seq: Mapped[int] = mapped_column(default=0)
    #: The last event's ``hash``: the head of the log's chain (a removed tail shows).
    log_hash: Mapped[str | None] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(default=1)
    #: Projection: the first and the last of the agency's own deadlines in the case as it
    #: stands (``workflow.challenges.standing.own_deadline_span``), None when it has none
    #: or is voided; kept with every event and on every calendar change
    #: (``workflow.challenges.due_dates``), so the cases whose deadline is due are
    #: selected in SQL rather than by folding every case's log.
    agency_due_first: Mapped[date | None] = mapped_column(Date)
    agency_due_last: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[Request] = relationship()
    prior: Mapped[Challenge | None] = relationship(remote_side=[id])

    __mapper_args__: ClassVar[dict[str, object]] = {"version_id_col": version}
