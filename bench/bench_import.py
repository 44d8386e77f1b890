"""Rows per second importing an agency ledger (台账) through ``import-ledger``.

    .venv/bin/python bench/bench_import.py --rows 100k [--dialects sqlite,postgresql]

A CSV ledger is written from the generator's plans (the same province, receipt dates,
supplements, extensions, outcomes and voids; challenges and pauses are not ledger
columns), then imported into a fresh database exactly as ``python app.py import-ledger``
does — read, validate every row, replay each through ``workflow.requests.operations`` inside one
all-or-nothing transaction, commit. Each phase is timed; the replay's rate is sampled
every tenth of the file to show whether it holds up as the transaction grows.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as ``python bench/NAME.py``: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import csv
import time
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
from bench.generate import ensure_province, prepare, seeds_for
from bench.plans import Plan, plan_for
from models.db import make_session_factory
from workflow.kernel.actor import local_today
from workflow.kernel.calendar import WorkingCalendar
from workflow.ledger.importer import default_actor, import_ledger
from workflow.ledger.reader import COLUMN_NAMES, read_ledger, validate_rows

CONCLUDING = {
    "supplement_lapsed": "other.supplement_lapsed",
    "fee_lapsed": "other.fee_lapsed",
    "withdraw": "other.other",
}


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
    }


def write_ledger(path: Path, rows: int, today: date) -> None:
    calendar = WorkingCalendar()
    with path.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.DictWriter(out, fieldnames=list(COLUMN_NAMES))
        writer.writeheader()
        for number, seed in enumerate(seeds_for(rows, SEED + 1, today), start=1):
            writer.writerow(ledger_row(plan_for(seed, calendar, today), number))


def run(dialect: str, rows: int, pg: str | None, ledger: Path) -> dict[str, Any]:
    name = f"gk-import-{rows}"
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
    found: dict[str, Any] = {"dialect": dialect, "rows": rows}
    if dialect == "postgresql":
        found["server"] = pg_version(url)
    with make_session_factory(engine)() as session:
        ensure_province(session)
        session.commit()
        started = time.perf_counter()
        raw = read_ledger(ledger)
        read = time.perf_counter()
        valid, problems = validate_rows(raw, local_today(now))
        validated = time.perf_counter()
        assert not problems, problems[:5]
        samples: list[tuple[int, float]] = []
        step = max(1, len(valid) // 10)

        def progress(done: int, _total: int) -> None:
            if done % step == 0:
                samples.append((done, time.perf_counter()))

        report = import_ledger(
            session, valid, default_actor, now, total_rows=len(raw), progress=progress
        )
        replayed = time.perf_counter()
        assert report.ok, report.errors[:5]
        session.commit()
        committed = time.perf_counter()
    engine.dispose()
    total = committed - started
    rates, previous = [], (0, validated)
    for done, at in samples:
        rates.append(round((done - previous[0]) / (at - previous[1]), 1))
        previous = (done, at)
    found.update(
        {
            "read_s": round(read - started, 2),
            "validate_s": round(validated - read, 2),
            "replay_s": round(replayed - validated, 2),
            "commit_s": round(committed - replayed, 2),
            "total_s": round(total, 2),
            "rows_per_second": round(rows / total, 1),
            "replay_ms_per_row": round((replayed - validated) / rows * 1e3, 2),
            "replay_rows_per_second_by_tenth": rates,
            "states": dict(report.by_state),
        }
    )
    print(
        f"{dialect:10} {label(rows):>4} rows: {found['rows_per_second']} rows/s overall, "
        f"replay {found['replay_ms_per_row']} ms/row, by tenth {rates}",
        file=sys.stderr,
    )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="100k")
    parser.add_argument("--dialects", default="sqlite,postgresql")
    parser.add_argument("--name", default="import")
    args = parser.parse_args()
    results = []
    with postgres() as pg:
        for rows in sizes(args.rows):
            ledger = bench_dir() / f"ledger-{rows}.csv"
            if not ledger.exists():
                write_ledger(ledger, rows, local_today(datetime.now(UTC)))
            for dialect in dialects(args.dialects, pg):
                results.append(run(dialect, rows, pg, ledger))
    save(args.name, {"results": results})


if __name__ == "__main__":
    main()
