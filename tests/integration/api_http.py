"""The JSON API over real HTTP: gunicorn serving ``app:wsgi()`` on a test database.

``serve`` starts gunicorn (2 sync workers, as in production) in its own process group on
a free 127.0.0.1 port and stops it by its pid; ``Client`` speaks to it with the standard
library only, so what is tested is exactly what a platform's script sees on the wire.
``ApiWorld`` is the data the API tests share: an agency with one token per role, a child
agency and an unrelated agency.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
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
from workflow.catalog.roles import ROLE_CODES
from workflow.kernel.actor import local_today
from workflow.online.schema import openapi_document
from workflow.online.tokens import create_token

ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(database_url: str) -> Iterator[str]:
    """Base URL of gunicorn serving the real app on ``database_url`` (CSRF on, as deployed)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "GONGKAI_ENV"}
    env.update(DATABASE_URL=database_url, GONGKAI_SECRET_KEY="api-tests-secret-key")
    log = tempfile.NamedTemporaryFile(prefix="gunicorn-api-", suffix=".log", delete=False)  # noqa: SIM115
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--timeout", "120"]
    proc = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{port}", "app:wsgi()"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {Path(log.name).read_text()}")
            try:
                with urllib.request.urlopen(base + API + "/openapi.json", timeout=10):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not come up within 60 s") from None
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        Path(log.name).unlink()


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
