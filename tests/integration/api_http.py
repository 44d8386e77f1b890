"""The JSON API over real HTTP: gunicorn serving ``app:wsgi()`` on a test database.

``serve`` starts gunicorn (2 sync workers, as in production) in its own process group on
a free 127.0.0.1 port and stops it by its pid; ``Client`` speaks to it with the standard
library only, so what is tested is exactly what a platform's script sees on the wire.
``ApiWorld`` is the data the API tests share: an agency with one token per role, a child
agency and an unrelated agency.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from sqlalchemy.orm import Session

from models import Agency
from models.db import make_engine, make_session_factory
from tests.conftest import TEST_REMEDY_BODIES, make_user
from tests.integration.hosts import served
from workflow.catalog.roles import ROLE_CODES
from workflow.kernel.actor import local_today
from workflow.online.schema import openapi_document
from workflow.online.tokens import create_token

ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1"


@contextmanager
def serve(database_url: str) -> Iterator[str]:
    """Base URL of gunicorn serving the real app on ``database_url`` (CSRF on, as deployed);
    two hosts behind a balancer with ``GONGKAI_TEST_TWO_HOSTS=1`` (tests/integration/hosts.py)."""
    with served(database_url, probe=API + "/openapi.json") as base:
        yield base


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        assert self.headers.get("content-type", "").startswith("application/json"), (
            self.status,
            self.headers,
            self.body[:300],
        )
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass(frozen=True)
class Client:
    base: str
    token: str | None = None

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One HTTP request; ``body`` is sent as JSON, ``raw`` as is (hostile input)."""
        sent = {**(headers or {})}
        if self.token:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        data = raw
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        url = self.base + (path if path.startswith("/") else f"{API}/{path}")
        request = urllib.request.Request(url, data=data, method=method, headers=sent)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=120) as response:
                return Answer(response.status, _lower(response.headers), response.read())
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, _lower(exc.headers), exc.read())

    def get(self, path: str, **kw: Any) -> Answer:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Answer:
        return self.call("POST", path, body, **kw)


def _lower(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


# --------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class ApiWorld:
    base: str
    url: str
    agency: Agency
    child: Agency
    other: Agency
    #: One token per role code, an ``outsider`` token (other agency, every role), and a
    #: ``child`` token (a registrar of the child agency).
    tokens: dict[str, str]

    def client(self, who: str | None = None) -> Client:
        return Client(self.base, self.tokens[who] if who else None)

    def session(self) -> Session:
        return make_session_factory(make_engine(self.url))()


def populate(url: str) -> tuple[Agency, Agency, Agency, dict[str, str]]:
    engine = make_engine(url)
    session = make_session_factory(engine)()
    agency = Agency(code="api-agency", name="接口测试机关", **TEST_REMEDY_BODIES)
    child = Agency(code="api-child", name="接口测试下属局", parent=agency, **TEST_REMEDY_BODIES)
    other = Agency(code="api-other", name="另一机关", **TEST_REMEDY_BODIES)
    session.add_all([agency, child, other])
    session.commit()
    tokens: dict[str, str] = {}
    for role in ROLE_CODES:
        make_user(session, agency, f"api-{role}", role)
        tokens[role] = create_token(session, f"api-{role}", role).token
    make_user(session, agency, "api-approver2", "approver")
    make_user(session, other, "api-outsider", *ROLE_CODES)
    tokens["outsider"] = create_token(session, "api-outsider").token
    make_user(session, child, "api-child-clerk", "registrar", "handler")
    tokens["child"] = create_token(session, "api-child-clerk").token
    session.commit()
    session.close()
    engine.dispose()
    return agency, child, other, tokens


def today() -> date:
    return local_today(datetime.now(UTC))


def days_ago(n: int) -> str:
    return (today() - timedelta(days=n)).isoformat()


def registration(name: str = "张三", subject: str = "某地块征收补偿方案", **extra: Any) -> dict:
    return {
        "applicant_name": name,
        "applicant_kind": "natural_person",
        "subject": subject,
        "channel": "in_person",
        "submitted_on": days_ago(3),
        **extra,
    }


# --------------------------------------------------------------------------- the document


@cache
def document() -> dict[str, Any]:
    return openapi_document()


def conforms(value: Any, schema_name: str) -> None:
    """Validate ``value`` against ``#/components/schemas/<schema_name>`` of the document."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", **document()}
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(value)
