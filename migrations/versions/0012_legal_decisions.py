"""Decisions that stand up in a reconsideration or a court (issue 13).

* ``agencies.reconsideration_body`` and ``agencies.court``: the 复议机关 and the court a
  reply names (行政复议法 Arts. 24, 27; 行政诉讼法 Art. 18), set by an admin; a reply is
  not issued for an agency without them. ``remedies_updated_by``/``_at`` say who set
  them last (a username or the command line) and when.
* Two outcome codes, each counted in an existing report row: ``disclosed.published``
  (条例 Art. 36(一), in (一)) and ``unavailable.not_responsible`` (Art. 36(五), in
  (四)1). The CHECK constraints on ``request_facts.outcome`` and ``notices.outcome``
  list the codes, so they are widened (and narrowed again on downgrade).

Frozen code: the outcome lists are written out here, not read from the catalogue.

Revision ID: 0012
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = (
    "disclosed",
    "partially_disclosed",
    "withheld.state_secret",
    "withheld.prohibited_by_law",
    "withheld.security_stability",
    "withheld.third_party",
    "withheld.internal_affairs",
    "withheld.process_information",
    "withheld.enforcement_file",
    "withheld.administrative_query",
    "unavailable.not_held",
    "unavailable.needs_creation",
    "unavailable.still_unclear",
    "not_processed.petition",
    "not_processed.duplicate",
    "not_processed.publication",
    "not_processed.excessive",
    "not_processed.confirmation",
    "other.supplement_lapsed",
    "other.fee_lapsed",
    "other.other",
)
_NEW = (
    "disclosed",
    "disclosed.published",
    *_OLD[1:11],
    "unavailable.not_responsible",
    *_OLD[11:],
)
_TABLES = (("request_facts", "ck_request_facts_outcome"), ("notices", "ck_notices_outcome"))


def _check(codes: tuple[str, ...]) -> str:
    return "outcome IS NULL OR outcome IN (" + ", ".join(f"'{c}'" for c in codes) + ")"


def _replace_checks(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    """Widen (or narrow) the outcome CHECKs, keeping the tables and their triggers.

    PostgreSQL replaces the constraint. SQLite rewrites the tables' stored definitions in
    place, as 0009 does for the channel CHECK: rebuilding ``notices`` would drop its
    freeze triggers, and every stored row stays valid (the old list is part of the new).
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        for table, name in _TABLES:
            op.drop_constraint(op.f(name), table, type_="check")
            op.create_check_constraint(op.f(name), table, _check(new))
        return
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    for table, _name in _TABLES:
        stored = bind.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
            {"t": table},
        ).scalar_one()
        if _check(old) not in stored:
            raise RuntimeError(f"{table}: expected the CHECK {_check(old)} in {stored}")
        bind.execute(
            sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :t"),
            {"sql": stored.replace(_check(old), _check(new)), "t": table},
        )
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))


def upgrade() -> None:
    op.add_column(
        "agencies", sa.Column("reconsideration_body", sa.String(length=200), nullable=True)
    )
    op.add_column("agencies", sa.Column("court", sa.String(length=200), nullable=True))
    op.add_column("agencies", sa.Column("remedies_updated_by", sa.String(length=64), nullable=True))
    op.add_column("agencies", sa.Column("remedies_updated_at", sa.DateTime(), nullable=True))
    _replace_checks(_OLD, _NEW)


def downgrade() -> None:
    _replace_checks(_NEW, _OLD)
    op.drop_column("agencies", "remedies_updated_at")
    op.drop_column("agencies", "remedies_updated_by")
    op.drop_column("agencies", "court")
    op.drop_column("agencies", "reconsideration_body")
