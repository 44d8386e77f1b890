"""The ledger import's bulk path writes exactly what the operations would.

``workflow.ledger.importer`` replays each ledger row in memory
(``workflow.ledger.memory_replay``) and writes the rows with ``executemany`` /
``COPY`` (``workflow.store.bulk_writer``). This test
replays the same planned events through ``workflow.requests.operations`` — ``register`` then one
``fire`` per step, as the import did before — into another empty database, and compares
every row of requests, events, projection and tracking counters, and the statistics.
The ledger is made from the benchmark's plans (supplements, extensions before and after
fee notices, paid and lapsed fees, withdrawals, voids) plus the rows no plan has.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from bench.bench_import import ledger_row
from bench.generate import ensure_province, seeds_for
from bench.plans import plan_for
from models import Agency, User
from models.db import make_engine, make_session_factory
from tests.conftest import NOW
from tests.integration import test_bench_generator as generator
from tests.templates import Templates
from workflow.admin.log_check import verify_log
from workflow.kernel import chain
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.calendar import WorkingCalendar
from workflow.kernel.payload import ParsedAction
from workflow.ledger.importer import REPLAY_ROLES, ImportSource, import_ledger, import_ledger_file
from workflow.ledger.reader import COLUMN_NAMES, RawRow, plan_events, validate_rows
from workflow.ledger.staging import staging_tables
from workflow.requests import operations as ops
from workflow.store.calendar import load_calendar

ROWS = 560  # more than one replay chunk (500), so two processes share the work
APPROVER = "ledger-approver"
#: The generator test's second empty database (a copy of the template, or truncated PG).
fresh_engine = generator.fresh_engine
_snapshot, _statistics = generator._snapshot, generator._statistics


def _ledger() -> list[RawRow]:
    today = local_today(NOW)
    calendar = WorkingCalendar()
    plans = [plan_for(s, calendar, today) for s in seeds_for(ROWS, seed=5, today=today)]
    cells = [ledger_row(plan, n) for n, plan in enumerate(plans, start=1)]
    # The 2019 format's (六) row: a neutral decision, which no plan has.
    base = cells[0]
    cells.append({**base, "ref": "X-other", "concluded_on": base["received_on"], "outcome": "其他"})
    # A fee lapse whose notice the ledger does not hold (nothing invented), and one it does.
    lapse = {**base, "received_on": "2025-03-03", "concluded_on": "2025-05-06"}
    lapse.update(outcome="other.fee_lapsed", supplement_requested_on="", extended_on="")
    lapse.update(supplement_received_on="", voided="", fee_paid_on="")
    cells.append(
        {**lapse, "ref": "X-lapse", "fee_notice_on": "", "fee_amount": "", "fee_method": ""}
    )
    cells.append(
        {
            **lapse,
            "ref": "X-fee",
            "fee_notice_on": "2025-03-05",
            "fee_amount": "200",
            "fee_method": "per_page",
        }
    )
    return [RawRow(line, c) for line, c in enumerate(cells, start=2)]


def _prepare(engine: Engine) -> None:
    with make_session_factory(engine)() as session:
        ensure_province(session)
        for agency in session.scalars(select(Agency)):
            user = User(username=f"{APPROVER}-{agency.id}", display_name="审核人", agency=agency)
            user.set_password("x" * 12)
            user.set_roles({"approver"})
            session.add(user)
        session.commit()


def _replay_by_operations(engine: Engine, raw: list[RawRow], source: ImportSource) -> None:
    rows, problems = validate_rows(raw, local_today(NOW))
    assert not problems, problems[:3]
    with make_session_factory(engine)() as session:
        agencies = {a.code: a for a in session.scalars(select(Agency))}
        calendar = load_calendar(session)
        for row in rows:
            agency = agencies[row.agency]
            actor = Actor(None, source.recorder, agency.id, REPLAY_ROLES)
            first, *rest = plan_events(row, calendar=calendar)
            request = ops.register(
                session, actor, NOW, first.payload, agency=agency, external_ref=row.ref
            )
            for step in rest:
                payload = dict(step.payload)
                if step.trigger == "extend":
                    payload["approver"] = f"{APPROVER}-{agency.id}"
                raw_step: Any = (
                    ParsedAction(step.effective_date, payload)
                    if step.as_recorded
                    else {"effective_date": step.effective_date.isoformat(), **payload}
                )
                ops.fire(session, request, step.trigger, actor, NOW, raw_step)
        session.commit()


def _without_provenance(snapshot: dict[str, list[dict[str, Any]]]) -> None:
    """Drop the import's provenance from the payloads, and link the chains again without it
    (the bulk path's own links are checked by ``verify_log`` before)."""
    heads: dict[int, str | None] = {}
    for event in snapshot["events"]:
        event["payload"] = {k: v for k, v in event["payload"].items() if k != "imported"}
        fields = {name: event[name] for name in chain.EVENT_FIELDS}
        previous = heads.get(event["request_id"])
        event["hash"] = chain.event_link(chain.SHA256, "request", previous, **fields)
        heads[event["request_id"]] = event["hash"]
    for request in snapshot["requests"]:
        request["log_hash"] = heads.get(request["id"])


def _staged_import(engine: Engine, raw: list[RawRow], source: ImportSource) -> None:
    """The whole file through ``import_ledger_file``: streamed in chunks of 150 rows, two
    replay processes, each chunk committed into the staging area, published at the end."""
    _prepare(engine)
    with make_session_factory(engine)() as session:
        agencies = {a.code: a.id for a in session.scalars(select(Agency))}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*COLUMN_NAMES])
    writer.writeheader()
    for line in raw:
        cells = dict(line.cells)
        if cells.get("extended_on"):
            cells["extension_approver"] = f"{APPROVER}-{agencies[cells['agency']]}"
        writer.writerow(cells)
    report = import_ledger_file(
        engine, out.getvalue().encode(), source, NOW, workers=2, chunk_rows=150
    )
    assert report.stored, report.errors[:3]
    assert report.imported == len(raw)


