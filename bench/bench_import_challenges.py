"""Rows per second importing a ledger of 复议/诉讼 cases (``import-challenges``).

    .venv/bin/python bench/bench_import_challenges.py --rows 20k --cases 2000

Requests are first imported from the request ledger of ``--rows`` rows as
``import-ledger`` does (``bench.bench_import.import_once``, the bulk path). Then a case
ledger is written for ``--cases`` of the concluded requests: a reconsideration filed five
days after the reply, and, where thirty days have passed, concluded — upheld for most,
and for every fifth one an order to reply anew (which reopens the request, the costliest
row). It is imported exactly as the command does (``workflow.challenges.ledger``: one
transaction, each row replayed through ``workflow.challenges.operations``), timed per
phase. The request import's rate in the same run is the yardstick: the case ledger is
not on the bulk path (docs/domain.md §11.2.6).
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as ``python bench/NAME.py``: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import csv
import os
import resource
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bench.bench_import import _fresh_url, import_once, write_ledger
from bench.common import bench_dir, label, save, sizes
from models import Agency, Request, RequestFacts
from models.db import make_engine, make_session_factory
from workflow.challenges.ledger import (
    CHALLENGE_COLUMNS,
    SYSTEM_RECORDER,
    default_legal_actor,
    import_challenges,
    validate_challenge_rows,
)
from workflow.kernel.actor import local_today
from workflow.ledger.importer import ImportSource
from workflow.ledger.reader import read_ledger


def write_case_ledger(url: str, path: Path, cases: int, today: Any) -> int:
    """A case ledger for up to ``cases`` concluded requests; return its rows."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        found = session.execute(
            select(Agency.code, Request.external_ref, RequestFacts.concluded_on)
            .join(Request, Request.agency_id == Agency.id)
            .join(RequestFacts, RequestFacts.request_id == Request.id)
            .where(RequestFacts.concluded_on.is_not(None), RequestFacts.voided.is_(False))
            .where(RequestFacts.concluded_on <= today - timedelta(days=10))
            .order_by(Request.id)
            .limit(cases)
        ).all()
    engine.dispose()
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=[c.name for c in CHALLENGE_COLUMNS])
        writer.writeheader()
        for n, (agency, ref, concluded) in enumerate(found):
            filed = concluded + timedelta(days=5)
            closed = filed + timedelta(days=30)
            done = closed <= today
            writer.writerow(
                {
                    "agency": agency,
                    "request_ref": ref,
                    "kind": "reconsideration",
                    "filed_on": filed.isoformat(),
                    "body": "某市人民政府",
                    "case_no": f"复-{n:06d}",
                    "concluded_on": closed.isoformat() if done else "",
                    "result": ("撤销并责令重新答复" if n % 5 == 0 else "维持") if done else "",
                }
            )
    return len(found)


def import_cases(url: str, path: Path, now: datetime) -> dict[str, Any]:
    """``import-challenges PATH`` as the command runs it, each phase timed."""
    engine = make_engine(url)
    started = time.perf_counter()
    cpu = time.process_time()
    raw = read_ledger(path, CHALLENGE_COLUMNS)
    rows, problems = validate_challenge_rows(raw, local_today(now))
    read_s = time.perf_counter() - started
    with make_session_factory(engine)() as session:
        source = ImportSource.of_file(SYSTEM_RECORDER, path.name, path)
        report = import_challenges(
            session,
            rows,
            default_legal_actor,
            now,
            prior_errors=problems,
            total_rows=len(raw),
            provenance=source.provenance(),
        )
        assert report.ok, report.errors[:5]
        replay_s = time.perf_counter() - started - read_s
        session.commit()
    total = time.perf_counter() - started
    cpu_s = time.process_time() - cpu
    engine.dispose()
    return {
        "rows": len(raw),
        "read_validate_s": round(read_s, 2),
        "replay_write_s": round(replay_s, 2),
        "total_s": round(total, 2),
        "rows_per_second": round(len(raw) / total, 1),
        "us_per_row": round(total / len(raw) * 1e6),
        "cpu_us_per_row": round(cpu_s / len(raw) * 1e6),
        "reopened": report.reopened,
        "states": dict(report.by_state),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="20k", help="requests imported first")
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--name", default="import-challenges")
    args = parser.parse_args()
    (rows,) = sizes(args.rows)
    now = datetime.now(UTC)
    today = local_today(now)
    ledger = bench_dir() / f"ledger-{rows}.csv"
    if not ledger.exists():
        write_ledger(ledger, rows, today)
    url = _fresh_url("sqlite", f"gk-cases-{rows}", None)
    requests = import_once(url, ledger, rows, 2)
    cases_path = bench_dir() / f"cases-{rows}-{args.cases}.csv"
    written = write_case_ledger(url, cases_path, args.cases, today)
    found = {
        "dialect": "sqlite",
        "load_before": os.getloadavg(),
        "request_import": {k: v for k, v in requests.items() if k != "rows_per_second_by_tenth"},
        "cases_written": written,
        "case_import": import_cases(url, cases_path, now),
        "load_after": os.getloadavg(),
    }
    case, req = found["case_import"], found["request_import"]
    print(
        f"sqlite {label(rows)} requests, {written} cases: import-challenges "
        f"{case['rows_per_second']} rows/s ({case['us_per_row']} µs/row, CPU "
        f"{case['cpu_us_per_row']} µs, {case['reopened']} reopened); import-ledger in the "
        f"same run {req['rows_per_second']} rows/s ({req['us_per_row']} µs/row)",
        file=sys.stderr,
    )
    save(args.name, {"results": [found]})


if __name__ == "__main__":
    main()
