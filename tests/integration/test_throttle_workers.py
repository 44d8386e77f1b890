"""The login limit holds across gunicorn workers (issue 18 item 4; the review's S6/V6a).

Two sync workers serve the real app over HTTP, on a test database (and on Redis when
``GONGKAI_TEST_REDIS_URL`` names one). Which worker answers is made certain, not left to
chance: a connection that sends half a request keeps one worker busy reading it, so the
next requests can only go to the other. The five failures are split between the two
workers (the access log names the process of each answer), and the sixth attempt, even
with the right password, is refused: with counts kept in each worker's memory, as
before, neither worker would have seen five.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, make_user
from tests.integration.hosts import ROOT, free_port

REDIS_URL = os.environ.get("GONGKAI_TEST_REDIS_URL", "")
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

pytestmark = pytest.mark.xdist_group("gunicorn")


@contextmanager
def gunicorn(database_url: str, redis_url: str, access_log: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("GONGKAI_ENV", "GONGKAI_REDIS_URL")}
    env.update(DATABASE_URL=database_url, GONGKAI_SECRET_KEY="throttle-tests-secret-key")
    if redis_url:
        env["GONGKAI_REDIS_URL"] = redis_url
    log = tempfile.NamedTemporaryFile(prefix="gunicorn-throttle-", suffix=".log", delete=False)  # noqa: SIM115
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "2",
        "--timeout",
        "120",
        "--access-logfile",
        str(access_log),
        "--access-logformat",
        "%(p)s %(m)s %(U)s %(s)s",
        "--bind",
        f"127.0.0.1:{port}",
        "app:wsgi()",
    ]
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {Path(log.name).read_text()}")
            try:
                with urllib.request.urlopen(base + "/login", timeout=10):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not come up within 60 s") from None
                time.sleep(0.2)
        # Both workers must be up before one is held busy.
        time.sleep(1.0)
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


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Browser:
    """Cookies and the CSRF token, as a browser would keep them."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.username = username
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect
        )

    def status(self, method: str, path: str, data: dict[str, str] | None = None) -> int:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, method=method)
        try:
            with self.opener.open(request, timeout=60) as response:
                self.last = response.read().decode()
                return int(response.status)
        except urllib.error.HTTPError as err:
            self.last = err.read().decode()
            return err.code

    def login(self, password: str) -> int:
        assert self.status("GET", "/login") == 200
        token = TOKEN.search(self.last).group(1)  # type: ignore[union-attr]
        return self.status(
            "POST", "/login", {"username": self.username, "password": password, "csrf_token": token}
        )


@contextmanager
def one_worker_busy(base: str) -> Iterator[None]:
    """Keep one worker reading a request that never ends, until the block is left."""
    port = int(base.rsplit(":", 1)[1])
    holder = socket.create_connection(("127.0.0.1", port))
    holder.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line: unfinished
    time.sleep(0.5)  # let a worker accept it
    try:
        yield
    finally:
        holder.close()
        time.sleep(0.5)


def pids_of_logins(access_log: Path) -> list[str]:
    lines = access_log.read_text().splitlines() if access_log.exists() else []
    return [line.split()[0] for line in lines if " POST /login " in line]


@pytest.mark.parametrize(
    "store",
    [
        "database",
        pytest.param("redis", marks=pytest.mark.skipif(not REDIS_URL, reason="no Redis")),
    ],
)
def test_failures_on_two_workers_add_up(db_url, session, agency, tmp_path, store) -> None:
    # A fresh name each run: a shared Redis keeps counts for the window across runs.
    username = f"clerk-{secrets.token_hex(4)}"
    make_user(session, agency, username, "handler")
    access_log = tmp_path / "access.log"
    with gunicorn(db_url, REDIS_URL if store == "redis" else "", access_log) as base:
        browser = Browser(base, username)
        statuses = []
        # Failures 1–2 with one worker held busy: the other one answers them.
        with one_worker_busy(base):
            statuses += [browser.login("wrong") for _ in range(2)]
        first = set(pids_of_logins(access_log))
        assert len(first) == 1
        # Hold a worker again until the one that answered is the one held: find out with
        # a harmless page, then send failures 3–5 to the other worker.
        for _ in range(100):  # which worker the kernel hands a connection to is chance
            with one_worker_busy(base):
                browser.status("GET", "/login")
                time.sleep(0.2)
                lines = access_log.read_text().splitlines()
                free = lines[-1].split()[0]
                if free not in first:
                    statuses += [browser.login("wrong") for _ in range(3)]
                    break
        else:
            pytest.fail("could not reach the second worker")
        served = pids_of_logins(access_log)
        assert len(set(served)) == 2, served  # the five failures were split between workers
        assert statuses == [401] * 5
        # Sixth attempt, right password, whichever worker takes it: refused.
        assert browser.login(PASSWORD) == 429
        assert "登录失败次数过多" in browser.last
        with one_worker_busy(base):
            assert browser.login(PASSWORD) == 429
