"""JSON API v1 and the applicant portal: tokens, transfers, portal submissions, channels.

``api_tokens`` keeps only each token's SHA-256; ``request_transfers`` ties a request to
its source system's reference (unique per agency, so a retried transfer finds the first
one); ``portal_submissions`` holds online applications until staff confirm receipt.
The channel CHECK on ``requests`` is widened by ``portal``, ``hotline_12345`` and
``platform``:
on PostgreSQL by replacing the constraint; on SQLite by rewriting the table's stored
definition in place, the procedure SQLite documents for changes that leave every stored
row valid (ALTER TABLE, "making other kinds of table schema changes"). Rebuilding the
table instead is impossible there with foreign keys on: the events, notices and
challenges referencing ``requests`` would block dropping the old copy.

The channel lists are frozen here (a migration never reads the live catalogue).

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_CHANNELS = ("in_person", "post", "letter", "online", "fax")
NEW_CHANNELS = (*OLD_CHANNELS, "portal", "hotline_12345", "platform")
CONSTRAINT = "ck_requests_channel"


def _in_list(values: tuple[str, ...]) -> str:
    return "channel IN ({})".format(", ".join(f"'{v}'" for v in values))


def _set_channels(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f(CONSTRAINT), "requests", type_="check")
        op.create_check_constraint(op.f(CONSTRAINT), "requests", _in_list(new))
        return
    stored = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'requests'")
    ).scalar_one()
    if _in_list(old) not in stored:
        raise RuntimeError(f"requests: expected the CHECK {_in_list(old)} in {stored}")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'requests'"),
        {"sql": stored.replace(_in_list(old), _in_list(new))},
    )
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_api_tokens_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["users.id"], name=op.f("fk_api_tokens_revoked_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)
    op.create_table(
        "request_transfers",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_request_transfers_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_request_transfers_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_request_transfers")),
        sa.UniqueConstraint(
            "agency_id",
            "source",
            "reference",
            name=op.f("uq_request_transfers_agency_id_source_reference"),
        ),
    )
    op.create_table(
        "portal_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=256), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_portal_submissions_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_portal_submissions_request_id_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["users.id"],
            name=op.f("fk_portal_submissions_confirmed_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_submissions")),
        sa.UniqueConstraint("number", name=op.f("uq_portal_submissions_number")),
        sa.UniqueConstraint("request_id", name=op.f("uq_portal_submissions_request_id")),
    )
    op.create_index(
        op.f("ix_portal_submissions_agency_id"), "portal_submissions", ["agency_id"], unique=False
    )
    _set_channels(OLD_CHANNELS, NEW_CHANNELS)


def downgrade() -> None:
    used = op.get_bind().execute(
        sa.text(
            "SELECT count(*) FROM requests WHERE channel IN ('portal', 'hotline_12345', 'platform')"
        )
    )
    if used.scalar_one():
        raise RuntimeError("有申请使用网上平台、12345热线或平台转办的提交方式，不能降级到 0008")
    _set_channels(NEW_CHANNELS, OLD_CHANNELS)
    op.drop_index(op.f("ix_portal_submissions_agency_id"), table_name="portal_submissions")
    op.drop_table("portal_submissions")
    op.drop_table("request_transfers")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
