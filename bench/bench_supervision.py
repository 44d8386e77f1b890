"""The supervisor's per-agency table at the generated province, against a baseline.

    GONGKAI_BENCH_DIR=/tmp/gk-supervision .venv/bin/python bench/bench_supervision.py \
        --sizes 10k,100k [--dialects sqlite,postgresql]

For each data set (bulk-generated, ``bench/common.py``) it times, in the same run and
on the same connection:

* the **baseline**: table 三's fast path for the province (``fast_counts``, the statement
  behind the statistics page, already tuned in bench/RESULTS.md);
* the **supervisor's table** for the province (every agency below ``jx``) over the last
  complete year and over the running year (``supervision_table``);
* the report tracker and the consolidated tables for the last complete year.

It reports medians, the ratio of each to the baseline (a ratio survives a slower or
busier machine better than milliseconds do), the cost per request in scope and per agency
row, and the number of SQL statements each runs — which must not grow with the number of
agencies (set-based: one grouped statement, not one per agency).

Use a bench directory of your own (``GONGKAI_BENCH_DIR``) while migration 0018 is not
on every branch: opening a data set migrates it.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as ``python bench/NAME.py``: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from bench.common import dialects, ensure_dataset, label, pg_version, postgres, save, sizes, timed
from bench.plans import ROOT
from models import Agency, RequestFacts
from models.agency import subtree_ids
from models.db import make_engine, make_session_factory
from workflow.annual_report.tracker import consolidated, report_tracker
from workflow.requests.clocks import refresh_reply_days
from workflow.statistics.queries import fast_counts
from workflow.statistics.scope import Scope
from workflow.statistics.supervision import Period, supervision_table
from workflow.store.calendar import load_calendar

REPEAT = 7


def statements(session: Session, fn: Callable[[], Any]) -> int:
    """How many SQL statements ``fn`` runs."""
    count = 0

    def seen(*_: Any) -> None:
        nonlocal count
        count += 1

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return count


def run(dialect: str, n: int, pg: str | None) -> dict[str, Any]:
    url = ensure_dataset(dialect, n, pg)
    engine = make_engine(url)
    today = date.today()
    year = today.year - 1
    found: dict[str, Any] = {"dialect": dialect, "requests": n, "year": year}
    if dialect == "postgresql":
        found["server"] = pg_version(url)
    with make_session_factory(engine)() as session:
        calendar = load_calendar(session)
        # A data set made before migration 0018 has its replies marked, not yet counted.
        found["reply_days_filled"] = refresh_reply_days(session, calendar)
        session.commit()
        root = session.scalar(select(Agency).where(Agency.code == ROOT))
        assert root is not None
        ids = subtree_ids(session, root.id)
        scope = Scope.of(root, True)
        f = RequestFacts
        in_scope = session.scalar(select(func.count()).where(f.agency_id.in_(ids))) or 0
        found.update(agencies=len(ids), requests_in_scope=in_scope)
        last_year = Period.of_year(year, today)
        this_year = Period.of_year(today.year, today)
        cases: dict[str, Callable[[], Any]] = {
            "baseline_fast_counts": lambda: fast_counts(session, scope, year),
            "table_last_year": lambda: supervision_table(
                session, root, ids, last_year, calendar, today
            ),
            "table_this_year": lambda: supervision_table(
                session, root, ids, this_year, calendar, today
            ),
            "report_tracker": lambda: report_tracker(session, ids, year, today),
            "consolidated": lambda: consolidated(session, root, ids, year),
        }
        print(f"  {dialect} {label(n)}: {len(ids)} agencies …", file=sys.stderr)
        timings = {name: timed(fn, repeat=REPEAT) for name, fn in cases.items()}
        base = timings["baseline_fast_counts"].median
        for name, timing in timings.items():
            found[name] = {
                **timing.as_dict(),
                "over_baseline": round(timing.median / base, 2),
                "us_per_request": round(timing.median / max(in_scope, 1) * 1e6, 3),
                "ms_per_agency": round(timing.median / len(ids) * 1e3, 3),
                "statements": statements(session, cases[name]),
            }
        session.rollback()
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k,100k")
    parser.add_argument("--dialects", default="sqlite,postgresql")
    parser.add_argument("--name", default="supervision", help="results file name")
    args = parser.parse_args()
    results = []
    with postgres() as pg:
        for dialect in dialects(args.dialects, pg):
            for n in sizes(args.sizes):
                results.append(run(dialect, n, pg))
                print_row(results[-1])
    save(args.name, {"results": results})


def print_row(r: dict[str, Any]) -> None:
    for name in (
        "baseline_fast_counts",
        "table_last_year",
        "table_this_year",
        "report_tracker",
        "consolidated",
    ):
        m = r[name]
        print(
            f"{r['dialect']:10} {label(r['requests']):>4} {name:22} "
            f"{m['median_s'] * 1e3:8.1f} ms  x{m['over_baseline']:<5} "
            f"{m['us_per_request']:7.3f} us/request  {m['statements']:>2} statements "
            f"({r['agencies']} agencies, {r['requests_in_scope']} requests)"
        )


if __name__ == "__main__":
    main()
