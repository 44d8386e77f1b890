"""Migration 0009 on a database with requests: the channel CHECK widens, nothing is lost."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from models import Event, Request
from models.migrate import alembic_config, upgrade
from tests.conftest import NOW
from tests.integration.world import intake
from workflow.kernel.actor import Actor
from workflow.requests import operations as ops


def _migrate(engine, direction, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        direction(cfg, revision)


def test_0009_widens_the_channels_of_a_populated_database(engine, session, agency, users):
    ops.register(session, Actor.of(users["registrar"]), NOW, intake(), agency=agency)
    session.commit()
    session.close()
    _migrate(engine, command.downgrade, "0008")
    with engine.begin() as conn, pytest.raises(IntegrityError):
        conn.execute(text("UPDATE requests SET channel = 'platform'"))
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE requests SET channel = 'platform'"))
        assert conn.scalar(select(func.count()).select_from(Event)) == 1
        assert conn.scalar(select(Request.channel)) == "platform"
    with engine.begin() as conn, pytest.raises(IntegrityError):
        conn.execute(text("UPDATE requests SET channel = 'carrier_pigeon'"))
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []


def test_0009_will_not_downgrade_over_transfer_channels(engine, session, agency, users):
    raw = {**intake(), "channel": "hotline_12345"}
    ops.register(session, Actor.of(users["registrar"]), NOW, raw, agency=agency)
    session.commit()
    session.close()
    with pytest.raises(RuntimeError, match="不能降级到 0008"):
        _migrate(engine, command.downgrade, "0008")
