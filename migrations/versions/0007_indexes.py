"""Indexes the province-scale benchmarks asked for (bench/RESULTS.md, "Indexes").

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COVERING = ("agency_id", "received_on", "concluded_on", "applicant_kind", "outcome", "voided")


def upgrade() -> None:
    op.create_index("ix_request_facts_covering", "request_facts", list(COVERING))
    op.create_index("ix_requests_received_id", "requests", ["received_on", "id"])
    op.create_index("ix_events_trigger_effective", "events", ["trigger", "effective_date"])


def downgrade() -> None:
    op.drop_index("ix_events_trigger_effective", table_name="events")
    op.drop_index("ix_requests_received_id", table_name="requests")
    op.drop_index("ix_request_facts_covering", table_name="request_facts")
