"""Office records (issue 15): attachments, corrections of published years, agency names.

* ``attachments``: files kept with a request or an event, by SHA-256. The bytes live in
  the file store (``models.file_store``); this table says what each file is and who filed
  it. Rows are evidence and only ever inserted: the same triggers as the event logs refuse
  UPDATE and DELETE.
* ``report_corrections``: each 更正发布 of a published year, a numbered, frozen, hashed
  version of its own (append-only, like ``published_reports``).
* ``published_reports.agency_name``: the agency's name when it published, so renaming an
  agency leaves its published history as it was. Filled for the existing publications
  from the current names (nothing was renamed before this revision: agencies could not
  be renamed); the append-only trigger is lifted for that one UPDATE and put back.
* ``agencies.active``: an agency can be deactivated (no new requests or users), never
  deleted, since its history refers to it; ``agency_changes`` records every rename,
  report level and status change with who, when and why (append-only).

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import append_only

revision: str = "0015"
down_revision: str | None = "0014"
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

    op.create_table(
        "report_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("published_report_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("numbers", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("pdf_hash", sa.String(length=64), nullable=True),
        sa.Column("font", sa.String(length=200), nullable=False),
        sa.Column("agency_name", sa.String(length=200), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["published_report_id"],
            ["published_reports.id"],
            name=op.f("fk_report_corrections_published_report_id_published_reports"),
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_report_corrections_published_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_corrections")),
        sa.UniqueConstraint(
            "published_report_id",
            "number",
            name=op.f("uq_report_corrections_published_report_id_number"),
        ),
    )
    append_only.create("report_corrections")

    op.add_column(
        "published_reports", sa.Column("agency_name", sa.String(length=200), nullable=True)
    )
    append_only.drop("published_reports")
    op.execute(
        "UPDATE published_reports SET agency_name = "
        "(SELECT name FROM agencies WHERE agencies.id = published_reports.agency_id)"
    )
    append_only.create("published_reports")

    op.add_column(
        "agencies",
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.create_table(
        "agency_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("before", sa.String(length=200), nullable=False),
        sa.Column("after", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_agency_changes_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_agency_changes_changed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_changes")),
    )
    op.create_index(
        op.f("ix_agency_changes_agency_id"), "agency_changes", ["agency_id"], unique=False
    )
    append_only.create("agency_changes")


def downgrade() -> None:
    append_only.drop("agency_changes")
    op.drop_index(op.f("ix_agency_changes_agency_id"), table_name="agency_changes")
    op.drop_table("agency_changes")
    op.drop_column("agencies", "active")
    append_only.drop("published_reports")
    op.drop_column("published_reports", "agency_name")
    append_only.create("published_reports")
    append_only.drop("report_corrections")
    op.drop_table("report_corrections")
    append_only.drop("attachments")
    op.drop_index("ix_attachments_sha256", table_name="attachments")
    op.drop_index("ix_attachments_request", table_name="attachments")
    op.drop_table("attachments")
