"""Files sent on the portal (issue 17): ``portal_files``, and who sent an attachment.

* ``portal_files``: the files an applicant sends with an online application, kept with
  the submission until staff confirm its receipt (there is no request to file them with
  before). Evidence, only ever inserted: the event logs' triggers refuse UPDATE and DELETE.
* ``attachments.submission_id``: an attachment the applicant sent through that online
  submission (filed at confirmation, or with a 补正 answered online), so it is attributed
  to the applicant and not to a staff user. Adding a nullable column changes no row, so
  the append-only triggers of ``attachments`` stay as they are.

Revision ID: 0024
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import append_only

revision: str = "0024"
down_revision: str | None = "0019"
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
        "portal_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("file_type", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(_in("kind", KINDS), name=op.f("ck_portal_files_kind")),
        sa.CheckConstraint(_in("file_type", FILE_TYPES), name=op.f("ck_portal_files_file_type")),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["portal_submissions.id"],
            name=op.f("fk_portal_files_submission_id_portal_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_files")),
    )
    op.create_index("ix_portal_files_submission", "portal_files", ["submission_id", "id"])
    op.create_index(op.f("ix_portal_files_sha256"), "portal_files", ["sha256"])
    append_only.create("portal_files")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with an inline REFERENCES (no ALTER ... ADD CONSTRAINT).
        op.execute(
            "ALTER TABLE attachments ADD COLUMN submission_id INTEGER "
            "CONSTRAINT fk_attachments_submission_id_portal_submissions "
            "REFERENCES portal_submissions (id)"
        )
        return
    op.add_column("attachments", sa.Column("submission_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_attachments_submission_id_portal_submissions"),
        "attachments",
        "portal_submissions",
        ["submission_id"],
        ["id"],
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(
            op.f("fk_attachments_submission_id_portal_submissions"),
            "attachments",
            type_="foreignkey",
        )
    op.drop_column("attachments", "submission_id")
    append_only.drop("portal_files")
    op.drop_index(op.f("ix_portal_files_sha256"), table_name="portal_files")
    op.drop_index("ix_portal_files_submission", table_name="portal_files")
    op.drop_table("portal_files")
