"""Alembic environment: the models' metadata, the URL from DATABASE_URL or the caller."""

from __future__ import annotations

from alembic import context

import models
from models.db import database_url, make_engine

config = context.config
target_metadata = models.Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or database_url())
    with engine.begin() as conn:
        _run(conn)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=models.include_in_schema_checks,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
