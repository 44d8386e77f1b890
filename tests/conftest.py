"""Shared fixtures: a real, migrated database per test and an app bound to it.

``GONGKAI_TEST_DATABASE_URL`` (set by ``make test`` for the PostgreSQL pass) replaces
the per-test SQLite file with a fresh schema on a real PostgreSQL server.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from models import Agency, User
from models.db import make_engine, make_session_factory
from models.migrate import upgrade

PASSWORD = "test-password-1"
#: A fixed "now" inside 2026 so deadlines and the calendar are deterministic.
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


PG_URL = os.environ.get("GONGKAI_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Run the migrations once per test session: a template SQLite file, or the PG schema."""
    if PG_URL:
        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(engine)
        engine.dispose()
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return str(path)


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            if r[0] != "alembic_version"
        ]
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def db_url(migrated: str, tmp_path: Path) -> str:
    """A migrated, empty database for one test (a copy of the template, or a truncated PG)."""
    if PG_URL:
        _empty_postgres(PG_URL)
        return PG_URL
    target = tmp_path / "test.db"
    shutil.copyfile(migrated, target)
    return f"sqlite:///{target}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    s = make_session_factory(engine)()
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def agency(session: Session) -> Agency:
    row = Agency(code="test-agency", name="测试机关")
    session.add(row)
    session.commit()
    return row


@functools.cache
def _password_hash() -> str:
    """scrypt is slow on purpose; hash the shared test password once per session."""
    probe = User()
    probe.set_password(PASSWORD)
    return probe.password_hash


def make_user(session: Session, agency: Agency, username: str, *roles: str) -> User:
    user = User(username=username, display_name=username, agency=agency)
    user.password_hash = _password_hash()
    user.set_roles(set(roles))
    session.add(user)
    session.commit()
    return user


@pytest.fixture
def users(session: Session, agency: Agency) -> dict[str, User]:
    """One user per role in the test agency, named after the role."""
    return {
        role: make_user(session, agency, role, role)
        for role in ("registrar", "handler", "approver", "legal", "admin", "viewer")
    }


@pytest.fixture
def app(db_url: str, engine: Engine):
    from app import create_app

    flask_app = create_app({"TESTING": True, "DATABASE_URL": db_url, "WTF_CSRF_ENABLED": False})
    yield flask_app
    flask_app.extensions["db_engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, username: str, password: str = PASSWORD):
    return client.post(
        "/login", data={"username": username, "password": password}, follow_redirects=True
    )
