"""Join the three branches written side by side (report drafts, notices, login sessions).

Revision ID: 0006
Revises: 0004a, 0004b, 0005a
"""

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | Sequence[str] | None = ("0004a", "0004b", "0005a")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
