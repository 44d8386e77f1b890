"""Drop ``ix_request_facts_agency_concluded`` (agency, conclusion date): its columns lead
``ix_request_facts_agency_concluded_outcome``, which also covers the outcome and the void
flag. With both present SQLite's planner chose the narrow one for the workbench's outcome
chart and looked up every concluded row of a province's year in the table (0.33 s at 1M
requests, against 0.07 s from the covering index; bench/RESULTS.md). Every query it served
is served by the wider index; one index less to write with every event.

Revision ID: 0028
Revises: 0027
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_request_facts_agency_concluded", "request_facts")


def downgrade() -> None:
    op.create_index(
        "ix_request_facts_agency_concluded", "request_facts", ["agency_id", "concluded_on"]
    )
