"""Latency of the pages staff use all day, on a large database, under gunicorn.

    .venv/bin/python bench/bench_pages.py --size 1m [--dialects sqlite,postgresql]

For each page and two readers — a busy department's case officer and the provincial
supervisor who sees every request — it measures with wrk against gunicorn (2 sync
workers): one connection (the latency one clerk sees) and four (a busy office), each
reporting p50/p95/p99 and errors. Pages too slow for a meaningful wrk run (median over
1 s) are timed with a few sequential requests instead and flagged. Every page is also
profiled once in-process: SQL statements, time in the database versus in Python, and
the slowest statements, which is how the fixes in RESULTS.md were found.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as ``python bench/NAME.py``: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from bench.common import (
    ROOT,
    dialects,
    ensure_dataset,
    label,
    pg_version,
    postgres,
    save,
    sizes,
)
from bench.plans import BENCH_PASSWORD, VIEWER, username
from bench.server import get, gunicorn, login, wrk
from models import Agency, Request, User
from models.agency import subtree_ids
from models.db import make_engine, make_session_factory
from workflow.requests.query import ListFilter, cursor_of

DEPARTMENT = "nc-zrzy"
READERS = {"department": username(DEPARTMENT, "chengban"), "province": VIEWER}
SLOW_SECONDS = 1.0


@dataclass(frozen=True)
class Page:
    name: str
    paths: tuple[str, ...]


def pages_for(session: Session, reader: str) -> list[Page]:
    """The measured pages, with real ids and keyset cursors from the data set."""
    user = session.scalar(select(User).where(User.username == reader))
    assert user is not None
    visible = sorted(subtree_ids(session, user.agency_id))
    base = select(Request).where(Request.agency_id.in_(visible))
    order = (Request.received_on.desc(), Request.id.desc())
    count = session.scalar(select(func.count()).where(Request.agency_id.in_(visible))) or 0
    deep = session.scalar(base.order_by(*order).offset(count // 2).limit(1))
    last = session.scalar(base.order_by(*order).offset(max(count - 60, 0)).limit(1))
    assert deep is not None and last is not None
    flt = ListFilter()
    sample = session.scalars(
        select(Request.id)
        .where(Request.agency_id.in_(visible))
        .order_by(Request.id)
        .offset(count // 3)
        .limit(200)
    ).all()
    step = max(1, len(sample) // 50)
    year = max(session.scalars(select(Request.year).where(Request.agency_id.in_(visible))))
    return [
        Page("dashboard", ("/dashboard",)),
        Page("list, first page", ("/requests",)),
        Page("list, middle page (keyset)", (f"/requests?after={cursor_of(deep, flt)}",)),
        Page("list, last page (keyset)", (f"/requests?after={cursor_of(last, flt)}",)),
        Page("list, state = in review", ("/requests?state=in_review",)),
        Page(f"list, year = {year - 1}", (f"/requests?year={year - 1}",)),
        Page("list, search 征收", ("/requests?q=%E5%BE%81%E6%94%B6",)),
        # A word no request contains: the worst case of a search (every row examined).
        Page("list, search rare word", ("/requests?q=%E9%BA%92%E9%BA%9F%E5%B2%9B",)),
        Page("list, overdue only", ("/requests?overdue=1",)),
        Page("request page (50 ids)", tuple(f"/requests/{i}" for i in sample[::step][:50])),
    ]


# --------------------------------------------------------------------------- profiling


def profile(url: str, reader: str, pages: list[Page]) -> dict[str, Any]:
    """Each page once in-process (after a warm-up): statements, SQL time, Python time."""
    from app import create_app

    app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "x"})
    engine: Engine = app.extensions["db_engine"]
    stats: dict[str, list[float]] = defaultdict(list)

    def before(conn: Any, *_: Any) -> None:
        conn.info["started"] = time.perf_counter()

    def after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        stats[" ".join(statement.split())[:160]].append(time.perf_counter() - conn.info["started"])

    client = app.test_client()
    client.post("/login", data={"username": reader, "password": BENCH_PASSWORD})
    found: dict[str, Any] = {}
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        for page in pages:
            path = page.paths[0]
            client.get(path)
            stats.clear()
            started = time.perf_counter()
            response = client.get(path)
            total = time.perf_counter() - started
            sql = sum(sum(v) for v in stats.values())
            top = sorted(stats.items(), key=lambda kv: -sum(kv[1]))[:4]
            found[page.name] = {
                "status": response.status_code,
                "total_ms": round(total * 1e3, 1),
                "sql_ms": round(sql * 1e3, 1),
                "python_ms": round((total - sql) * 1e3, 1),
                "statements": sum(len(v) for v in stats.values()),
                "top": [
                    {"ms": round(sum(v) * 1e3, 1), "n": len(v), "sql": text} for text, v in top
                ],
            }
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        engine.dispose()
    return found


# --------------------------------------------------------------------------- load


def measure(base: str, cookie: str, page: Page, seconds: int) -> dict[str, Any]:
    probes = []
    for path in page.paths[:3]:
        started = time.perf_counter()
        status, body = get(base, path, cookie)
        probes.append(time.perf_counter() - started)
        if status != 200:
            return {"status": status, "error": body[:200].decode(errors="replace")}
    found: dict[str, Any] = {"status": 200, "bytes": len(body)}
    if statistics.median(probes) > SLOW_SECONDS:
        runs = []
        for i in range(5):
            started = time.perf_counter()
            get(base, page.paths[i % len(page.paths)], cookie)
            runs.append(time.perf_counter() - started)
        found["slow_sequential_ms"] = sorted(round(r * 1e3) for r in runs)
        return found
    found["c1"] = wrk(base, page.paths, cookie, seconds=seconds, connections=1, threads=1)
    found["c4"] = wrk(base, page.paths, cookie, seconds=seconds, connections=4, threads=2)
    return found


def run(
    dialect: str, n: int, pg: str | None, seconds: int, only: str = "", root: Path | None = None
) -> dict[str, Any]:
    url = ensure_dataset(dialect, n, pg)
    found: dict[str, Any] = {"dialect": dialect, "requests": n, "readers": {}}
    if root is not None:
        found["app_root"] = str(root)
    if dialect == "postgresql":
        found["server"] = pg_version(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        plan = {reader: pages_for(session, user) for reader, user in READERS.items()}
        dept = session.scalar(select(Agency).where(Agency.code == DEPARTMENT))
        assert dept is not None
    engine.dispose()
    with gunicorn(url, root=root or ROOT) as served:
        base = served.base
        for reader, user in READERS.items():
            cookie = login(base, user, BENCH_PASSWORD)
            results = {}
            for page in plan[reader]:
                if not _chosen(page.name, only):
                    continue
                print(f"  {dialect} {label(n)} {reader}: {page.name} …", file=sys.stderr)
                results[page.name] = measure(base, cookie, page, seconds)
                print_row(dialect, n, reader, page.name, results[page.name])
            found["readers"][reader] = {"user": user, "pages": results}
    if root is None:  # the in-process profile runs this checkout's code
        for reader, user in READERS.items():
            pages = [p for p in plan[reader] if _chosen(p.name, only)]
            found["readers"][reader]["profile"] = profile(url, user, pages)
    return found


def _chosen(name: str, only: str) -> bool:
    """``--only``: parts of page names separated by ``|`` (page names contain commas)."""
    return not only or any(part in name for part in only.split("|"))


def print_row(dialect: str, n: int, reader: str, name: str, r: dict[str, Any]) -> None:
    head = f"{dialect:10} {label(n):>4} {reader:10} {name:30}"
    if "c1" in r:
        c1, c4 = r["c1"], r["c4"]
        print(
            f"{head} c1 p50={c1['p50_ms']:7.1f} p95={c1['p95_ms']:7.1f} | "
            f"c4 p50={c4['p50_ms']:7.1f} p95={c4['p95_ms']:7.1f} "
            f"errors={c1['status_errors'] + c4['status_errors']}"
        )
    elif "slow_sequential_ms" in r:
        print(f"{head} SLOW sequential ms {r['slow_sequential_ms']}")
    else:
        print(f"{head} ERROR {r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="100k")
    parser.add_argument("--dialects", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=int, default=8, help="per wrk run")
    parser.add_argument("--name", default="pages")
    parser.add_argument("--only", default="", help="only pages named with one of these (a|b)")
    parser.add_argument(
        "--app-root", type=Path, help="serve another checkout (a before/after comparison)"
    )
    args = parser.parse_args()
    results = []
    with postgres() as pg:
        for dialect in dialects(args.dialects, pg):
            for n in sizes(args.size):
                results.append(run(dialect, n, pg, args.seconds, args.only, args.app_root))
    save(args.name, {"results": results})


if __name__ == "__main__":
    main()
