"""How long other clerks' saves wait while a ledger is imported on SQLite.

    .venv/bin/python bench/bench_import_wait.py --rows 100k

A clerk registers one request after another (``workflow.requests.operations.register``,
one commit each, as the web page does) into the same SQLite file, first alone (the
baseline, measured in the same run), then while ``import-ledger``'s path
(``bench.bench_import.import_once``) imports ``--rows`` rows in a forked process. Reported:
each save's latency (p50, p95, max) in both phases, the saves that failed with
"database is locked" (none may: SQLite waits up to its busy timeout of 10 s), and the
import's own phases, so the longest wait can be set against the import's write phase.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as ``python bench/NAME.py``: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import multiprocessing
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bench.bench_import import _fresh_url, import_once, write_ledger
from bench.common import bench_dir, label, save, sizes
from bench.generate import ensure_province, prepare
from models import Agency, User
from models.db import make_session_factory
from workflow.kernel.actor import Actor, local_today
from workflow.requests.operations import register

#: The baseline phase's length (seconds).
BASELINE_S = 20.0


def _clerk_saves(url: str, until: Any, pause: float = 0.05) -> dict[str, Any]:
    """Register requests one by one until ``until()``; each save's latency in ms."""
    engine = prepare(url)
    factory = make_session_factory(engine)
    latencies: list[float] = []
    failures = 0
    with factory() as session:
        user = session.scalar(select(User).where(User.username.like("%dengji%")))
        assert user is not None, "the province's registrar accounts"
        actor, agency_id = Actor.of(user), user.agency_id
    while not until():
        now = datetime.now(UTC)
        raw = {
            "applicant_name": "等待测试申请人",
            "applicant_kind": "natural_person",
            "subject": "某文件",
            "channel": "in_person",
            "submitted_on": local_today(now).isoformat(),
        }
        started = time.perf_counter()
        try:
            with factory() as session:
                register(session, actor, now, raw, agency=session.get(Agency, agency_id))
                session.commit()
        except OperationalError:
            failures += 1
        latencies.append((time.perf_counter() - started) * 1000)
        time.sleep(pause)
    engine.dispose()
    ordered = sorted(latencies)
    return {
        "saves": len(latencies),
        "failed_locked": failures,
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 1),
        "max_ms": round(ordered[-1], 1),
    }


def run(rows: int) -> dict[str, Any]:
    url = _fresh_url("sqlite", f"import-wait-{label(rows)}", None)
    engine = prepare(url)
    with make_session_factory(engine)() as session:
        ensure_province(session)
        session.commit()
    engine.dispose()
    ledger = bench_dir() / f"ledger-wait-{label(rows)}.csv"
    write_ledger(ledger, rows, local_today(datetime.now(UTC)))

    deadline = time.monotonic() + BASELINE_S
    baseline = _clerk_saves(url, lambda: time.monotonic() > deadline)

    context = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[dict[str, Any]] = context.Queue()
    child = context.Process(target=lambda: results.put(import_once(url, ledger, rows, 2)))
    child.start()
    during = _clerk_saves(url, lambda: not child.is_alive())
    child.join()
    imported = results.get(timeout=5)
    return {
        "rows": rows,
        "baseline": baseline,
        "during_import": during,
        "import": imported,
        "p95_ratio": round(during["p95_ms"] / baseline["p95_ms"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="100k")
    parser.add_argument("--name", default=None, help="results file (default import-wait-ROWS)")
    args = parser.parse_args()
    found = [run(n) for n in sizes(args.rows)]
    for result in found:
        print(result)
    save(args.name or f"import-wait-{args.rows}", {"results": found})


if __name__ == "__main__":
    main()
