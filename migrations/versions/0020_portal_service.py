"""How a notice's service was recorded when no clerk recorded it (``notices.served_via``):
``portal`` when the applicant first opened it on the portal (electronic service).

Revision ID: 0020
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("notices", sa.Column("served_via", sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column("notices", "served_via")
