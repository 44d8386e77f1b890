"""Browser tests: one real server with the demo data for the whole session, one Chromium.

The server is the one a clerk uses (``python app.py serve``) on a temporary SQLite
database prepared with ``init`` and ``demo``; the tests drive it only through the pages.
Screenshots go to ``test-artifacts/screenshots/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.browser.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    ROOT,
    SCREENSHOTS,
    STARTUP_TIMEOUT,
    login,
    screenshot,
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "app.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"python app.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}:\n{log.read_text('utf-8')}")
        try:
            with urllib.request.urlopen(url + "/login", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    pytest.fail(f"the server did not answer within {STARTUP_TIMEOUT}s:\n{log.read_text('utf-8')}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a live server on a fresh demo database (one per test session).

    Under pytest-xdist (``--dist loadgroup``) every browser test runs on one worker
    (tests/scheduling.py), so there is still one server and one Chromium for all of them.
    """
    workdir = tmp_path_factory.mktemp("browser-server")
    env = {k: v for k, v in os.environ.items() if k not in ("GONGKAI_ENV",)}
    env.update(
        DATABASE_URL=f"sqlite:///{workdir / 'browser.db'}",
        GONGKAI_SECRET_KEY="browser-tests-secret-key",
        PYTHONUNBUFFERED="1",
    )
    _run_cli(env, "init")
    _run_cli(env, "demo")
    port = _free_port()
    log = workdir / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "app.py", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, proc, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, launched once (never a downloaded one: no ``playwright install``)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash tools/system-deps.sh` (as root)")
    for stale in SCREENSHOTS.glob("FAILED-*.png"):  # from an earlier run
        stale.unlink()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Remember each phase's report on the item, so fixtures can tell a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page_as(
    server: str, browser, request: pytest.FixtureRequest
) -> Iterator[Callable[..., object]]:
    """``page_as("dengji")`` → a page signed in as that demo user, in its own context.

    The login goes through the real form; ``page_as(None)`` is a visitor not signed in.
    ``viewport`` (default 1366×768) selects the window size; every context is closed at
    the end of the test.
    """
    contexts = []

    def open_page(username: str | None, viewport: dict[str, int] | None = None):
        context = browser.new_context(
            viewport=viewport or DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        if username is not None:
            login(page, server, username)
        return page

    yield open_page
    report = getattr(request.node, "report_call", None)
    for i, context in enumerate(contexts):
        if report is not None and report.failed:
            for j, page in enumerate(context.pages):
                name = f"FAILED-{request.node.name}-{i}-{j}"
                with contextlib.suppress(Exception):
                    screenshot(page, name)
        context.close()
