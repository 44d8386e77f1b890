"""Declarative base with a constraint naming convention (so migrations name things stably)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    """Recorded times are stored as naive UTC (SQLite keeps no zone); shown in Asia/Shanghai."""
    return datetime.now(UTC).replace(tzinfo=None)


def in_list(column: str, values: tuple[str, ...]) -> str:
    """SQL for a CHECK that ties a column to a catalogue (the catalogue stays the source)."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"
