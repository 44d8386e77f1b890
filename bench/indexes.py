"""The indexes these benchmarks asked for, to measure with and without them.

They were first created by hand in the benchmark databases; migration 0007 has since
added exactly these three, so a migrated database has them. The benchmarks drop them,
measure, create them again and measure again, leaving the database as migrated.
``python bench/indexes.py create|drop URL`` does either by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as ``python bench/NAME.py``: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import time
from dataclasses import dataclass

from sqlalchemy import Engine, text


@dataclass(frozen=True)
class Candidate:
    name: str
    table: str
    #: Column list (with ordering) as written in CREATE INDEX.
    columns: str
    why: str

    def create_sql(self) -> str:
        return f"CREATE INDEX IF NOT EXISTS {self.name} ON {self.table} ({self.columns})"

    def drop_sql(self) -> str:
        return f"DROP INDEX IF EXISTS {self.name}"


#: Measured in bench/bench_stats.py and bench/bench_queries.py; in migration 0007 since.
CANDIDATES: tuple[Candidate, ...] = (
    Candidate(
        "ix_request_facts_covering",
        "request_facts",
        "agency_id, received_on, concluded_on, applicant_kind, outcome, voided",
        "table 三 fast path on SQLite: every column it reads, so an index-only scan answers it",
    ),
    Candidate(
        "ix_events_trigger_effective",
        "events",
        "trigger, effective_date",
        "annual report fees: the requests with a fee notice or payment in the year "
        "(otherwise a scan of every event)",
    ),
    Candidate(
        "ix_requests_received_id",
        "requests",
        "received_on, id",
        "request list newest first across many agencies (PostgreSQL cannot merge the per-"
        "agency ranges of ix_requests_agency_received, so it sorted every visible row)",
    ),
)


def create(engine: Engine, names: set[str] | None = None) -> dict[str, float]:
    """Create the candidates (all, or ``names``); returns seconds per index."""
    spent: dict[str, float] = {}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for candidate in CANDIDATES:
            if names is not None and candidate.name not in names:
                continue
            started = time.perf_counter()
            conn.execute(text(candidate.create_sql()))
            spent[candidate.name] = round(time.perf_counter() - started, 2)
        conn.execute(text("ANALYZE"))
    return spent


def drop(engine: Engine, names: set[str] | None = None) -> None:
    """Drop the candidates (all, or ``names``); ``create`` puts them back."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for candidate in CANDIDATES:
            if names is None or candidate.name in names:
                conn.execute(text(candidate.drop_sql()))


def main() -> None:
    from models.db import make_engine

    if len(sys.argv) != 3 or sys.argv[1] not in ("create", "drop"):
        raise SystemExit("usage: bench/indexes.py create|drop DATABASE_URL")
    engine = make_engine(sys.argv[2])
    if sys.argv[1] == "create":
        print(create(engine))
    else:
        drop(engine)
    engine.dispose()


if __name__ == "__main__":
    main()
