"""PostgreSQL: a schema for the ledger import's staging tables (issue 16 item 6).

A ledger import writes its chunks into scratch tables it creates and drops itself
(``workflow.ledger.staging``). The application's database role may not create tables in
``public``, where the logs it must not alter live (``grant-app-role``), so on PostgreSQL
those scratch tables and their registry live in ``gongkai_staging``, where the role may.
SQLite has one schema and no roles: nothing to do there.

Revision ID: 0026
Revises: 0025
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "gongkai_staging"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    op.execute(
        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.ledger_staging (import_id VARCHAR(40) PRIMARY KEY, "
        "host VARCHAR(255) NOT NULL, pid INTEGER NOT NULL, heartbeat FLOAT NOT NULL)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
