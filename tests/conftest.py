"""Shared fixtures: a real, migrated database per test and an app bound to it.

Every test gets its own copy of a template built once per pytest process (see
tests/templates.py): empty but migrated, or holding the demo data when the test is marked
``@pytest.mark.demo``. ``GONGKAI_TEST_DATABASE_URL`` (set by ``make test`` for the
PostgreSQL pass) puts the templates and copies on a real PostgreSQL server instead of
SQLite files.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import settings
from models import Agency, User
from models.db import make_engine, make_session_factory
from models.migrate import upgrade
from tests.templates import Templates
from workflow.admin.demo import load
from workflow.kernel.actor import LOCAL_ZONE

PASSWORD = "test-password-1"
#: A fixed "now" inside 2026 so deadlines and the calendar are deterministic.
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


PG_URL = os.environ.get("GONGKAI_TEST_DATABASE_URL")

# The fixtures' dates are historical (November 2026, the 2019 demo year) while pages run on
# the real clock: back-dating (docs/domain.md §14) is not what most tests are
# about. tests/integration/test_dates.py sets the real limit where it is.
os.environ.setdefault(settings.BACKDATE_DAYS, "1000000")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadgroup`` keeps the browser tests on one worker (tests/scheduling.py)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests.scheduling import BrowserTogetherScheduling

    return BrowserTogetherScheduling(config, log)


def _load_demo(engine: Engine) -> None:
    session = make_session_factory(engine)()
    load(session, NOW)
    session.commit()
    session.close()


#: How close to agency-local midnight a test may start. Pages read the real clock, and a
#: test that computes "today" and then asks a page for it must not straddle the date line.
MIDNIGHT_MARGIN = timedelta(seconds=15)


@pytest.fixture(autouse=True)
def clear_of_midnight() -> None:
    """Wait out the last seconds of a Beijing day before a test starts (at most 15 s, at
    most once a run), so "today" is the same day for the test and for the app it drives."""
    local = datetime.now(UTC).astimezone(LOCAL_ZONE)
    next_midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    remaining = next_midnight - local
    if remaining < MIDNIGHT_MARGIN:
        time.sleep(remaining.total_seconds() + 1)


@pytest.fixture(scope="session", autouse=True)
def job_instance_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The background-job queue's files (``jobs.queue``) in a temporary folder, never in
    the repository's ``instance/``; tests that need their own set it again."""
    previous = os.environ.get("GONGKAI_INSTANCE_DIR")
    os.environ["GONGKAI_INSTANCE_DIR"] = str(tmp_path_factory.mktemp("instance"))
    yield
    if previous is None:
        os.environ.pop("GONGKAI_INSTANCE_DIR", None)
    else:
        os.environ["GONGKAI_INSTANCE_DIR"] = previous


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    """This process's template databases (tests/templates.py); the empty one is migrated."""
    made = Templates(tmp_path_factory.mktemp("templates"), PG_URL)
    made.build("empty", upgrade)
    yield made
    made.drop_all()


@pytest.fixture(scope="session")
def demo_template(templates: Templates) -> Templates:
    """The demo data set (loaded at ``NOW``) replayed once into the "demo" template."""
    templates.build("demo", _load_demo, start="empty")
    return templates


@pytest.fixture
def db_url(templates: Templates, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A pristine database for one test: a copy of the migrated, empty template — or of the
    demo template for a test marked ``demo``."""
    kind = "empty"
    if request.node.get_closest_marker("demo"):
        request.getfixturevalue("demo_template")
        kind = "demo"
    return templates.copy(kind, "test", tmp_path)


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


#: The 复议机关 and court a test agency's replies name (a reply needs both: issue 13).
TEST_REMEDY_BODIES = {"reconsideration_body": "测试市人民政府", "court": "测试市人民法院"}


def decision_facts(outcome: str) -> dict[str, str]:
    """What a decision with ``outcome`` must carry (reasons, the law …), as the demo types it."""
    from workflow.admin.demo import DEMO_FACTS
    from workflow.catalog.outcomes import OUTCOME_BY_CODE

    return {f: DEMO_FACTS[f] for f in OUTCOME_BY_CODE[outcome].requires}


def make_test_agency(session: Session) -> Agency:
    row = Agency(code="test-agency", name="测试机关", **TEST_REMEDY_BODIES)
    session.add(row)
    session.commit()
    return row


@pytest.fixture
def agency(session: Session) -> Agency:
    return make_test_agency(session)


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


def make_role_users(session: Session, agency: Agency) -> dict[str, User]:
    """One user per role in ``agency``, named after the role."""
    return {
        role: make_user(session, agency, role, role)
        for role in ("registrar", "handler", "approver", "legal", "admin", "viewer")
    }


@pytest.fixture
def users(session: Session, agency: Agency) -> dict[str, User]:
    """One user per role in the test agency, named after the role."""
    return make_role_users(session, agency)


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
