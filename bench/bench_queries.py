"""The slow statements found by ``bench_pages.py``, next to their replacements.

    .venv/bin/python bench/bench_queries.py --size 1m [--dialects sqlite,postgresql]

Each pair is the statement the pages ran when first measured ("before") and a
replacement that returns the same answer (checked here; the first three are now what
``views/requests.py`` and ``views/access.py`` do, since commit 06b830b), timed on the same
data set (median of 7) for the department officer's and the provincial supervisor's
visible agencies. Candidate indexes are created by hand and dropped again.
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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench import indexes
from bench.common import dialects, ensure_dataset, label, postgres, save, sizes, timed
from bench.plans import VIEWER, username
from models import Request, TrackingCounter, User
from models.agency import subtree_ids
from models.db import make_engine, make_session_factory

READERS = {"department": username("nc-zrzy", "chengban"), "province": VIEWER}
PAGE_INDEX = "ix_requests_received_id"
COUNT_CAP = 1000


def pairs(session: Session, user: User) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    visible = sorted(subtree_ids(session, user.agency_id))
    mine = Request.agency_id.in_(visible)

    def years_now() -> list[int]:
        stmt = select(Request.year).where(mine).distinct().order_by(Request.year.desc())
        return list(session.scalars(stmt))

    def years_counters() -> list[int]:
        stmt = (
            select(TrackingCounter.year)
            .where(TrackingCounter.agency_id.in_(visible))
            .distinct()
            .order_by(TrackingCounter.year.desc())
        )
        return list(session.scalars(stmt))

    def count_now() -> int:
        stmt = select(Request).where(mine)
        return min(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0, 1000)

    def count_capped() -> int:
        stmt = select(Request.id).where(mine).limit(COUNT_CAP)
        return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0

    def page() -> list[int]:
        stmt = (
            select(Request.id)
            .where(mine)
            .order_by(Request.received_on.desc(), Request.id.desc())
            .limit(51)
        )
        return list(session.scalars(stmt))

    year = date.today().year - 1

    def year_page(condition: Any) -> Callable[[], list[int]]:
        def run() -> list[int]:
            stmt = (
                select(Request.id)
                .where(mine, condition)
                .order_by(Request.received_on.desc(), Request.id.desc())
                .limit(51)
            )
            return list(session.scalars(stmt))

        return run

    return {
        "distinct years for the year filter": (years_now, years_counters),
        "count for “共 N 件” (capped at 1,000 shown as 1000+)": (count_now, count_capped),
        "first page, newest first": (page, page),
        # ``year`` is the receipt year by construction (tracking numbers are per year of
        # the legal receipt date), so the filter can be a range the index walks directly.
        "year filter, first page (year = Y → received_on in Y)": (
            year_page(Request.year == year),
            year_page(Request.received_on.between(date(year, 1, 1), date(year, 12, 31))),
        ),
    }


def run(dialect: str, n: int, pg: str | None) -> dict[str, Any]:
    url = ensure_dataset(dialect, n, pg)
    engine = make_engine(url)
    found: dict[str, Any] = {"dialect": dialect, "requests": n, "readers": {}}
    for reader, name in READERS.items():
        rows: dict[str, Any] = {}
        with make_session_factory(engine)() as session:
            user = session.scalar(select(User).where(User.username == name))
            assert user is not None
            for what, (now, proposed) in pairs(session, user).items():
                if what.startswith("first page"):
                    continue
                assert now() == proposed(), what
                rows[what] = {
                    "before_ms": round(timed(now, repeat=7).median * 1e3, 2),
                    "after_ms": round(timed(proposed, repeat=7).median * 1e3, 2),
                }
        indexes.drop(engine, {PAGE_INDEX})
        with make_session_factory(engine)() as session:
            user = session.scalar(select(User).where(User.username == name))
            assert user is not None
            page, _ = pairs(session, user)["first page, newest first"]
            before = timed(page, repeat=7).median
            expected = page()
        indexes.create(engine, {PAGE_INDEX})
        with make_session_factory(engine)() as session:
            user = session.scalar(select(User).where(User.username == name))
            assert user is not None
            page, _ = pairs(session, user)["first page, newest first"]
            assert page() == expected
            after = timed(page, repeat=7).median
        rows[f"first page, newest first (+ index {PAGE_INDEX})"] = {
            "before_ms": round(before * 1e3, 2),
            "after_ms": round(after * 1e3, 2),
        }
        found["readers"][reader] = rows
        for what, r in rows.items():
            print(
                f"{dialect:10} {label(n):>4} {reader:10} {what:60} "
                f"{r['before_ms']:8.1f} ms → {r['after_ms']:8.1f} ms"
            )
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="100k")
    parser.add_argument("--dialects", default="sqlite,postgresql")
    parser.add_argument("--name", default="queries")
    args = parser.parse_args()
    results = []
    with postgres() as pg:
        for dialect in dialects(args.dialects, pg):
            for n in sizes(args.size):
                results.append(run(dialect, n, pg))
    save(args.name, {"results": results})


if __name__ == "__main__":
    main()
