"""The supervisor's report tracker for a province of hundreds of agencies.

    GONGKAI_BENCH_DIR=/tmp/gk-tracker .venv/bin/python bench/bench_tracker.py \
        [--cities 17] [--per-agency 300] [--dialects sqlite,postgresql]

Generates (once, bulk path, seed 8) a wide province — ``bench.plans.wide_province``:
17 cities of four districts, 312 agencies — with about ``--per-agency`` requests each,
then times, in the same run and on the same connection:

* the **baseline**: table 三's fast path for the province (``fast_counts``, the
  statistics page's own statement);
* the **report tracker** for the last complete year (``report_tracker``: status,
  deadlines and every agency's checks, rules 1–8 and the fold check);
* its parts: the per-agency fold of the event log (``fold_counts_by_agency``, the fold
  check's cost) and the tracker without it (``report_tracker(..., fold=False)``).

The ratios to the baseline survive a loaded machine better than milliseconds do.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as ``python bench/NAME.py``: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select

from bench.bench_supervision import statements
from bench.common import (
    SEED,
    analyze,
    bench_dir,
    dialects,
    pg_database,
    pg_version,
    postgres,
    save,
    timed,
)
from bench.generate import generate_bulk, prepare, seeds_for
from bench.plans import ROOT, wide_province
from models import Agency, Event, Request
from models.agency import subtree_ids
from models.db import make_engine, make_session_factory
from workflow.annual_report.tracker import report_tracker
from workflow.kernel.actor import local_today
from workflow.statistics.layouts import format_for_year
from workflow.statistics.queries import fast_counts, fold_counts_by_agency
from workflow.statistics.scope import Scope

REPEAT = 3


def ensure_wide(dialect: str, cities: int, per_agency: int, pg: str | None) -> str:
    """The wide province's data set (generated once, like ``common.ensure_dataset``)."""
    specs = wide_province(cities)
    n = len(specs) * per_agency
    name = f"gk-wide-{len(specs)}x{per_agency}"
    if dialect == "sqlite":
        url = f"sqlite:///{bench_dir() / f'{name}.db'}"
    else:
        assert pg is not None
        url = pg_database(pg, name.replace("-", "_"))
    engine = prepare(url)
    with engine.connect() as conn:
        have = conn.scalar(select(func.count()).select_from(Request.__table__)) or 0
    if have == 0:
        now = datetime.now(UTC)
        started = time.perf_counter()
        print(f"generating {n:,} requests for {len(specs)} agencies …", file=sys.stderr)
        seeds = seeds_for(n, SEED, local_today(now), specs=specs)
        generate_bulk(engine, seeds, now, specs=specs)
        analyze(engine)
        print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    elif have != n:
        raise SystemExit(f"{url} holds {have} requests, not {n}: delete it and run again")
    engine.dispose()
    return url


def run(dialect: str, cities: int, per_agency: int, pg: str | None) -> dict[str, Any]:
    url = ensure_wide(dialect, cities, per_agency, pg)
    engine = make_engine(url)
    today = date.today()
    year = today.year - 1
    found: dict[str, Any] = {"dialect": dialect, "year": year}
    if dialect == "postgresql":
        found["server"] = pg_version(url)
    with make_session_factory(engine)() as session:
        root = session.scalar(select(Agency).where(Agency.code == ROOT))
        assert root is not None
        ids = subtree_ids(session, root.id)
        scope = Scope.of(root, True)
        found.update(
            agencies=len(ids),
            requests=session.scalar(select(func.count()).select_from(Request)) or 0,
            events=session.scalar(select(func.count()).select_from(Event)) or 0,
        )
        formats = {y: format_for_year(y) for y in (year - 1, year)}
        cases: dict[str, Callable[[], Any]] = {
            "baseline_fast_counts": lambda: fast_counts(session, scope, year),
            "report_tracker": lambda: report_tracker(session, ids, year, today),
            "tracker_without_fold": lambda: report_tracker(session, ids, year, today, fold=False),
            "fold_by_agency": lambda: fold_counts_by_agency(session, scope, formats),
        }
        print(
            f"  {dialect}: {len(ids)} agencies, {found['requests']:,} requests …", file=sys.stderr
        )
        timings = {name: timed(fn, repeat=REPEAT) for name, fn in cases.items()}
        base = timings["baseline_fast_counts"].median
        lines = report_tracker(session, ids, year, today)
        found["checks_per_agency"] = round(sum(len(x.checks) for x in lines) / len(lines), 1)
        found["agencies_failing"] = sum(1 for x in lines if x.failed)
        for name, timing in timings.items():
            found[name] = {
                **timing.as_dict(),
                "over_baseline": round(timing.median / base, 2),
                "us_per_event": round(timing.median / max(found["events"], 1) * 1e6, 2),
                "ms_per_agency": round(timing.median / len(ids) * 1e3, 3),
                "statements": statements(session, cases[name]),
            }
        session.rollback()
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cities", type=int, default=17)
    parser.add_argument("--per-agency", type=int, default=300)
    parser.add_argument("--dialects", default="sqlite,postgresql")
    parser.add_argument("--name", default="tracker", help="results file name")
    args = parser.parse_args()
    results = []
    with postgres() as pg:
        for dialect in dialects(args.dialects, pg):
            results.append(run(dialect, args.cities, args.per_agency, pg))
            r = results[-1]
            for name in (
                "baseline_fast_counts",
                "report_tracker",
                "tracker_without_fold",
                "fold_by_agency",
            ):
                m = r[name]
                print(
                    f"{dialect:10} {name:22} {m['median_s'] * 1e3:9.1f} ms  "
                    f"x{m['over_baseline']:<7} {m['statements']:>3} statements "
                    f"({r['agencies']} agencies, {r['requests']} requests, {r['events']} events)"
                )
    save(args.name, {"results": results})


if __name__ == "__main__":
    main()
