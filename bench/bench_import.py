"""Rows per second importing an agency ledger (台账) through ``import-ledger``.

    .venv/bin/python bench/bench_import.py --rows 100k [--dialects sqlite,postgresql]

A CSV ledger is written from the generator's plans (the same province, receipt dates,
supplements, extensions, outcomes and voids; challenges and pauses are not ledger
columns), then imported into a fresh database exactly as ``python app.py import-ledger``
does (``workflow.ledger.importer.import_ledger_file``) — the file streamed in chunks
through validation, replay in memory and the staging area, each chunk committed, then
one publish. The publish is timed on its own; the rate is sampled every tenth of the
file to show whether it holds up. In the
same run, the generator's bulk path writes as many requests into another fresh
database, the reference the import is measured against; each runs in its own process so
its peak RSS is its own. CPU time per row (the process and its replay processes) is
reported beside the wall-clock rate: the machine is shared, and CPU time is what load
changes least.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as ``python bench/NAME.py``: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import csv
import multiprocessing
import os
import resource
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from bench.common import (
    SEED,
    bench_dir,
    dialects,
    drop_pg_database,
    label,
    pg_database,
    pg_version,
    postgres,
    save,
    sizes,
)
from bench.generate import ensure_province, generate_bulk, prepare, seeds_for
from bench.plans import Plan, plan_for
from models.db import make_session_factory
from workflow.catalog.fees import PER_PAGE, compute_fee
from workflow.kernel.actor import local_today
from workflow.kernel.calendar import WorkingCalendar
from workflow.ledger.importer import ImportSource, import_ledger_file
from workflow.ledger.reader import COLUMN_NAMES

CONCLUDING = {
    "supplement_lapsed": "other.supplement_lapsed",
    "fee_lapsed": "other.fee_lapsed",
    "withdraw": "withdrawn",
}


#: Pauses a ledger row cannot record.
CONSULTATIONS = frozenset({"consult_third_party", "consult_agency"})


def ledger_row(plan: Plan, number: int) -> dict[str, str]:
    """A plan as the ledger an agency keeps in Excel would record it."""
    on = {a.trigger: a.on.isoformat() for a in reversed(plan.acts) if a.target == "request"}
    concluded, outcome = "", ""
    for act in plan.acts:
        if act.trigger == "decide":
            concluded, outcome = act.on.isoformat(), act.payload["outcome"]
            break
        if act.trigger in CONCLUDING:
            concluded, outcome = act.on.isoformat(), CONCLUDING[act.trigger]
            break
    fee = next((a.payload for a in plan.acts if a.trigger == "issue_fee_notice"), {})
    if fee and "fee_paid" not in on and outcome not in ("other.fee_lapsed", "withdrawn", ""):
        # A decision after an unpaid notice (the plan's fee was waived): a ledger holding
        # the notice must show its payment (docs/domain.md §11), so this one omits it.
        fee = {}
        on.pop("issue_fee_notice", None)
        on.pop("extend", None)  # without the notice's pause it could fall after the deadline
    if on.keys() & CONSULTATIONS:
        # The ledger has no consultation columns: without the pause, the plan's extension
        # would fall after the reply deadline, which Art. 33 para 2 refuses.
        on.pop("extend", None)
    return {
        "agency": plan.agency,
        "ref": f"TZ-{number:07d}",
        "applicant_name": plan.intake["applicant_name"],
        "applicant_kind": plan.intake["applicant_kind"],
        "channel": plan.intake["channel"],
        "received_on": plan.intake["received_on"],
        "subject": plan.intake["subject"],
        "supplement_requested_on": on.get("request_supplement", ""),
        "supplement_received_on": on.get("receive_supplement", ""),
        "extended_on": on.get("extend", ""),
        "concluded_on": concluded,
        "outcome": outcome,
        "voided": "yes" if "void" in on else "",
        "fee_notice_on": on.get("issue_fee_notice", ""),
        "fee_amount": str(fee.get("amount", "")) or _per_page_amount(fee),
        "fee_method": fee.get("method", ""),
        "fee_paid_on": on.get("fee_paid", ""),
    }


def _per_page_amount(fee: dict[str, Any]) -> str:
    """The amount a ledger records for a planned per-page fee (plans give the pages)."""
    pages = fee.get("pages")
    return str(compute_fee(PER_PAGE, int(pages)).amount) if pages else ""


def write_ledger(path: Path, rows: int, today: date) -> None:
    calendar = WorkingCalendar()
    with path.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.DictWriter(out, fieldnames=list(COLUMN_NAMES))
        writer.writeheader()
        for number, seed in enumerate(seeds_for(rows, SEED + 1, today), start=1):
            writer.writerow(ledger_row(plan_for(seed, calendar, today), number))


def _fresh_url(dialect: str, name: str, pg: str | None) -> str:
    if dialect == "sqlite":
        path = bench_dir() / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    assert pg is not None
    drop_pg_database(pg, name.replace("-", "_"))
    return pg_database(pg, name.replace("-", "_"))


def _in_child(job: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``job`` in a forked process; its result plus that process's peak RSS (MiB) and
    the largest of its own replay processes' (``--workers``)."""
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[dict[str, Any]] = context.Queue()

    def target() -> None:
        try:
            found = job()
        except BaseException as exc:  # reported by the parent, which would wait forever
            queue.put({"error": repr(exc)})
            raise
        found["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        found["replay_process_peak_rss_mib"] = round(children / 1024)
        queue.put(found)

    process = context.Process(target=target)
    process.start()
    found = queue.get()
    process.join()
    if "error" in found:
        raise RuntimeError(found["error"])
    return found


def import_once(url: str, ledger: Path, rows: int, workers: int) -> dict[str, Any]:
    """``import-ledger`` as the command runs it: the file streamed in chunks through
    validation, replay and the staging area (each chunk committed), then one publish."""
    engine = prepare(url)
    now = datetime.now(UTC)
    with make_session_factory(engine)() as session:
        ensure_province(session)  # the agencies; the import itself needs no account
        session.commit()
    started = time.perf_counter()
    cpu = time.process_time()
    source = ImportSource.of_file("import-ledger", ledger.name, ledger)  # streamed, as the command
    samples: list[tuple[int, float]] = []
    step = max(1, rows // 10)
    last = [started]

    def progress(done: int, _total: int) -> None:
        last[0] = time.perf_counter()
        if done % step == 0:
            samples.append((done, last[0]))

    report = import_ledger_file(engine, ledger, source, now, progress=progress, workers=workers)
    finished = time.perf_counter()
    assert report.ok, report.errors[:5]
    engine.dispose()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = finished - started
    rates, previous = [], (0, started)
    for done, at in samples:
        rates.append(round((done - previous[0]) / (at - previous[1]), 1))
        previous = (done, at)
    cpu_s = time.process_time() - cpu + children.ru_utime + children.ru_stime
    return {
        "read_replay_stage_s": round(last[0] - started, 2),
        "publish_s": round(finished - last[0], 2),
        "total_s": round(total, 2),
        "rows_per_second": round(rows / total, 1),
        "us_per_row": round(total / rows * 1e6),
        "cpu_us_per_row": round(cpu_s / rows * 1e6),
        "rows_per_second_by_tenth": rates,
        "states": dict(report.by_state),
    }


def generator_once(url: str, rows: int, workers: int) -> dict[str, Any]:
    """The benchmark generator's bulk path on the same machine, as many processes."""
    engine = prepare(url)
    now = datetime.now(UTC)
    seeds = seeds_for(rows, SEED + 1, local_today(now))
    started = time.perf_counter()
    cpu = time.process_time()
    generate_bulk(engine, seeds, now, workers=workers)
    total = time.perf_counter() - started
    engine.dispose()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = time.process_time() - cpu + children.ru_utime + children.ru_stime
    return {
        "total_s": round(total, 2),
        "rows_per_second": round(rows / total, 1),
        "us_per_row": round(total / rows * 1e6),
        "cpu_us_per_row": round(cpu_s / rows * 1e6),
    }


def run(dialect: str, rows: int, pg: str | None, ledger: Path, workers: int) -> dict[str, Any]:
    found: dict[str, Any] = {
        "dialect": dialect,
        "rows": rows,
        "workers": workers,
        "load_before": os.getloadavg(),
    }
    url = _fresh_url(dialect, f"gk-import-{rows}", pg)
    if dialect == "postgresql":
        found["server"] = pg_version(url)
    found["import"] = _in_child(lambda: import_once(url, ledger, rows, workers))
    gen_url = _fresh_url(dialect, f"gk-generate-{rows}", pg)
    found["generator_bulk"] = _in_child(lambda: generator_once(gen_url, rows, workers))
    found["load_after"] = os.getloadavg()
    imp, gen = found["import"], found["generator_bulk"]
    print(
        f"{dialect:10} {label(rows):>4} rows: import {imp['rows_per_second']} rows/s "
        f"({imp['us_per_row']} µs/row, CPU {imp['cpu_us_per_row']} µs/row, publish "
        f"{imp['publish_s']} s, peak RSS {imp['peak_rss_mib']} MiB), generator bulk "
        f"{gen['rows_per_second']} requests/s ({gen['us_per_row']} µs/request, CPU "
        f"{gen['cpu_us_per_row']} µs, {gen['peak_rss_mib']} MiB); "
        f"load {found['load_before'][0]:.1f}",
        file=sys.stderr,
    )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="100k")
    parser.add_argument("--dialects", default="sqlite,postgresql")
    parser.add_argument("--name", default="import")
    parser.add_argument("--workers", type=int, default=2, help="replay processes (both paths)")
    args = parser.parse_args()
    results = []
    with postgres() as pg:
        for rows in sizes(args.rows):
            ledger = bench_dir() / f"ledger-{rows}.csv"
            if not ledger.exists():
                write_ledger(ledger, rows, local_today(datetime.now(UTC)))
            for dialect in dialects(args.dialects, pg):
                results.append(run(dialect, rows, pg, ledger, args.workers))
                save(args.name, {"results": results})  # after each: a long run keeps its part


if __name__ == "__main__":
    main()
