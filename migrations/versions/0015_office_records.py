"""Attachments (issue 15 item 5): files kept with a request or an event, by SHA-256.

The bytes live in the file store (``models.file_store``); this table says what each file
is and who filed it. Rows are evidence and only ever inserted: the same triggers as the
event logs refuse UPDATE and DELETE.

Revision ID: 0015
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import append_only

revision: str = "0015"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Frozen copies of the catalogue's codes as of this revision.
KINDS = ("application", "id_copy", "envelope", "supplement", "delivery_receipt", "other")
FILE_TYPES = (
    "pdf",
    "ofd",
    "jpeg",
    "png",
    "gif",
    "tiff",
    "webp",
    "docx",
    "xlsx",
    "pptx",
    "odt",
    "ods",
    "ole",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("file_type", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(_in("kind", KINDS), name=op.f("ck_attachments_kind")),
        sa.CheckConstraint(_in("file_type", FILE_TYPES), name=op.f("ck_attachments_file_type")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_attachments_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_attachments_request_id_requests")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_attachments_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index("ix_attachments_request", "attachments", ["request_id", "id"])
    op.create_index("ix_attachments_sha256", "attachments", ["sha256"])
    append_only.create("attachments")


def downgrade() -> None:
    append_only.drop("attachments")
    op.drop_index("ix_attachments_sha256", table_name="attachments")
    op.drop_index("ix_attachments_request", table_name="attachments")
    op.drop_table("attachments")
