"""Legal procedures (issue 13 items 8–13): new notice kinds, channels, organisation fields.

* ``notices.kind`` is widened by ``reasons_request`` (Art. 35 说明理由告知书), ``deferral``
  (Art. 35 延迟答复告知书) and ``third_party_disclosure`` (Art. 32 公开决定告知书);
* ``requests.channel`` by ``oral`` (口头申请, Art. 29 para 1) and ``petition`` (信访转办);
* ``requests`` gets ``legal_representative`` and ``contact_person`` (Art. 29 para 2 (一)
  for organisations), empty for every existing request.

The CHECKs are replaced on PostgreSQL; on SQLite the table's stored definition is
rewritten in place, as revision 0009 does and for the same reason (rebuilding a table
that others reference is impossible with foreign keys on). Every stored row stays valid.
The lists are frozen here (a migration never reads the live catalogue).

Revision ID: 0013
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = (
    "receipt",
    "supplement",
    "extension",
    "consultation_third_party",
    "consultation_agency",
    "fee",
    "reply",
)
NEW_KINDS = (
    "receipt",
    "supplement",
    "extension",
    "consultation_third_party",
    "consultation_agency",
    "fee",
    "reasons_request",
    "deferral",
    "third_party_disclosure",
    "reply",
)
OLD_CHANNELS = (
    "in_person",
    "post",
    "letter",
    "online",
    "fax",
    "portal",
    "hotline_12345",
    "platform",
)
NEW_CHANNELS = (
    "in_person",
    "oral",
    "post",
    "letter",
    "online",
    "fax",
    "portal",
    "hotline_12345",
    "platform",
    "petition",
)


def _in_list(column: str, values: tuple[str, ...]) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{v}'" for v in values))


def _replace_check(
    table: str, column: str, constraint: str, old: tuple[str, ...], new: tuple[str, ...]
) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f(constraint), table, type_="check")
        op.create_check_constraint(op.f(constraint), table, _in_list(column, new))
        return
    stored = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": table},
    ).scalar_one()
    if _in_list(column, old) not in stored:
        raise RuntimeError(f"{table}: expected the CHECK {_in_list(column, old)} in {stored}")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :name"),
        {"sql": stored.replace(_in_list(column, old), _in_list(column, new)), "name": table},
    )
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))


def upgrade() -> None:
    _replace_check("notices", "kind", "ck_notices_kind", OLD_KINDS, NEW_KINDS)
    _replace_check("requests", "channel", "ck_requests_channel", OLD_CHANNELS, NEW_CHANNELS)
    for name in ("legal_representative", "contact_person"):
        op.add_column(
            "requests",
            sa.Column(name, sa.String(length=200), nullable=False, server_default=""),
        )


def downgrade() -> None:
    bind = op.get_bind()
    kinds = ", ".join(f"'{k}'" for k in NEW_KINDS if k not in OLD_KINDS)
    channels = ", ".join(f"'{c}'" for c in NEW_CHANNELS if c not in OLD_CHANNELS)
    used = bind.execute(sa.text(f"SELECT count(*) FROM notices WHERE kind IN ({kinds})"))
    if used.scalar_one():
        raise RuntimeError("已出具说明理由、延迟答复或第三方公开决定告知书，不能降级到 0011")
    used = bind.execute(sa.text(f"SELECT count(*) FROM requests WHERE channel IN ({channels})"))
    if used.scalar_one():
        raise RuntimeError("有口头申请或信访转办的申请，不能降级到 0011")
    op.drop_column("requests", "contact_person")
    op.drop_column("requests", "legal_representative")
    _replace_check("requests", "channel", "ck_requests_channel", NEW_CHANNELS, OLD_CHANNELS)
    _replace_check("notices", "kind", "ck_notices_kind", NEW_KINDS, OLD_KINDS)
