"""Security log, shared rate-limit counters, and account hardening (issue 18 items 2, 4, 8).

* ``security_log``: logins, failed logins, lockouts, account changes, token changes,
  access refusals and views of applicants' personal data; append-only (triggers from
  ``migrations/append_only.py``), so no page or command can change an entry.
* ``rate_hits``: one row per counted hit of a rate limit, keyed by the SHA-256 of the
  limit's key (64 characters whatever the username was), shared by every worker and
  machine on the database. Redis replaces it when configured.
* ``users.must_change_password`` (an admin-set password must be changed at first login)
  and ``users.totp_secret`` (TOTP two-factor authentication).
* ``login_sessions.address`` / ``user_agent``: so a user can recognise, and end, their
  other sessions.
* The ``security_auditor`` role (三权分立: separate from the system administrator).

Revision ID: 0016
Revises: 0020
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import append_only

revision: str = "0016"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The role codes as of this revision (frozen: the live catalogue may grow later).
ROLES_BEFORE = ("registrar", "handler", "approver", "legal", "admin", "viewer")
ROLES_AFTER = (*ROLES_BEFORE, "security_auditor")


def _role_check(roles: tuple[str, ...]) -> str:
    return "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"


def upgrade() -> None:
    op.create_table(
        "security_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_security_log_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["users.id"], name=op.f("fk_security_log_subject_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_security_log_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_log")),
    )
    op.create_index("ix_security_log_at", "security_log", ["at"])
    op.create_index("ix_security_log_agency_at", "security_log", ["agency_id", "at"])
    op.create_index("ix_security_log_subject_id", "security_log", ["subject_id"])
    append_only.create("security_log")

    op.create_table(
        "rate_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_hits")),
    )
    op.create_index("ix_rate_hits_key_at", "rate_hits", ["key", "at"])

    # Plain ADD COLUMN (no table copy): on SQLite a batch copy of ``users`` would have to
    # drop a table that others reference, which the foreign keys refuse.
    op.add_column(
        "users",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("users", sa.Column("totp_secret", sa.String(length=64), nullable=True))
    op.add_column("users", sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.add_column("login_sessions", sa.Column("address", sa.String(length=64), nullable=True))
    op.add_column("login_sessions", sa.Column("user_agent", sa.String(length=200), nullable=True))
    # user_roles is referenced by nothing: its copy (for the new CHECK) is safe.
    with op.batch_alter_table("user_roles") as batch:
        batch.drop_constraint(op.f("ck_user_roles_role_known"), type_="check")
        batch.create_check_constraint(op.f("ck_user_roles_role_known"), _role_check(ROLES_AFTER))


def downgrade() -> None:
    with op.batch_alter_table("user_roles") as batch:
        batch.drop_constraint(op.f("ck_user_roles_role_known"), type_="check")
        batch.create_check_constraint(op.f("ck_user_roles_role_known"), _role_check(ROLES_BEFORE))
    for table, column in (
        ("login_sessions", "user_agent"),
        ("login_sessions", "address"),
        ("users", "totp_last_step"),
        ("users", "totp_secret"),
        ("users", "must_change_password"),
    ):
        op.drop_column(table, column)
    op.drop_index("ix_rate_hits_key_at", table_name="rate_hits")
    op.drop_table("rate_hits")
    append_only.drop("security_log")
    op.drop_index("ix_security_log_subject_id", table_name="security_log")
    op.drop_index("ix_security_log_agency_at", table_name="security_log")
    op.drop_index("ix_security_log_at", table_name="security_log")
    op.drop_table("security_log")
