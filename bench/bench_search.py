"""Full-text search on the request list: latency, reachability, precision and recall.

    .venv/bin/python bench/bench_search.py --sizes 10k,100k [--dialects sqlite,postgresql]

For the department officer (南昌市自然资源局) and the provincial viewer (every agency):
the list's first page for a rare word (an applicant's full name that occurs a handful
of times), a common word (征收, in about a fifth of the generated subjects) and a word
that occurs nowhere (麒麟岛), through ``workflow.requests.query.list_page`` — the very
call of the list page, count included — timed with 1 connection and with 4 connections
running the same mix at once (p50/p95 over every call). "Reachable": for the rare word
every page is walked to the end and the matches compared with a plain substring scan;
for the common word the last page is fetched through its cursor and timed (deep pages
cost what the first costs: keyset, no window). Precision and recall are measured on
``bench/search_labels.py``, hand-labelled subjects, for the word index and for the
substring search it replaces.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as ``python bench/NAME.py``: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from bench.common import dialects, ensure_dataset, label, percentile, postgres, save, sizes
from bench.plans import VIEWER, username
from bench.search_labels import LABELLED, QUERIES
from models import Request, User
from models.agency import subtree_ids
from models.db import make_engine, make_session_factory
from workflow.kernel.actor import local_today
from workflow.requests.query import ListFilter, list_page
from workflow.requests.search_text import document, parse_query
from workflow.store.calendar import load_calendar

READERS = {"department": username("nc-zrzy", "chengban"), "province": VIEWER}
COMMON = "征收"
ABSENT = "麒麟岛"
PAGE = 50
CAP = 1000


def _visible(session: Session, who: str) -> list[int]:
    user = session.scalar(select(User).where(User.username == who))
    assert user is not None, who
    return sorted(subtree_ids(session, user.agency_id))


def _rare_name(session: Session, visible: list[int]) -> str:
    """A full applicant name of the department that occurs 2–20 times (a rare word)."""
    rows = session.execute(
        select(Request.applicant_name, func.count())
        .where(Request.agency_id.in_(visible), Request.applicant_kind == "natural_person")
        .group_by(Request.applicant_name)
        .having(func.count().between(2, 20))
        .order_by(func.count(), Request.applicant_name)
        .limit(1)
    ).first()
    assert rows is not None
    return str(rows[0])


def _substring_matches(visible: list[int], q: str) -> Select[tuple[int]]:
    pattern = f"%{q}%"
    return select(Request.id).where(
        Request.agency_id.in_(visible),
        or_(Request.subject.like(pattern), Request.applicant_name.like(pattern)),
    )


def _substring_ids(session: Session, visible: list[int], q: str) -> set[int]:
    return set(session.scalars(_substring_matches(visible, q)))


def _walk(session: Session, visible: list[int], q: str, cal: Any, today: Any) -> list[int]:
    """Every id the list shows for ``q``, page after page."""
    flt = ListFilter.parse({"q": q})
    seen: list[int] = []
    while True:
        page = list_page(session, visible, flt, cal, today, size=PAGE, count_cap=CAP)
        seen += [r.id for r in page.rows]
        if page.next is None:
            return seen
        flt = page.next


def _last_page_filter(session: Session, visible: list[int], q: str) -> ListFilter:
    """The filter whose page is the last one of ``q``'s matches (its cursor)."""
    flt = ListFilter.parse({"q": q})
    # In SQL, not as a list of ids: a common word's 200,000 ids at 1M exceed
    # PostgreSQL's 65,535 parameters of one statement.
    rows = session.execute(
        select(Request.received_on, Request.id)
        .where(Request.id.in_(_substring_matches(visible, q)))
        .order_by(Request.received_on.asc(), Request.id.asc())
        .offset(PAGE)
        .limit(1)
    ).first()
    if rows is None:
        return flt
    return replace(flt, after=f"{rows[0].isoformat()}~{rows[1]}")


