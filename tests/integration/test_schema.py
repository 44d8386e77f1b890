"""The migrations produce exactly the models' schema, and can be undone and redone."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

import models
from models.migrate import alembic_config, upgrade


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as conn:
        opts = {"compare_type": True, "include_name": models.include_in_schema_checks}
        ctx = MigrationContext.configure(conn, opts=opts)
        diff = compare_metadata(ctx, models.Base.metadata)
    assert diff == []


def test_init_is_idempotent_and_downgrade_round_trips(engine: Engine) -> None:
    upgrade(engine)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert "events" in inspect(engine).get_table_names()
