"""Per agency, whether a decision waits for sign-off (审核签发) before its reply can be
issued (``agencies.decision_signoff``, docs/domain.md §15).

Assignment, proposals, approvals, corrections and links are entries of the existing
append-only event log (``events``): they need no table of their own.

Revision ID: 0014
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "agencies",
        sa.Column("decision_signoff", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("agencies", "decision_signoff")
