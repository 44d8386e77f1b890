"""Documents: the annual report PDF, and issuing 1,000 notices.

    .venv/bin/python bench/bench_documents.py --size 1m [--notices 1000]

* Annual report: ``load_report`` (statistics, fees, draft, checks — what ``python app.py
  report`` derives) and ``render_report_pdf``, timed separately, for one department and
  for the whole province, on a generated data set.
* Notices: on a fresh database of generated requests, 1,000 notices (half 答复书, half
  接收回执) issued one per transaction through ``workflow.notices.operations.issue_notice`` —
  numbering, rendering the PDF, hashing and storing it — as the request page does.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as ``python bench/NAME.py``: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import time
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select

from bench.common import (
    SEED,
    bench_dir,
    dialects,
    drop_pg_database,
    ensure_dataset,
    label,
    percentile,
    pg_database,
    postgres,
    save,
    sizes,
    timed,
)
from bench.generate import generate_bulk, prepare, seeds_for
from bench.plans import ROOT, username
from documents.fonts import pdf_font
from documents.notices_pdf import render_notice
from documents.report_pdf import render_report_pdf
from models import Agency, Event, Notice, Request, User
from models.db import make_engine, make_session_factory
from workflow.annual_report.report import load_report
from workflow.kernel.actor import Actor, local_today
from workflow.notices.operations import issue_notice
from workflow.statistics.scope import Scope

DEPARTMENT = "nc-zrzy"


def annual_report(dialect: str, n: int, pg: str | None) -> dict[str, Any]:
    url = ensure_dataset(dialect, n, pg)
    engine = make_engine(url)
    year = date.today().year - 1
    found: dict[str, Any] = {"dialect": dialect, "requests": n, "year": year}
    font = pdf_font()
    with make_session_factory(engine)() as session:
        for name, code, subordinates in (
            ("department", DEPARTMENT, False),
            ("province", ROOT, True),
        ):
            agency = session.scalar(select(Agency).where(Agency.code == code))
            assert agency is not None
            scope = Scope.of(agency, subordinates)
            data = load_report(session, scope, year)
            pdf = render_report_pdf(data.report, font)
            derive = timed(lambda s=scope: load_report(session, s, year), repeat=3)
            render = timed(lambda d=data: render_report_pdf(d.report, font), repeat=3)
            found[name] = {
                "load_report": derive.as_dict(),
                "render_pdf": render.as_dict(),
                "pdf_bytes": len(pdf),
            }
            print(
                f"{dialect:10} {label(n):>4} annual report {name:10} "
                f"load={derive.median:.3f} s render={render.median:.3f} s ({len(pdf):,} bytes)",
                file=sys.stderr,
            )
    engine.dispose()
    return found


def notices(dialect: str, pg: str | None, count: int) -> dict[str, Any]:
    name = "gk-notices"
    if dialect == "sqlite":
        path = bench_dir() / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        assert pg is not None
        drop_pg_database(pg, name.replace("-", "_"))
        url = pg_database(pg, name.replace("-", "_"))
    engine = prepare(url)
    now = datetime.now(UTC)
    generate_bulk(engine, seeds_for(30_000, SEED, local_today(now)), now, workers=2)
    sessions = make_session_factory(engine)
    with sessions() as session:
        agency = session.scalar(select(Agency).where(Agency.code == DEPARTMENT))
        assert agency is not None
        user = session.scalar(select(User).where(User.username == username(DEPARTMENT, "chengban")))
        assert user is not None
        actor = Actor.of(user)
        decided = list(
            session.scalars(
                select(Request.id)
                .where(
                    Request.agency_id == agency.id,
                    Request.state == "concluded",
                    Request.id.in_(select(Event.request_id).where(Event.trigger == "decide")),
                )
                .order_by(Request.id)
                .limit(count // 2)
            )
        )
        everyone = list(
            session.scalars(
                select(Request.id)
                .where(
                    Request.agency_id == agency.id,
                    Request.state != "voided",
                    Request.id.not_in(decided),
                )
                .order_by(Request.id.desc())
                .limit(count - len(decided))
            )
        )
    work = [(rid, "reply") for rid in decided] + [(rid, "receipt") for rid in everyone]
    runs: list[float] = []
    sizes_: list[int] = []
    started = time.perf_counter()
    for rid, kind in work:
        begun = time.perf_counter()
        with sessions() as session:
            request = session.get(Request, rid)
            assert request is not None
            notice = issue_notice(session, actor, now, request, kind, render=render_notice)
            sizes_.append(len(notice.content))
            session.commit()
        runs.append(time.perf_counter() - begun)
    elapsed = time.perf_counter() - started
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(Notice)) or 0
    engine.dispose()
    found = {
        "dialect": dialect,
        "notices": len(work),
        "stored": stored,
        "seconds": round(elapsed, 2),
        "notices_per_second": round(len(work) / elapsed, 1),
        "p50_ms": round(percentile(runs, 50) * 1e3, 1),
        "p95_ms": round(percentile(runs, 95) * 1e3, 1),
        "mean_pdf_bytes": round(sum(sizes_) / max(len(sizes_), 1)),
    }
    print(
        f"{dialect:10} {len(work)} notices in {elapsed:.1f} s "
        f"({found['notices_per_second']}/s, p50 {found['p50_ms']} ms, p95 {found['p95_ms']} ms)",
        file=sys.stderr,
    )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="100k", help="data set for the annual report")
    parser.add_argument("--dialects", default="sqlite,postgresql")
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--name", default="documents")
    args = parser.parse_args()
    reports, issued = [], []
    with postgres() as pg:
        for dialect in dialects(args.dialects, pg):
            for n in sizes(args.size):
                reports.append(annual_report(dialect, n, pg))
            if args.notices:
                issued.append(notices(dialect, pg, args.notices))
    save(args.name, {"annual_report": reports, "notices": issued})


if __name__ == "__main__":
    main()
