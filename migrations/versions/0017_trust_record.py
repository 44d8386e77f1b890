"""The hash chain over the event logs and the published reports (issue 18, item 3).

``events.hash`` and ``challenge_events.hash`` hold each event's link in its record's
chain; ``requests.log_hash`` and ``challenges.log_hash`` the head; ``published_reports.
chain_hash`` the link in the agency's chain of publications. Existing rows are linked
here with SHA-256, by a frozen copy of the rule in ``workflow/kernel/chain.py`` (the two
must agree on these bytes forever: the test of this migration recomputes them with the
live code). The append-only triggers are lifted for the backfill only, in the same
transaction, and put back as they were.

Revision ID: 0017
Revises: 0016
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from migrations import append_only

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOGS = (("events", "request_id", "requests", "request"),)
LOGS += (("challenge_events", "challenge_id", "challenges", "challenge"),)


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


def _events(table: str, owner: str) -> sa.Table:
    return sa.table(
        table,
        sa.column("id", sa.Integer),
        sa.column(owner, sa.Integer),
        sa.column("seq", sa.Integer),
        sa.column("trigger", sa.String),
        sa.column("from_state", sa.String),
        sa.column("to_state", sa.String),
        sa.column("effective_date", sa.Date),
        sa.column("recorded_at", sa.DateTime),
        sa.column("actor_id", sa.Integer),
        sa.column("payload", sa.JSON),
        sa.column("hash", sa.String),
    )


def _backfill_log(table: str, owner: str, records: str, kind: str) -> None:
    bind = op.get_bind()
    ev = _events(table, owner)
    heads: dict[int, str] = {}
    links: list[dict[str, Any]] = []
    rows = bind.execute(sa.select(ev).order_by(ev.c[owner], ev.c.seq, ev.c.id))
    for row in rows:
        fields = {
            name: row._mapping[name]
            for name in (
                "seq",
                "trigger",
                "from_state",
                "to_state",
                "effective_date",
                "recorded_at",
                "actor_id",
                "payload",
            )
        }
        fields["payload"] = dict(fields["payload"] or {})
        link = _link(kind, heads.get(row._mapping[owner]), fields)
        heads[row._mapping[owner]] = link
        links.append({"row_id": row.id, "link": link})
    if links:
        bind.execute(
            sa.update(ev)
            .where(ev.c.id == sa.bindparam("row_id"))
            .values(hash=sa.bindparam("link")),
            links,
        )
    rec = sa.table(records, sa.column("id", sa.Integer), sa.column("log_hash", sa.String))
    if heads:
        bind.execute(
            sa.update(rec)
            .where(rec.c.id == sa.bindparam("row_id"))
            .values(log_hash=sa.bindparam("link")),
            [{"row_id": k, "link": v} for k, v in heads.items()],
        )


def _backfill_reports() -> None:
    bind = op.get_bind()
    rep = sa.table(
        "published_reports",
        sa.column("id", sa.Integer),
        sa.column("agency_id", sa.Integer),
        sa.column("year", sa.Integer),
        sa.column("with_subordinates", sa.Boolean),
        sa.column("format", sa.String),
        sa.column("content_hash", sa.String),
        sa.column("published_at", sa.DateTime),
        sa.column("published_by_id", sa.Integer),
        sa.column("chain_hash", sa.String),
    )
    heads: dict[int, str] = {}
    links = []
    for row in bind.execute(sa.select(rep).order_by(rep.c.id)):
        m = row._mapping
        fields = {
            name: m[name]
            for name in (
                "agency_id",
                "year",
                "with_subordinates",
                "format",
                "content_hash",
                "published_at",
                "published_by_id",
            )
        }
        fields["with_subordinates"] = bool(fields["with_subordinates"])
        link = _link("report", heads.get(m["agency_id"]), fields)
        heads[m["agency_id"]] = link
        links.append({"row_id": m["id"], "link": link})
    if links:
        bind.execute(
            sa.update(rep)
            .where(rep.c.id == sa.bindparam("row_id"))
            .values(chain_hash=sa.bindparam("link")),
            links,
        )


def upgrade() -> None:
    for table, _owner, records, _kind in LOGS:
        op.add_column(table, sa.Column("hash", sa.String(length=80), nullable=True))
        op.add_column(records, sa.Column("log_hash", sa.String(length=80), nullable=True))
    op.add_column("published_reports", sa.Column("chain_hash", sa.String(length=80), nullable=True))
    for table, owner, records, kind in LOGS:
        append_only.drop(table)
        _backfill_log(table, owner, records, kind)
        append_only.create(table)
    append_only.drop("published_reports")
    _backfill_reports()
    append_only.create("published_reports")


def downgrade() -> None:
    for table in ("published_reports", "events", "challenge_events"):
        append_only.drop(table)
    op.drop_column("published_reports", "chain_hash")
    for table, _owner, records, _kind in LOGS:
        op.drop_column(records, "log_hash")
        op.drop_column(table, "hash")
    for table in ("published_reports", "events", "challenge_events"):
        append_only.create(table)
