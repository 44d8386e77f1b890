"""``month_counts``: requests per agency and month, received and concluded by outcome.

The workbench draws the current year by month and by outcome; for a province that was
counted from 100,000–180,000 index entries of ``request_facts`` a page. The counts are
kept with the projection from now on (``workflow.statistics.month_counts``); this fills
them from the projection rows as they stand, in frozen SQL: a row counts once in the
month it was received (outcome "") and once in the month it was concluded, under its
outcome, unless it is voided.

Revision ID: 0029
Revises: 0028
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _month(column: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS DATE)"
    return f"substr({column}, 1, 7) || '-01'"  # SQLite stores dates as YYYY-MM-DD


def upgrade() -> None:
    op.create_table(
        "month_counts",
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agencies.id"), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("agency_id", "month", "outcome"),
    )
    received, concluded = _month("received_on"), _month("concluded_on")
    op.execute(
        "INSERT INTO month_counts (agency_id, month, outcome, n) "
        f"SELECT agency_id, {received}, '', COUNT(*) FROM request_facts "
        f"WHERE NOT voided GROUP BY agency_id, {received}"
    )
    op.execute(
        "INSERT INTO month_counts (agency_id, month, outcome, n) "
        f"SELECT agency_id, {concluded}, outcome, COUNT(*) FROM request_facts "
        "WHERE NOT voided AND concluded_on IS NOT NULL AND outcome IS NOT NULL "
        f"GROUP BY agency_id, {concluded}, outcome"
    )


def downgrade() -> None:
    op.drop_table("month_counts")
