"""The reply clock in the projection, the calendar token, the workbench's and list's indexes.

``request_facts.reply_due`` / ``paused`` let the workbench and the "overdue" filter select
by deadline in SQL (``workflow.clocks``); ``calendar_revision`` lets each process keep
its working calendar until an admin changes it. Existing open requests get their
clocks computed by ``init``, which recomputes every stored clock after migrating: the
rules live in domain code that later revisions change (0011 adds ``pause_due``), so a
migration must not call it.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence
from uuid import uuid4

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_request_facts_agency_concluded_outcome": ["agency_id", "concluded_on", "outcome", "voided"],
    "ix_request_facts_agency_due": ["agency_id", "reply_due"],
    "ix_request_facts_agency_paused": ["agency_id", "paused"],
}


def upgrade() -> None:
    op.add_column("request_facts", sa.Column("reply_due", sa.Date(), nullable=True))
    op.add_column(
        "request_facts",
        sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    for name, columns in INDEXES.items():
        op.create_index(name, "request_facts", columns)
    op.create_index("ix_requests_tracking_id", "requests", ["tracking_no", "id"])
    # Replaces the single-column handler index (its prefix): the workbench's "mine".
    op.create_index("ix_requests_handler_state", "requests", ["handler_id", "state", "received_on"])
    op.drop_index("ix_requests_handler_id", table_name="requests")
    revision_table = op.create_table(
        "calendar_revision",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_revision")),
    )
    op.bulk_insert(revision_table, [{"id": 1, "token": uuid4().hex}])


def downgrade() -> None:
    op.drop_table("calendar_revision")
    op.drop_index("ix_requests_tracking_id", table_name="requests")
    op.create_index("ix_requests_handler_id", "requests", ["handler_id"])
    op.drop_index("ix_requests_handler_state", table_name="requests")
    for name in INDEXES:
        op.drop_index(name, table_name="request_facts")
    op.drop_column("request_facts", "paused")
    op.drop_column("request_facts", "reply_due")
