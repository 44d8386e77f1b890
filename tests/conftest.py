"""Shared fixtures: a real, migrated database per test and an app bound to it.

``GONGKAI_TEST_DATABASE_URL`` (set by ``make test`` for the PostgreSQL pass) replaces
the per-test SQLite file with a fresh schema on a real PostgreSQL server.
"""

from __future__ import annotations

import os
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


def _fresh_postgres(url: str) -> str:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    pg = os.environ.get("GONGKAI_TEST_DATABASE_URL")
    if pg:
        return _fresh_postgres(pg)
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    upgrade(eng)
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


def make_user(session: Session, agency: Agency, username: str, *roles: str) -> User:
    user = User(username=username, display_name=username, agency=agency)
    user.set_password(PASSWORD)
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
