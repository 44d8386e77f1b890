"""Serving the bench app with gunicorn and loading it with wrk.

gunicorn runs ``bench.wsgi:app`` with 2 sync workers (the production shape on a 2-core
machine) in its own process group and is stopped by its pid. wrk drives it with a Lua
script that rotates through a list of paths, sends the session cookie of a logged-in
user, and prints p50/p95/p99 latency and the error counts as JSON at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT

GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"

WRK_SCRIPT = r"""
local paths = {%s}
local cookie = "%s"
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {["Cookie"] = cookie})
end
done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %%d, "seconds": %%.3f, "p50_ms": %%.2f, "p95_ms": %%.2f, "p99_ms": %%.2f, ' ..
    '"max_ms": %%.2f, "mean_ms": %%.2f, "status_errors": %%d, "socket_errors": %%d}\n',
    summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, latency.mean / 1e3, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Served:
    base: str
    #: gunicorn's master pid, which is also its process group (workers included).
    pid: int


@contextmanager
def gunicorn(
    database_url: str, workers: int = 2, threads: int = 1, root: Path = ROOT
) -> Iterator[Served]:
    """Serve the bench app; yields its base URL and pid. The server is stopped on exit.

    ``root`` is the checkout whose code is served (another revision, for a before/after
    comparison under the same conditions); its ``bench/wsgi.py`` must exist.
    """
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "GONGKAI_SECRET_KEY": "bench-secret"}
    log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    command = [
        str(GUNICORN),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "300",
        "bench.wsgi:app",
    ]
    proc = subprocess.Popen(
        command, cwd=root, env=env, stdout=log, stderr=log, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, proc)
        yield Served(base, proc.pid)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _wait_until_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/login", timeout=30):
                return
        except OSError:  # refused while booting, or a slow first answer (URLError, timeouts)
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not come up within 60 s")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def login(base: str, username: str, password: str) -> str:
    """The ``Cookie`` header value of a fresh session for ``username``."""
    data = urllib.parse.urlencode({"username": username, "password": password}).encode()
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(base + "/login", data=data, timeout=30)
    except urllib.error.HTTPError as exc:  # the 302 after a successful login
        if exc.code != 302:
            raise RuntimeError(f"login as {username} failed: HTTP {exc.code}") from exc
        cookies = exc.headers.get_all("Set-Cookie") or []
        return "; ".join(c.split(";", 1)[0] for c in cookies)
    raise RuntimeError(f"login as {username} did not redirect")


def get(base: str, path: str, cookie: str) -> tuple[int, bytes]:
    """One GET, redirects *not* followed: a lost session shows as 302, not as the login
    page's 200 (wrk, too, would count a redirect as a success)."""
    request = urllib.request.Request(base + path, headers={"Cookie": cookie})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=300) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wrk(
    base: str,
    paths: Sequence[str],
    cookie: str,
    *,
    seconds: int = 10,
    connections: int = 2,
    threads: int = 2,
) -> dict[str, Any]:
    """Load ``paths`` (in rotation) for ``seconds``; latency percentiles and errors."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    quoted = ", ".join(json.dumps(p) for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % (quoted, cookie))
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{min(threads, connections)}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "120s",
                "-s",
                script.name,
                base,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        Path(script.name).unlink()
    lines = [line for line in out.splitlines() if line.startswith('{"requests"')]
    # every wrk thread runs done(); the summary is the same, keep one
    return json.loads(lines[-1])


# --------------------------------------------------------------------------- CPU accounting

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: str) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name may contain spaces: fields start after its closing parenthesis
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(*, group: int | None = None, parent: int | None = None) -> float:
    """User + system CPU of the live processes in process ``group``, or of ``parent`` and
    its children (a PostgreSQL postmaster and its backends), read from /proc."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(entry.name)
        if fields is None:
            continue
        ppid, pgrp = int(fields[1]), int(fields[2])
        mine = (group is not None and pgrp == group) or (
            parent is not None and (int(entry.name) == parent or ppid == parent)
        )
        if mine:
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


def postmaster_pid() -> int | None:
    """The pid of the throwaway PostgreSQL server the benchmarks use, if known."""
    data = (
        os.environ.get("GONGKAI_PG_DATA")
        or f"/tmp/gk-pg-{os.environ.get('GONGKAI_PG_PORT', '54392')}"
    )
    try:
        return int(Path(data, "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
