"""The PostgreSQL role the application connects as: it may read and append to the logs, never
rewrite them.

The append-only triggers stop an UPDATE or DELETE, but a table's owner can ``TRUNCATE`` it
or ``ALTER TABLE … DISABLE TRIGGER`` (issue 18, V5). So the schema belongs to an *owner*
role that only migrations use (``python app.py init``), and the application runs as a
second role granted just enough: full DML on the working tables, ``SELECT`` and
``INSERT`` on the logs (``models.event.APPEND_ONLY_TABLES``), the once-only service
columns of a notice, and the sequences. Not owning the tables, it cannot truncate them,
alter them or lift their triggers. ``python app.py grant-app-role ROLE`` applies these
grants; run it as the owner after every ``init`` (a migration may add tables).
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

from models.event import APPEND_ONLY_TABLES

_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


#: The schema of the ledger import's staging tables (migration 0026).
STAGING_SCHEMA = "gongkai_staging"


class BadRoleName(ValueError):
    """Not a plain lower-case PostgreSQL identifier (the name goes into DDL)."""


def grant_statements(role: str) -> list[str]:
    """The statements that give ``role`` the application's rights and no more."""
    if not _ROLE.match(role):
        raise BadRoleName(f"角色名“{role}”无效：只能使用小写字母、数字和下划线")
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}",
        # The ledger import's scratch tables (workflow.ledger.staging, migration 0026).
        f"GRANT USAGE, CREATE ON SCHEMA {STAGING_SCHEMA} TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {STAGING_SCHEMA} TO {role}",
    ]
    for table, columns in APPEND_ONLY_TABLES.items():
        statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {role}")
        if columns:
            statements.append(f"GRANT UPDATE ({', '.join(columns)}) ON {table} TO {role}")
    return statements


def grant_app_role(conn: Connection, role: str) -> None:
    """Apply :func:`grant_statements` on ``conn`` (PostgreSQL, as the tables' owner)."""
    if conn.dialect.name != "postgresql":
        raise BadRoleName("只有 PostgreSQL 数据库需要（也支持）单独的应用角色")
    for statement in grant_statements(role):
        conn.execute(text(statement))
