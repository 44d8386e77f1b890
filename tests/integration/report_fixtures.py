"""Fixtures for the annual-report tests: the demo data set (docs/domain.md §10) on a real database.

A module using them is marked ``demo`` (its tests' databases are copies of the demo
template, tests/templates.py), so the shared ``engine``, ``session``, ``app`` and
``client`` fixtures work on the demo unchanged; it binds ``demo_agency`` to use it.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from models import Agency
from tests.conftest import login
from workflow.admin.demo import AGENCY_CODE, DEMO_PASSWORD


@pytest.fixture
def demo_agency(session: Session) -> Agency:
    return session.query(Agency).filter_by(code=AGENCY_CODE).one()


def client_as(app, username: str):
    """A test client signed in as a demo user (dengji, chengban, shenhe, chayue, admin…)."""
    client = app.test_client()
    page = login(client, username, DEMO_PASSWORD)
    assert page.status_code == 200, page.text
    return client
