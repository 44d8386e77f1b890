"""On PostgreSQL the application's role cannot rewrite, empty or unguard the logs (V5).

The review truncated ``events`` and disabled its trigger as the role the application
connects as, because that role owned the tables. Here the tables belong to the owner
(the test server's role, which ran the migrations) and the application connects as a
role given ``python app.py grant-app-role``: it still does its work, and each of those
attacks is refused by the database.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from models import Event, Request
from models.db import make_engine, make_session_factory
from models.db_roles import BadRoleName, grant_app_role, grant_statements
from tests.conftest import NOW
from tests.integration.world import RECEIVED, intake
from tests.templates import worker_name
from workflow.kernel.actor import Actor
from workflow.requests import operations as ops


def test_role_names_go_into_ddl_only_when_plain() -> None:
    with pytest.raises(BadRoleName):
        grant_statements("app; DROP TABLE events")
    assert any("REVOKE UPDATE, DELETE, TRUNCATE ON events" in s for s in grant_statements("app"))


@pytest.fixture
def app_engine(engine: Engine, db_url: str):
    if engine.dialect.name != "postgresql":
        pytest.skip("the application role is a PostgreSQL deployment")
    role = f"gongkai_app_{worker_name()}".lower().replace("-", "_")
    with engine.begin() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
        if not exists:
            conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        grant_app_role(conn, role)
    app = make_engine(make_url(db_url).set(username=role).render_as_string(hide_password=False))
    yield app
    app.dispose()


def test_the_app_role_does_its_work(app_engine, agency, users, session) -> None:
    session.commit()
    with make_session_factory(app_engine)() as mine:
        request = ops.register(
            mine, Actor.of(users["registrar"]), NOW, intake(), agency=mine.merge(agency)
        )
        ops.fire(
            mine, request, "accept", Actor.of(users["registrar"]), NOW, {"effective_date": RECEIVED}
        )
        mine.commit()
        assert mine.scalar(select(func.count()).select_from(Event)) == 2
        assert mine.scalar(select(Request.state)) == "in_review"


@pytest.mark.parametrize(
    "attack",
    [
        "TRUNCATE events CASCADE",
        "TRUNCATE challenge_events",
        "ALTER TABLE events DISABLE TRIGGER ALL",
        "ALTER TABLE events DISABLE TRIGGER events_append_only",
        "DROP TRIGGER events_append_only ON events",
        "DELETE FROM events",
        "UPDATE events SET payload = '{}'",
        "UPDATE published_reports SET year = 1",
        "DELETE FROM notices",
        "UPDATE notices SET content_hash = 'x'",
        "UPDATE alembic_version SET version_num = '0001'",
    ],
)
def test_the_app_role_cannot_rewrite_the_logs(app_engine, attack: str) -> None:
    with (
        pytest.raises(ProgrammingError, match=r"permission denied|must be owner"),
        app_engine.begin() as conn,
    ):
        conn.execute(text(attack))


def test_the_app_role_imports_a_ledger(app_engine, agency, session) -> None:
    """The web upload's job connects as the application role: the staging area and its
    publish must work with that role's rights (no DDL on the real tables, no table lock
    that needs UPDATE on the logs)."""
    from tests.integration.test_ledger_staging import ledger, source
    from workflow.ledger.importer import import_ledger_file

    session.commit()
    data = ledger(12)
    report = import_ledger_file(app_engine, data, source(data), NOW, chunk_rows=5)
    assert report.stored, report.errors[:3]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Request)) == 12
