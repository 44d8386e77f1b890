"""Two hosts sharing only PostgreSQL and Redis: nothing a clerk relies on is in one process.

Two gunicorn servers (one worker each, each with its own instance folder, so no file is
shared) and one background worker (a third folder) run on one PostgreSQL database and
one Redis server, as on three machines. A clerk's browser goes to either server. The
JSON API tests run the same way in the Redis pass of ``tools/run-tests.sh``
(``GONGKAI_TEST_TWO_HOSTS=1``: tests/integration/hosts.py alternates every connection).
Needs ``GONGKAI_TEST_DATABASE_URL`` and ``GONGKAI_TEST_REDIS_URL``.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import text

from models.db import make_engine
from tests.conftest import PG_URL
from tests.integration.hosts import REDIS_URL, ROOT, gunicorn, host_env

pytestmark = [
    pytest.mark.demo,
    pytest.mark.skipif(not (PG_URL and REDIS_URL), reason="needs PostgreSQL and Redis"),
]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "gongkai-demo"
LEDGER = (
    "agency,ref,applicant_name,applicant_kind,received_on,subject,concluded_on,outcome\n"
    "nanchang-etdz,TWO-1,王二,自然人,2025-03-03,宅基地审批材料,2025-03-20,disclosed\n"
)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


@dataclass
class Browser:
    """One clerk's browser: one cookie jar, whichever host it talks to."""

    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def open(self, url: str, data: bytes | None = None, headers: dict[str, str] | None = None):
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect
        )
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def post(self, url: str, form_url: str, fields: dict[str, str]) -> int:
        """Submit a form as the page at ``form_url`` (its CSRF token) would."""
        _, page = self.open(form_url)
        body = urllib.parse.urlencode({**fields, "csrf_token": CSRF.search(page).group(1)})
        return self.open(url, body.encode())[0]

    def upload(self, url: str, form_url: str, name: str, content: bytes) -> int:
        _, page = self.open(form_url)
        boundary = uuid.uuid4().hex
        token = CSRF.search(page).group(1)
        disposition = f"--{boundary}\r\nContent-Disposition: form-data; "
        body = (
            (
                f'{disposition}name="csrf_token"\r\n\r\n{token}\r\n'
                f'{disposition}name="file"; filename="{name}"\r\n'
                "Content-Type: text/csv\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.open(url, body, headers)[0]

    def sign_in(self, base: str, username: str) -> None:
        assert (
            self.post(
                f"{base}/login", f"{base}/login", {"username": username, "password": PASSWORD}
            )
            == 302
        )


@pytest.fixture
def hosts(db_url: str) -> Iterator[tuple[str, str]]:
    """Two web hosts and a worker host on one database and one Redis."""
    assert db_url.startswith("postgresql")
    with ExitStack() as stack:
        a = stack.enter_context(gunicorn(db_url, workers=1, redis_url=REDIS_URL))
        b = stack.enter_context(gunicorn(db_url, workers=1, redis_url=REDIS_URL))
        folder = Path(tempfile.mkdtemp(prefix="gongkai-worker-"))
        worker = subprocess.Popen(
            [sys.executable, "app.py", "worker"],
            cwd=ROOT,
            env=host_env(db_url, folder, REDIS_URL),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.callback(worker.wait, 30)
        stack.callback(worker.terminate)
        yield a, b


def test_a_session_started_on_one_host_works_on_the_other_and_ends_on_both(hosts, db_url) -> None:
    a, b = hosts
    clerk = Browser()
    clerk.sign_in(a, "chayue")
    status, page = clerk.open(f"{b}/requests")
    engine = make_engine(db_url)
    with engine.connect() as conn:  # the viewer of the top agency sees every demo request
        total = conn.execute(text("SELECT count(*) FROM requests")).scalar_one()
    engine.dispose()
    assert status == 200 and f"共 {total} 件" in page
    assert clerk.post(f"{b}/logout", f"{b}/requests", {}) == 302
    assert clerk.open(f"{a}/requests")[0] == 302  # back to the login page


def test_an_upload_on_one_host_is_imported_by_the_worker_and_seen_on_the_other(hosts) -> None:
    a, b = hosts
    admin = Browser()
    admin.sign_in(a, "admin")
    assert admin.upload(f"{a}/imports/ledger", f"{a}/imports/ledger", "l.csv", LEDGER.encode()) in (
        302,
        303,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        _, page = admin.open(f"{b}/requests?q=" + urllib.parse.quote("宅基地"))
        if "共 1 件" in page:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the import never showed on the other host")
    assert "王二" in page


def test_both_hosts_report_the_same_worker_and_queue(hosts) -> None:
    a, b = hosts
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen = [json.loads(Browser().open(f"{h}/healthz")[1]) for h in (a, b)]
        if all(s["worker"]["ok"] for s in seen):
            break
        time.sleep(0.5)
    assert all(s["ok"] and s["queue"]["ok"] for s in seen)
    assert seen[0]["worker"]["last"] == seen[1]["worker"]["last"] != ""