def test_bulk_import_writes_what_the_operations_write(
    engine: Engine, fresh_engine: Callable[[], Engine], templates: Templates, tmp_path: Path
) -> None:
    raw = _ledger()
    source = ImportSource("import-ledger", "ledger.csv", "0" * 64)

    _prepare(engine)
    _replay_by_operations(engine, raw, source)
    by_operations = _snapshot(engine)
    stats_by_operations = _statistics(engine)

    bulk = fresh_engine()
    _prepare(bulk)
    rows, problems = validate_rows(raw, local_today(NOW))
    with make_session_factory(bulk)() as session:
        # The approver as the operations path named it: the account of the row's agency.
        agencies = {a.code: a.id for a in session.scalars(select(Agency))}
        rows = [
            replace(r, extension_approver=f"{APPROVER}-{agencies[r.agency]}")
            if r.extended_on
            else r
            for r in rows
        ]
        report = import_ledger(session, rows, source, NOW, prior_errors=problems, workers=2)
        assert report.stored, report.errors[:3]
        session.commit()
    by_bulk = _snapshot(bulk)
    with make_session_factory(bulk)() as session:
        assert verify_log(session) == []  # the bulk path links its chains as the sink does

    assert {"extend", "issue_fee_notice", "fee_paid", "fee_lapsed", "withdraw", "void"} <= {
        e["trigger"] for e in by_bulk["events"]
    }
    assert all(e["payload"]["imported"] == source.provenance() for e in by_bulk["events"])
    _without_provenance(by_bulk)
    for name in ("requests", "events", "request_facts", "tracking_counters", "month_counts"):
        assert len(by_bulk[name]) == len(by_operations[name]), name
        for mine, theirs in zip(by_bulk[name], by_operations[name], strict=True):
            assert mine == theirs, name
    assert _statistics(bulk) == stats_by_operations

    # The same file streamed through the staging area lands the same rows.
    staged = make_engine(templates.copy("empty", "staged", tmp_path))
    try:
        _staged_import(staged, raw, source)
        by_staged = _snapshot(staged)
        with make_session_factory(staged)() as session:
            assert verify_log(session) == []
            assert staging_tables(session) == []  # dropped once published
        _without_provenance(by_staged)
        for name in ("requests", "events", "request_facts", "tracking_counters", "month_counts"):
            assert by_staged[name] == by_operations[name], name
        assert _statistics(staged) == stats_by_operations
    finally:
        staged.dispose()
