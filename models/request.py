"""The request row: intake facts plus a cache of its current state.

``state`` and ``last_seq`` are derived from the events (``verify-log`` checks them);
``version`` is SQLAlchemy's optimistic lock, so two clerks acting on the same request
cannot both win: the second flush finds the version moved and fails.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from models.agency import Agency
from models.base import Base, in_list, utcnow
from models.pii import INDEXED, EncryptedString, blind_index
from models.user import User
from workflow.catalog.applicants import KIND_CODES
from workflow.catalog.channels import CHANNEL_BY_CODE
from workflow.catalog.outcomes import OUTCOME_BY_CODE
from workflow.catalog.states import STORED_STATES

#: SQLite's FTS5 table over ``request_facts.search_text`` (migration 0019, kept by
#: triggers) and the shadow tables SQLite keeps for it. They are not in the metadata
#: (SQLAlchemy has no virtual tables), so schema comparisons leave them out.
SEARCH_INDEX_TABLE = "request_search"
SEARCH_INDEX_TABLES = frozenset(
    {SEARCH_INDEX_TABLE}
    | {f"{SEARCH_INDEX_TABLE}_{part}" for part in ("data", "idx", "docsize", "config")}
)


#: PostgreSQL's word index, on an expression the metadata cannot declare portably.
SEARCH_GIN_INDEX = "ix_request_facts_search"


def include_in_schema_checks(name: str | None, type_: str, parent: object) -> bool:
    """Alembic ``include_name`` hook: everything but the full-text indexes (migration 0019)."""
    if type_ == "table":
        return name not in SEARCH_INDEX_TABLES
    return not (type_ == "index" and name == SEARCH_GIN_INDEX)


class Request(Base):
    __tablename__ = "requests"
    __table_args__ = (
        UniqueConstraint("agency_id", "tracking_no"),
        UniqueConstraint("agency_id", "external_ref"),
        CheckConstraint(in_list("state", tuple(s.value for s in STORED_STATES)), name="state"),
        CheckConstraint(in_list("applicant_kind", KIND_CODES), name="applicant_kind"),
        CheckConstraint(in_list("channel", tuple(CHANNEL_BY_CODE)), name="channel"),
        Index("ix_requests_agency_state", "agency_id", "state"),
        Index("ix_requests_agency_received", "agency_id", "received_on"),
        # Keyset pages of a province-wide list ordered by receipt (bench/RESULTS.md).
        Index("ix_requests_received_id", "received_on", "id"),
        # The same for the list sorted by tracking number (1.4 s a provincial page without).
        Index("ix_requests_tracking_id", "tracking_no", "id"),
        # "My open requests, oldest first" on the workbench (and the handler filter).
        Index("ix_requests_handler_state", "handler_id", "state", "received_on"),
        # Exact identifiers a clerk searches by (workflow.requests.search): the tracking
        # number has ix_requests_tracking_id, the ledger reference its unique key.
        Index("ix_requests_id_number", "id_number"),
        Index("ix_requests_phone", "phone"),
        Index("ix_requests_external_ref", "external_ref"),
        # The same search when personal data is encrypted (models.pii.same).
        Index("ix_requests_id_number_hash", "id_number_hash"),
        Index("ix_requests_phone_hash", "phone_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    tracking_no: Mapped[str] = mapped_column(String(32))
    year: Mapped[int]
    serial: Mapped[int]
    external_ref: Mapped[str | None] = mapped_column(String(64))

    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_kind: Mapped[str] = mapped_column(String(32))
    id_type: Mapped[str] = mapped_column(String(32), default="")
    #: Personal data, encrypted at rest where ``GONGKAI_PII_KEY`` is set (``models.pii``);
    #: compare them in SQL only through ``models.pii.same``.
    id_number: Mapped[str] = mapped_column(EncryptedString("id_number", 64), default="")
    phone: Mapped[str] = mapped_column(EncryptedString("phone", 64), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(EncryptedString("address", 400), default="")
    #: HMAC-SHA256 of the ID number and the phone number under the key's index key, for
    #: exact search while they are encrypted; NULL when encryption is off or empty.
    id_number_hash: Mapped[str | None] = mapped_column(String(64))
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    #: Organisations (Art. 29 para 2 (一)): who answers for it and whom to contact.
    legal_representative: Mapped[str] = mapped_column(String(200), default="", server_default="")
    contact_person: Mapped[str] = mapped_column(String(200), default="", server_default="")

    subject: Mapped[str] = mapped_column(Text)
    doc_numbers: Mapped[str] = mapped_column(String(400), default="")
    form_wanted: Mapped[str] = mapped_column(String(32), default="")
    delivery_wanted: Mapped[str] = mapped_column(String(32), default="")

    channel: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[datetime]
    received_on: Mapped[date] = mapped_column(Date)

    state: Mapped[str] = mapped_column(String(32))
    last_seq: Mapped[int] = mapped_column(default=0)
    #: The last event's ``hash``: the head of the log's chain (a removed tail shows).
    log_hash: Mapped[str | None] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(default=1)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency] = relationship()
    handler: Mapped[User | None] = relationship()

    __mapper_args__: ClassVar[dict[str, object]] = {"version_id_col": version}


@orm_event.listens_for(Request, "before_insert")
@orm_event.listens_for(Request, "before_update")
def _index_personal_data(_mapper: Mapper[Request], _conn: object, request: Request) -> None:
    """Keep the exact-search hashes in step with the values, whichever path wrote them."""
    for field, index in INDEXED.items():
        setattr(request, index, blind_index(field, getattr(request, field) or ""))


class TrackingCounter(Base):
    """Last serial handed out per agency and year (atomic increment, no max() race)."""

    __tablename__ = "tracking_counters"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class RequestFacts(Base):
    """Projection: one row per request, rewritten with every event.

    Holds exactly ``workflow.statistics.facts.RequestFacts`` plus the grouping keys, so the
    annual tables can be aggregated in SQL, and the ``today``-independent part of the
    reply clock (``workflow.requests.deadlines.StoredClock``), so the workbench and the "overdue"
    filter select by deadline in SQL instead of replaying every open request. The clock
    depends on the calendar too: a calendar change recomputes it for every open request
    (``workflow.requests.clocks``). ``stats-verify`` recomputes the whole row from the log.
    """

    __tablename__ = "request_facts"
    __table_args__ = (
        CheckConstraint(
            "outcome IS NULL OR " + in_list("outcome", tuple(OUTCOME_BY_CODE)), name="outcome"
        ),
        Index("ix_request_facts_agency_received", "agency_id", "received_on"),
        # Covers the fast path's GROUP BY (SQLite answers it from the index alone).
        Index(
            "ix_request_facts_covering",
            "agency_id",
            "received_on",
            "concluded_on",
            "applicant_kind",
            "outcome",
            "voided",
        ),
        # The workbench's outcome chart and table 三's concluded rows, index-only (and the
        # only index led by agency and conclusion date: with a narrower one beside it,
        # SQLite chose that and read 180,000 rows to count a province's year, 4.5× slower).
        Index(
            "ix_request_facts_agency_concluded_outcome",
            "agency_id",
            "concluded_on",
            "outcome",
            "voided",
        ),
        # The supervisor's per-agency table: conclusions of a period, index-only.
        Index(
            "ix_request_facts_supervision",
            "agency_id",
            "concluded_on",
            "outcome",
            "reply_days",
            "replied_late",
            "voided",
        ),
        # Overdue / due-soon selection by the stored reply clock (workflow.requests.deadlines).
        Index("ix_request_facts_agency_due", "agency_id", "reply_due"),
        Index("ix_request_facts_agency_paused", "agency_id", "paused"),
        # Consultations and fee notices whose other side's deadline has passed.
        Index("ix_request_facts_agency_pause_due", "agency_id", "pause_due"),
        # The approvers' list on the workbench (待审核): requests with a proposal open.
        Index("ix_request_facts_agency_proposals", "agency_id", "open_proposals"),
    )

    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    applicant_kind: Mapped[str] = mapped_column(String(32))
    received_on: Mapped[date] = mapped_column(Date)
    concluded_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(40))
    voided: Mapped[bool] = mapped_column(default=False)
    #: ``workflow.requests.deadlines.StoredClock``: the reply deadline the events fix, or paused.
    reply_due: Mapped[date | None] = mapped_column(Date)
    paused: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: The consulted party's or the applicant's deadline while a pause runs.
    pause_due: Mapped[date | None] = mapped_column(Date)
    #: ``workflow.statistics.facts.ReplyFacts``: working days from receipt to the first
    #: conclusion when it is a reply (``decide``), else None; and whether it came late.
    #: Follow the calendar like ``reply_due`` (``workflow.requests.clocks.refresh_reply_days``).
    reply_days: Mapped[int | None]
    replied_late: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Proposals waiting for an approver (``workflow.requests.office.pending_proposals``).
    open_proposals: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The request's words for full-text search (``workflow.requests.search_text``),
    #: indexed by SQLite FTS5 (table ``request_search``) or a PostgreSQL GIN index.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")


class MonthCount(Base):
    """Projection over ``request_facts``: requests of one agency received in one month
    (``outcome`` empty), or concluded in it with one outcome, voided ones left out.

    Why: the workbench draws the current year by month and by outcome for whoever reads
    it; for a province that was 100,000–180,000 index entries a page, where this table has
    a few thousand rows. Kept by every writer of ``request_facts`` in the same transaction
    (``workflow.statistics.month_counts``); ``stats-verify`` recounts it from the rows.
    """

    __tablename__ = "month_counts"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    #: The first day of the month.
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    #: An outcome code (conclusions), or "" (receipts).
    outcome: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)
