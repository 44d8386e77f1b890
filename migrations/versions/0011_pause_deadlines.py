"""The other side's deadline of a running pause in the projection (``pause_due``), and
the agency's report level (``agencies.report_level``, 条例 Art. 49), and the address a
user's deadline reminders go to (``users.email``).

Consultations and fee notices whose consulted party's or applicant's deadline has passed
are listed for attention on the workbench (``workflow.requests.clocks``). The column is filled,
with every stored reply deadline, by ``init``, which recomputes the clocks of all open
requests after migrating (their rules changed with this revision: docs/domain.md §3.11).

Revision ID: 0011
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("request_facts", sa.Column("pause_due", sa.Date(), nullable=True))
    op.create_index(
        "ix_request_facts_agency_pause_due", "request_facts", ["agency_id", "pause_due"]
    )
    op.add_column("agencies", sa.Column("report_level", sa.String(length=20), nullable=True))
    op.add_column("users", sa.Column("email", sa.String(length=254), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "email")
    op.drop_column("agencies", "report_level")
    op.drop_index("ix_request_facts_agency_pause_due", table_name="request_facts")
    op.drop_column("request_facts", "pause_due")