def _run_mix(
    factory: Any,
    visible: list[int],
    cases: dict[str, ListFilter],
    today: Any,
    repeat: int,
    runs: dict[str, list[float]],
    counts: dict[str, int],
) -> None:
    """One connection: every case once to warm up, then ``repeat`` rounds, each timed."""
    with factory() as s:
        c = load_calendar(s)
        for flt in cases.values():
            list_page(s, visible, flt, c, today, size=PAGE, count_cap=CAP)
        for _ in range(repeat):
            for name, flt in cases.items():
                started = time.perf_counter()
                page = list_page(s, visible, flt, c, today, size=PAGE, count_cap=CAP)
                runs[name].append(time.perf_counter() - started)
                counts[name] = page.total


def measure(url: str, repeat: int) -> dict[str, Any]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    today = local_today(datetime.now(UTC))
    out: dict[str, Any] = {}
    with factory() as session:
        cal = load_calendar(session)
        for reader, who in READERS.items():
            visible = _visible(session, who)
            rare = _rare_name(session, _visible(session, READERS["department"]))
            cases = {
                "no search (baseline)": ListFilter.parse({}),
                "rare": ListFilter.parse({"q": rare}),
                "common": ListFilter.parse({"q": COMMON}),
                "absent": ListFilter.parse({"q": ABSENT}),
                "common, last page": _last_page_filter(session, visible, COMMON),
            }
            walked = _walk(session, visible, rare, cal, today)
            truth = _substring_ids(session, visible, rare)
            common_total = len(_substring_ids(session, visible, COMMON))
            result: dict[str, Any] = {
                "rare_word": rare,
                "rare_matches_walked": len(walked),
                "rare_matches_substring": len(truth),
                "rare_every_match_reached": set(walked) == truth and len(walked) == len(truth),
                "common_matches_substring": common_total,
            }
            for connections in (1, 4):
                runs: dict[str, list[float]] = {name: [] for name in cases}
                counts: dict[str, int] = {}

                mix = (factory, visible, cases, today, repeat, runs, counts)
                threads = [threading.Thread(target=_run_mix, args=mix) for _ in range(connections)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                result[f"{connections} connection(s)"] = {
                    name: {
                        "p50_ms": round(percentile(v, 50) * 1000, 1),
                        "p95_ms": round(percentile(v, 95) * 1000, 1),
                        "calls": len(v),
                        "count_shown": counts.get(name),
                    }
                    for name, v in runs.items()
                }
            out[reader] = result
            print(reader, result, file=sys.stderr)
    engine.dispose()
    return out


def precision_recall() -> dict[str, Any]:
    """The word index and the substring search on the hand-labelled subjects."""
    docs = [set(document(subject, "").split()) for subject, _ in LABELLED]
    result: dict[str, Any] = {}
    totals = {"index": [0, 0, 0], "substring": [0, 0, 0]}  # true pos, false pos, false neg
    for q in QUERIES:
        query = parse_query(q)
        relevant = {i for i, (_, words) in enumerate(LABELLED) if q in words}
        by_index = {
            i
            for i, d in enumerate(docs)
            if all(g[0] in d if len(g) == 1 else "".join(g) in d for g in query.groups)
        }
        by_substring = {i for i, (subject, _) in enumerate(LABELLED) if q in subject}
        row = {}
        for name, got in (("index", by_index), ("substring", by_substring)):
            tp, fp, fn = len(got & relevant), len(got - relevant), len(relevant - got)
            totals[name][0] += tp
            totals[name][1] += fp
            totals[name][2] += fn
            row[name] = {"tp": tp, "fp": fp, "fn": fn}
        result[q] = row
    for name, (tp, fp, fn) in totals.items():
        result[f"overall {name}"] = {
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None,
            "tp": tp,
            "fp": fp,
            "fn": fn,
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k,100k")
    parser.add_argument("--dialects", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--name", default="search")
    args = parser.parse_args()
    payload: dict[str, Any] = {"labelled": precision_recall(), "sizes": {}}
    print(payload["labelled"], file=sys.stderr)
    with postgres() as pg:
        for dialect in dialects(args.dialects, pg):
            for n in sizes(args.sizes):
                url = ensure_dataset(dialect, n, pg)
                payload["sizes"].setdefault(label(n), {})[dialect] = measure(url, args.repeat)
                save(args.name, payload)
    save(args.name, payload)


if __name__ == "__main__":
    main()
