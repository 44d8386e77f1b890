"""Fixtures for the annual-report tests: the demo data set (docs/domain.md §10) on a real database.

``db_url`` here overrides the shared one with a database that already holds the demo, so
the shared ``engine``, ``session``, ``app`` and ``client`` fixtures work on it unchanged.
Loading the demo replays some 160 requests through the workflow (seconds), so on SQLite
it is loaded once into a template file that each test copies; on PostgreSQL it is loaded
into each test's fresh schema. A test module binds these names to use them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from models import Agency
from models.db import make_engine, make_session_factory
from tests.conftest import NOW, PG_URL, login
from workflow.admin.demo import AGENCY_CODE, DEMO_PASSWORD, load


def _load_demo(url: str) -> None:
    engine = make_engine(url)
    session = make_session_factory(engine)()
    load(session, NOW)
    session.commit()
    session.close()
    engine.dispose()


@pytest.fixture(scope="session")
def demo_template(migrated: str, tmp_path_factory: pytest.TempPathFactory) -> str | None:
    if PG_URL:
        return None
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copyfile(migrated, path)
    _load_demo(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def db_url(db_url: str, demo_template: str | None, tmp_path: Path) -> str:
    """The shared fresh database (the parent fixture), with the demo loaded."""
    if demo_template is None:
        _load_demo(db_url)
        return db_url
    target = tmp_path / "demo.db"
    shutil.copyfile(demo_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def demo_agency(session: Session) -> Agency:
    return session.query(Agency).filter_by(code=AGENCY_CODE).one()


def client_as(app, username: str):
    """A test client signed in as a demo user (dengji, chengban, shenhe, chayue, admin…)."""
    client = app.test_client()
    page = login(client, username, DEMO_PASSWORD)
    assert page.status_code == 200, page.text
    return client
