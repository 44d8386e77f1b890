"""Chinese full-text search: the projection's ``search_text`` and its word index, and
indexes for the exact identifiers a clerk searches by (ID number, phone, ledger ref).

``search_text`` holds the request's words, segmented by ``workflow.requests.search_text``
(live code, so not here): ``python app.py init`` fills it for every row after migrating.
SQLite indexes it with an FTS5 table over the column (external content, kept by
triggers); PostgreSQL with a GIN index on ``to_tsvector('simple', search_text)``.

Revision ID: 0019
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = (
    "CREATE VIRTUAL TABLE request_search USING fts5(search_text, content='request_facts', "
    "content_rowid='request_id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER request_search_insert AFTER INSERT ON request_facts BEGIN "
    "INSERT INTO request_search(rowid, search_text) VALUES (new.request_id, new.search_text); "
    "END",
    "CREATE TRIGGER request_search_delete AFTER DELETE ON request_facts BEGIN "
    "INSERT INTO request_search(request_search, rowid, search_text) "
    "VALUES ('delete', old.request_id, old.search_text); END",
    "CREATE TRIGGER request_search_update AFTER UPDATE OF search_text ON request_facts BEGIN "
    "INSERT INTO request_search(request_search, rowid, search_text) "
    "VALUES ('delete', old.request_id, old.search_text); "
    "INSERT INTO request_search(rowid, search_text) VALUES (new.request_id, new.search_text); "
    "END",
    "INSERT INTO request_search(request_search) VALUES ('rebuild')",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS request_search_update",
    "DROP TRIGGER IF EXISTS request_search_delete",
    "DROP TRIGGER IF EXISTS request_search_insert",
    "DROP TABLE IF EXISTS request_search",
)
PG_UP = (
    "CREATE INDEX ix_request_facts_search ON request_facts "
    "USING gin (to_tsvector('simple'::regconfig, search_text))",
)
PG_DOWN = ("DROP INDEX IF EXISTS ix_request_facts_search",)


def upgrade() -> None:
    op.add_column(
        "request_facts", sa.Column("search_text", sa.Text(), nullable=False, server_default="")
    )
    op.create_index("ix_requests_id_number", "requests", ["id_number"])
    op.create_index("ix_requests_phone", "requests", ["phone"])
    op.create_index("ix_requests_external_ref", "requests", ["external_ref"])
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == "sqlite" else PG_UP:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == "sqlite" else PG_DOWN:
        op.execute(statement)
    op.drop_index("ix_requests_external_ref", table_name="requests")
    op.drop_index("ix_requests_phone", table_name="requests")
    op.drop_index("ix_requests_id_number", table_name="requests")
    op.drop_column("request_facts", "search_text")
