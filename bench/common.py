"""What every benchmark shares: data sets, the PostgreSQL server, statistics, results.

Data sets are generated once (bulk path, seed 8) and reused: SQLite files under
``$GONGKAI_BENCH_DIR`` (default ``/tmp/gongkai-bench``), PostgreSQL databases
``gk_bench_<N>`` on the server at ``$GONGKAI_BENCH_PG_URL`` or, if unset, on a throwaway
server started with ``tools/pg-test-server.sh`` (port ``$GONGKAI_PG_PORT``, default 54392).

Figures are medians and percentiles of repeated runs, never single timings; each result
file records the machine and its load average, because this machine is shared.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SEED = 8


def bench_dir() -> Path:
    path = Path(os.environ.get("GONGKAI_BENCH_DIR", "/tmp/gongkai-bench"))
    path.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------- PostgreSQL


@contextmanager
def postgres() -> Iterator[str | None]:
    """A PostgreSQL server URL (its maintenance database), or None if none can be had.

    ``GONGKAI_BENCH_PG_URL`` wins; otherwise the throwaway test server is started (and
    left running if it was already up, stopped at the end if this started it).
    """
    given = os.environ.get("GONGKAI_BENCH_PG_URL")
    if given:
        yield given
        return
    env = {
        **os.environ,
        "GONGKAI_PG_PORT": os.environ.get("GONGKAI_PG_PORT", "54392"),
        "GONGKAI_PG_DATA": os.environ.get(
            "GONGKAI_PG_DATA", f"/tmp/gk-pg-{os.environ.get('GONGKAI_PG_PORT', '54392')}"
        ),
    }
    script = str(ROOT / "tools" / "pg-test-server.sh")
    running = Path(env["GONGKAI_PG_DATA"], "postmaster.pid").exists()
    try:
        url = subprocess.run(
            [script, "start"], env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"PostgreSQL unavailable, skipped: {exc}", file=sys.stderr)
        yield None
        return
    try:
        yield url
    finally:
        if not running and os.environ.get("GONGKAI_BENCH_KEEP_PG") != "1":
            subprocess.run([script, "stop"], env=env, check=False)


def pg_database(server_url: str, name: str, *, create: bool = True) -> str:
    """The URL of database ``name`` on the server of ``server_url`` (created if asked)."""
    from models.db import make_engine

    base = server_url.rsplit("/", 1)[0]
    admin = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists and create:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{base}/{name}"


def drop_pg_database(server_url: str, name: str) -> None:
    from models.db import make_engine

    admin = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# --------------------------------------------------------------------------- data sets


def dataset_url(dialect: str, n: int, pg_url: str | None) -> str:
    if dialect == "sqlite":
        return f"sqlite:///{bench_dir() / f'gk-{n}.db'}"
    assert pg_url is not None
    return pg_database(pg_url, f"gk_bench_{n}")


def ensure_dataset(dialect: str, n: int, pg_url: str | None = None, workers: int = 2) -> str:
    """A database holding exactly ``n`` generated requests (made with the bulk path once)."""
    from bench.generate import generate_bulk, prepare, seeds_for
    from models import Request
    from workflow.kernel.actor import local_today

    url = dataset_url(dialect, n, pg_url)
    engine = prepare(url)
    with engine.connect() as conn:
        have = conn.scalar(select(func.count()).select_from(Request.__table__)) or 0
    if have not in (0, n):
        raise SystemExit(f"{url} holds {have} requests, not {n}: delete it and run again")
    if have == 0:
        now = datetime.now(UTC)
        started = time.perf_counter()
        print(f"generating {n:,} requests into {dialect} …", file=sys.stderr)
        generate_bulk(engine, seeds_for(n, SEED, local_today(now)), now, workers=workers)
        analyze(engine)
        print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    engine.dispose()
    return url


def analyze(engine: Engine) -> None:
    """Fresh planner statistics after a bulk load (what autovacuum would do soon after)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


# --------------------------------------------------------------------------- figures


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0–100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass(frozen=True)
class Timing:
    """Seconds of repeated runs of one thing."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def p95(self) -> float:
        return percentile(self.runs, 95)

    @property
    def low(self) -> float:
        return min(self.runs)

    @property
    def high(self) -> float:
        return max(self.runs)

    def as_dict(self) -> dict[str, float]:
        return {
            "median_s": round(self.median, 5),
            "min_s": round(self.low, 5),
            "max_s": round(self.high, 5),
            "runs": len(self.runs),
        }


def timed(fn: Callable[[], Any], repeat: int, warmup: int = 1) -> Timing:
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return Timing(tuple(runs))


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kb = 0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def pg_version(url: str) -> str:
    from models.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        version = str(conn.scalar(text("SHOW server_version")))
        fsync = str(conn.scalar(text("SHOW fsync")))
    engine.dispose()
    return f"{version} (fsync={fsync})"


def save(name: str, payload: dict[str, Any]) -> Path:
    """Write ``bench/results/<name>.json`` (small, committed with RESULTS.md)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **payload}, ensure_ascii=False, indent=1))
    print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
    return path


def dialects(requested: str, pg: str | None) -> list[str]:
    """The requested dialects (comma-separated) that can run: PostgreSQL only with a server."""
    return [d for d in requested.split(",") if d != "postgresql" or pg is not None]


def sizes(arg: str) -> list[int]:
    """``10k,100k,1m`` → [10000, 100000, 1000000]."""
    found = []
    for part in arg.split(","):
        part = part.strip().lower()
        scale = {"k": 1_000, "m": 1_000_000}.get(part[-1:], 1)
        found.append(int(float(part.rstrip("km")) * scale))
    return found


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k" if n >= 1000 else str(n)
