"""Time to derive a year's table 三: the reference fold versus the SQL fast path.

    .venv/bin/python bench/bench_stats.py --sizes 10k,100k[,1m] [--dialects sqlite,postgresql]

For each data set (bulk-generated, see ``bench/common.py``) and scope — the whole
province (the root agency with every subordinate) and one busy department — it times
``table3_for(..., fast=True)`` and ``fast=False`` for the last complete year, and the
whole ``derive`` (tables 三 and 四 with every check, the previous year included) that the
statistics page and ``python app.py stats`` run. It reports medians, the fold/fast
ratio and the cost per request in scope, then repeats the fast path with the candidate
indexes of ``bench/indexes.py`` created by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as ``python bench/NAME.py``: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench import indexes
from bench.common import dialects, ensure_dataset, label, pg_version, postgres, save, sizes, timed
from bench.plans import ROOT
from models import Agency, Event, RequestFacts
from models.db import make_engine, make_session_factory
from workflow.statistics.layouts import format_for_year
from workflow.statistics.queries import derive, fast_counts, fold_counts
from workflow.statistics.scope import Scope

DEPARTMENT = "nc-zrzy"
#: The fold reads every event of the scope; above this many requests it runs once.
FOLD_REPEAT_LIMIT = 200_000


def scope_size(session: Session, scope: Scope) -> tuple[int, int]:
    f = RequestFacts
    requests = session.scalar(select(func.count()).where(f.agency_id.in_(scope.agency_ids))) or 0
    events = (
        session.scalar(
            select(func.count())
            .select_from(Event)
            .join(f, f.request_id == Event.request_id)
            .where(f.agency_id.in_(scope.agency_ids))
        )
        or 0
    )
    return requests, events


def measure(session: Session, scope: Scope, year: int, n: int, fold: bool) -> dict[str, Any]:
    fmt = format_for_year(year)
    requests, events = scope_size(session, scope)
    fast = timed(lambda: fast_counts(session, scope, year), repeat=7)
    page = timed(lambda: derive(session, scope, year, fast=True), repeat=5)
    found: dict[str, Any] = {
        "requests_in_scope": requests,
        "events_in_scope": events,
        "fast": fast.as_dict(),
        "derive_fast": page.as_dict(),
        "fast_us_per_request": round(fast.median / max(requests, 1) * 1e6, 3),
    }
    if fold:
        repeat = 3 if n <= FOLD_REPEAT_LIMIT else 1
        slow = timed(lambda: fold_counts(session, scope, year, fmt), repeat=repeat, warmup=0)
        assert fold_counts(session, scope, year, fmt) == fast_counts(session, scope, year)
        found["fold"] = slow.as_dict()
        found["fold_us_per_request"] = round(slow.median / max(requests, 1) * 1e6, 2)
        found["fold_us_per_event"] = round(slow.median / max(events, 1) * 1e6, 2)
        found["fold_over_fast"] = round(slow.median / fast.median, 1)
    session.rollback()
    return found


def explain(session: Session, scope: Scope, year: int) -> list[str]:
    """The PostgreSQL plans of the fast path's two statements (for RESULTS.md)."""
    plans = []
    statements: list[Any] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, params))

    from sqlalchemy import event

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        fast_counts(session, scope, year)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    raw = session.connection().connection.driver_connection
    for statement, params in statements:
        with raw.cursor() as cur:  # type: ignore[union-attr]
            cur.execute("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF) " + statement, params)
            plans.append("\n".join(r[0] for r in cur.fetchall()))
    session.rollback()
    return plans


def run(dialect: str, n: int, pg: str | None, fold: bool) -> dict[str, Any]:
    url = ensure_dataset(dialect, n, pg)
    engine = make_engine(url)
    year = date.today().year - 1
    found: dict[str, Any] = {"dialect": dialect, "requests": n, "year": year}
    if dialect == "postgresql":
        found["server"] = pg_version(url)
    indexes.drop(engine)  # first without the indexes these benchmarks asked for
    with make_session_factory(engine)() as session:
        root = session.scalar(select(Agency).where(Agency.code == ROOT))
        dept = session.scalar(select(Agency).where(Agency.code == DEPARTMENT))
        assert root is not None and dept is not None
        scopes = {"province": Scope.of(root, True), "department": Scope.of(dept)}
        for name, scope in scopes.items():
            print(f"  {dialect} {label(n)} {name} …", file=sys.stderr)
            found[name] = measure(session, scope, year, n, fold)
        if dialect == "postgresql":
            found["plans_schema"] = explain(session, scopes["province"], year)
    # Back to the schema of migration 0007 (all its indexes), then measured again.
    found["candidate_index_seconds"] = indexes.create(engine)
    with make_session_factory(engine)() as session:
        for name, scope in scopes.items():
            found[f"{name}_with_candidates"] = measure(session, scope, year, n, fold=False)
        if dialect == "postgresql":
            found["plans_candidates"] = explain(session, scopes["province"], year)
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k,100k")
    parser.add_argument("--dialects", default="sqlite,postgresql")
    parser.add_argument("--no-fold", action="store_true", help="skip the (slow) fold")
    parser.add_argument("--name", default="stats", help="results file name")
    args = parser.parse_args()
    results = []
    with postgres() as pg:
        for dialect in dialects(args.dialects, pg):
            for n in sizes(args.sizes):
                results.append(run(dialect, n, pg, fold=not args.no_fold))
                print_row(results[-1])
    save(args.name, {"results": results})


def print_row(r: dict[str, Any]) -> None:
    for scope in ("province", "department"):
        m, c = r[scope], r[f"{scope}_with_candidates"]
        fold = m.get("fold", {}).get("median_s")
        print(
            f"{r['dialect']:10} {label(r['requests']):>4} {scope:10} "
            f"rows={m['requests_in_scope']:>8} fast={m['fast']['median_s'] * 1e3:8.1f} ms "
            f"(+idx {c['fast']['median_s'] * 1e3:7.1f}) "
            f"derive={m['derive_fast']['median_s']:.3f} s "
            f"fold={'-' if fold is None else f'{fold:.2f} s'} "
            f"ratio={m.get('fold_over_fast', '-')}"
        )


if __name__ == "__main__":
    main()
