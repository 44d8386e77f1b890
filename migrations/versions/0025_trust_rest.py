"""Trust, the rest of issue 18: corrections in the hash chain, heads of the report chains.

* ``report_corrections.chain_hash``: each correction's link in its agency's chain of
  corrections, covering the link of the version it replaces (publication or previous
  correction). Existing rows are linked here with SHA-256 by a frozen copy of
  ``workflow.annual_report.publishing.correction_link`` (the test recomputes them with the
  live code); the append-only trigger is lifted for the backfill only.
* ``agencies.report_head`` / ``agencies.correction_head``: the last link of each chain,
  so removing the newest publication or correction shows (as ``requests.log_hash`` does
  for a request's log).
* ``requests.id_number_hash`` / ``phone_hash``: the keyed hashes that exact search
  compares while personal data is encrypted (``models.pii``); filled by
  ``python app.py pii-encrypt``, NULL while encryption is off. On PostgreSQL the three
  encrypted columns become ``text`` (the ciphertext is longer than the clear limit);
  SQLite does not enforce lengths and keeps its declared types.
* ``recovery_codes``: the two-factor recovery codes of each account, as SHA-256 only,
  each used at most once (``used_at``).

Revision ID: 0025
Revises: 0019
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from migrations import append_only

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _link(kind: str, previous: str | None, fields: dict[str, Any]) -> str:
    body = {"kind": kind, "previous": previous or ""}
    body.update({k: _canonical(v) for k, v in fields.items()})
    data = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(data.encode("utf-8")).hexdigest()


#: The columns a correction's link covers, typed so both databases hand back the same
#: values (a timestamp, not SQLite's text).
CORRECTION_FIELDS: dict[str, Any] = {
    "number": sa.Integer,
    "reason": sa.Text,
    "format": sa.String,
    "content_hash": sa.String,
    "pdf_hash": sa.String,
    "agency_name": sa.String,
    "published_at": sa.DateTime,
    "published_by_id": sa.Integer,
}


#: The columns that may hold ciphertext, with their clear length.
PII_COLUMNS = {"id_number": 64, "phone": 64, "address": 400}


def _backfill() -> None:
    bind = op.get_bind()
    rep = sa.table(
        "published_reports",
        sa.column("id", sa.Integer),
        sa.column("agency_id", sa.Integer),
        sa.column("chain_hash", sa.String),
    )
    cor = sa.table(
        "report_corrections",
        sa.column("id", sa.Integer),
        sa.column("published_report_id", sa.Integer),
        *(sa.column(name, kind) for name, kind in CORRECTION_FIELDS.items()),
        sa.column("chain_hash", sa.String),
    )
    agencies = sa.table(
        "agencies",
        sa.column("id", sa.Integer),
        sa.column("report_head", sa.String),
        sa.column("correction_head", sa.String),
    )
    report_heads: dict[int, str] = {}
    publication: dict[int, tuple[int, str]] = {}
    for row in bind.execute(sa.select(rep).order_by(rep.c.id)):
        report_heads[row.agency_id] = row.chain_hash
        publication[row.id] = (row.agency_id, row.chain_hash or "")
    heads: dict[int, str] = {}
    latest: dict[int, str] = {}
    links = []
    for row in bind.execute(sa.select(cor).order_by(cor.c.id)):
        m = row._mapping
        agency_id, first = publication[m["published_report_id"]]
        fields = {name: m[name] for name in CORRECTION_FIELDS}
        fields["corrects"] = latest.get(m["published_report_id"], first)
        link = _link("correction", heads.get(agency_id), fields)
        heads[agency_id] = link
        latest[m["published_report_id"]] = link
        links.append({"row_id": m["id"], "link": link})
    if links:
        bind.execute(
            sa.update(cor)
            .where(cor.c.id == sa.bindparam("row_id"))
            .values(chain_hash=sa.bindparam("link")),
            links,
        )
    for agency_id in set(report_heads) | set(heads):
        bind.execute(
            sa.update(agencies)
            .where(agencies.c.id == agency_id)
            .values(report_head=report_heads.get(agency_id), correction_head=heads.get(agency_id))
        )


def upgrade() -> None:
    op.add_column("report_corrections", sa.Column("chain_hash", sa.String(80), nullable=True))
    op.add_column("agencies", sa.Column("report_head", sa.String(80), nullable=True))
    op.add_column("agencies", sa.Column("correction_head", sa.String(80), nullable=True))
    append_only.drop("report_corrections")
    _backfill()
    append_only.create("report_corrections")
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_recovery_codes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_recovery_codes_code_hash")),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"])
    op.add_column("requests", sa.Column("id_number_hash", sa.String(64), nullable=True))
    op.add_column("requests", sa.Column("phone_hash", sa.String(64), nullable=True))
    op.create_index("ix_requests_id_number_hash", "requests", ["id_number_hash"])
    op.create_index("ix_requests_phone_hash", "requests", ["phone_hash"])
    if op.get_bind().dialect.name == "postgresql":
        for name, length in PII_COLUMNS.items():
            op.alter_column("requests", name, type_=sa.Text(), existing_type=sa.String(length))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, length in PII_COLUMNS.items():
            # Fails if a value is still encrypted: run pii-decrypt first.
            op.alter_column("requests", name, type_=sa.String(length), existing_type=sa.Text())
    op.drop_index("ix_requests_phone_hash", table_name="requests")
    op.drop_index("ix_requests_id_number_hash", table_name="requests")
    op.drop_column("requests", "phone_hash")
    op.drop_column("requests", "id_number_hash")
    op.drop_index(op.f("ix_recovery_codes_user_id"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    append_only.drop("report_corrections")
    op.drop_column("report_corrections", "chain_hash")
    append_only.create("report_corrections")
    op.drop_column("agencies", "correction_head")
    op.drop_column("agencies", "report_head")
