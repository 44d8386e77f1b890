"""Gunicorn processes for tests over real HTTP, as one host or as two.

``gunicorn`` starts one server (its own process group, its own instance folder, so no
file is shared with any other server). With ``GONGKAI_TEST_TWO_HOSTS=1`` (the Redis pass
of ``tools/run-tests.sh``), ``served`` starts two such servers that share only the
database and Redis (``GONGKAI_TEST_REDIS_URL``), as two machines behind a load balancer
would, and a round-robin TCP balancer in front: each new connection goes to the other
server, so consecutive requests of one test land on different "hosts".
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "two-hosts-test-secret-key"
TWO_HOSTS = os.environ.get("GONGKAI_TEST_TWO_HOSTS") == "1"
REDIS_URL = os.environ.get("GONGKAI_TEST_REDIS_URL", "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def host_env(database_url: str, instance: Path, redis_url: str = "") -> dict[str, str]:
    """The environment of one host: shared database (and Redis), its own files."""
    env = {k: v for k, v in os.environ.items() if k not in ("GONGKAI_ENV", "GONGKAI_REDIS_URL")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        DATABASE_URL=database_url,
        GONGKAI_SECRET_KEY=SECRET,
        GONGKAI_INSTANCE_DIR=str(instance),
    )
    if redis_url:
        env["GONGKAI_REDIS_URL"] = redis_url
    return env


@contextmanager
def gunicorn(
    database_url: str, *, workers: int = 2, redis_url: str = "", probe: str = "/healthz"
) -> Iterator[str]:
    """Base URL of gunicorn serving ``app:wsgi()`` (CSRF on, as deployed)."""
    port = free_port()
    instance = Path(tempfile.mkdtemp(prefix="gongkai-host-"))
    log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--timeout", "120"]
    proc = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{port}", "app:wsgi()"],
        cwd=ROOT,
        env=host_env(database_url, instance, redis_url),
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # a loaded shared machine starts slowly
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {Path(log.name).read_text()}")
            try:
                with urllib.request.urlopen(base + probe, timeout=10):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not come up within 180 s") from None
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


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, target):
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


@contextmanager
def round_robin(bases: list[str]) -> Iterator[str]:
    """A TCP balancer on a free port sending each new connection to the next of ``bases``."""
    targets = [("127.0.0.1", int(b.rsplit(":", 1)[1])) for b in bases]
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stopped = threading.Event()

    def serve() -> None:
        turn = 0
        while not stopped.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            backend = socket.create_connection(targets[turn % len(targets)])
            turn += 1
            threading.Thread(target=_pipe, args=(client, backend), daemon=True).start()
            threading.Thread(target=_pipe, args=(backend, client), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stopped.set()
        listener.close()


@contextmanager
def served(database_url: str, probe: str = "/healthz") -> Iterator[str]:
    """One gunicorn with 2 workers, or (``GONGKAI_TEST_TWO_HOSTS=1``) two gunicorn hosts
    with one worker each behind ``round_robin``, sharing only the database and Redis."""
    if not TWO_HOSTS:
        with gunicorn(database_url, probe=probe) as base:
            yield base
        return
    with ExitStack() as stack:
        bases = [
            stack.enter_context(gunicorn(database_url, workers=1, redis_url=REDIS_URL, probe=probe))
            for _ in range(2)
        ]
        yield stack.enter_context(round_robin(bases))
