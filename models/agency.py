"""Agencies (机关) form a tree: a county government and its departments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text, false, select, true
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session, relationship

from models.base import Base, utcnow


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    #: 条例 Art. 49: "department" (report by 31 January), "government" (县级以上人民政府,
    #: by 31 March) or "township" (乡镇, 31 January: a reading); None = not set (every
    #: date is shown). ``workflow.requests.reminders.REPORT_LEVELS``.
    report_level: Mapped[str | None] = mapped_column(String(20))
    #: A decision's reply is issued only after an approver signed it off (审核签发),
    #: docs/domain.md §15; off by default.
    decision_signoff: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: A deactivated agency keeps its history (requests, reports) but takes no new
    #: requests and no new users; agencies are never deleted.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: 行政复议法 Arts. 24, 27: the 复议机关 a reply names (an admin's setting, proposed by
    #: workflow.admin.operations.propose_remedy_bodies); no reply is issued without it.
    reconsideration_body: Mapped[str | None] = mapped_column(String(200))
    #: 行政诉讼法 Arts. 14–18: the court of first instance a reply names.
    court: Mapped[str | None] = mapped_column(String(200))
    #: Who last set the two (a username, or the command line) and when (naive UTC).
    remedies_updated_by: Mapped[str | None] = mapped_column(String(64))
    remedies_updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: The heads of the agency's two chains of what it published (docs/domain.md §21):
    #: the last publication's ``chain_hash`` and the last correction's, so that removing
    #: the newest one shows in ``verify-log`` as a removed event's tail does.
    report_head: Mapped[str | None] = mapped_column(String(80))
    correction_head: Mapped[str | None] = mapped_column(String(80))

    parent: Mapped[Agency | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Agency]] = relationship(back_populates="parent")

    def descendants(self) -> list[Agency]:
        """This agency and every agency below it, parents before their children (for
        consolidated statistics and administration), in two statements."""
        session = object_session(self)
        if session is None:  # not persisted: only the tree built in memory
            return [self, *(d for child in self.children for d in child.descendants())]
        ids = subtree_ids(session, self.id)
        rows = {a.id: a for a in session.scalars(select(Agency).where(Agency.id.in_(ids)))}
        return [rows[i] for i in ids]


class AgencyChange(Base):
    """One change of an agency's name, report level, sign-off rule or status, with who,
    when and why.

    Append-only history: a renamed agency's earlier name stays findable (published reports
    also froze the name they were published under), and every change has its author.
    """

    __tablename__ = "agency_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    #: ``name``, ``report_level``, ``decision_signoff`` or ``active``
    #: (``workflow.admin.agencies.FIELD_LABELS``).
    field: Mapped[str] = mapped_column(String(20))
    before: Mapped[str] = mapped_column(String(200))
    after: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


def subtree_ids(session: Session, root_id: int) -> list[int]:
    """``root_id`` and the ids of every agency below it, parents before their children.

    One read of ``(id, parent_id)`` walked in memory: every page asks it (who may read
    what), and lazy-loading each agency's children cost a statement per agency — 45 for
    a provincial reader (bench/RESULTS.md).
    """
    children: dict[int | None, list[int]] = {}
    for agency_id, parent_id in session.execute(
        select(Agency.id, Agency.parent_id).order_by(Agency.id)
    ):
        children.setdefault(parent_id, []).append(agency_id)
    found: list[int] = []
    seen: set[int] = set()
    todo = [root_id]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            found.append(current)
            todo.extend(reversed(children.get(current, ())))
    return found
