"""The benchmark generator's two write paths produce identical databases.

``bench/generate.py`` fills a database either through ``workflow.requests.operations`` (the real
write path) or by replaying the same plans in memory and bulk-inserting the rows. The
1M-request benchmarks rest on the bulk path, so this test replays one seeded data set
both ways and compares every row the workflow writes — requests, events (trigger,
states, effective dates, payloads), the ``request_facts`` projection, challenges and
their events, tracking counters — and the statistics derived from them.

The data set is a slice of ordinary plans plus, from a larger pool of plans, the first
example of every rare path (each trigger, late actions, a reopen ordered by a court,
a lawsuit after reconsideration, the post-2024 refusal warning), so the comparison
covers them all even at this small size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bench.generate import generate_bulk, generate_operations, seeds_for
from bench.plans import ORDERS_NEW_REPLY, ROOT, Act, Plan, plan_for
from models import Agency, Base, Challenge, Request, User
from models.db import make_engine, make_session_factory
from tests.conftest import NOW
from tests.templates import Templates
from workflow.annual_report.narrative import fee_summary
from workflow.annual_report.report import fee_histories
from workflow.challenges import operations as challenge_ops
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.calendar import WorkingCalendar
from workflow.requests import operations as ops
from workflow.requests.spec import TRANSITIONS
from workflow.statistics.challenges import case_facts, table4_for
from workflow.statistics.fold import table4
from workflow.statistics.queries import derive
from workflow.statistics.scope import Scope

ORDINARY = 120
POOL = 30_000
TABLES = (
    "requests",
    "events",
    "request_facts",
    "challenges",
    "challenge_events",
    "tracking_counters",
    "month_counts",
)
#: Set by the database or the wall clock, so different between two runs by design.
WALL_CLOCK_COLUMNS = frozenset({"created_at"})


def _features(plan: Plan) -> set[str]:
    found = {f"{a.target}:{a.trigger}" for a in plan.acts}
    files = [a for a in plan.acts if a.trigger == "file"]
    if any(a.payload.get("route") == "after_reconsideration" for a in files):
        found.add("after_reconsideration")
    if any(a.payload.get("result") in ORDERS_NEW_REPLY for a in plan.acts):
        found.add("new_reply")
    last_decision = None
    for act in plan.acts:  # a direct lawsuit against a refusal decided since 2024
        if act.trigger == "decide":
            last_decision = act
        elif act.trigger == "file" and act.payload.get("route") == "direct" and last_decision:
            refused = last_decision.payload["outcome"].startswith("withheld.")
            if refused and last_decision.on.year >= 2024:
                found.add("refusal_warning")
    if plan.registrar == "chengban":
        found.add("registered_by_handler")
    return found


def _fee_across_new_year(template: Plan) -> Plan:
    """A fee noticed in December and paid in January: the payment counts in the new year
    at the amount of the old year's notice."""
    intake = {**template.intake, "submitted_on": "2024-12-02", "received_on": "2024-12-02"}
    acts = (
        Act("request", "accept", date(2024, 12, 2), {}, "dengji"),
        Act(
            "request",
            "issue_fee_notice",
            date(2024, 12, 20),
            {"method": "per_page", "pages": 60},
            "chengban",
        ),
        Act("request", "fee_paid", date(2025, 1, 6), {}, "chengban"),
        Act(
            "request",
            "decide",
            date(2025, 1, 20),
            {"outcome": "disclosed", "delivery": "post"},
            "chengban",
        ),
    )
    return Plan(template.agency, intake, "dengji", acts)


def _plans() -> tuple[list[Plan], set[str]]:
    today = local_today(NOW)
    calendar = WorkingCalendar()
    pool = [plan_for(s, calendar, today) for s in seeds_for(POOL, seed=8, today=today)]
    chosen = [*pool[:ORDINARY], _fee_across_new_year(pool[0])]
    covered: set[str] = set().union(*(_features(p) for p in chosen))
    for plan in pool[ORDINARY:]:
        new = _features(plan) - covered
        if new:
            chosen.append(plan)
            covered |= new
    return chosen, covered


def _snapshot(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row the generator writes, in key order, wall-clock columns left out."""
    found: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for name in TABLES:
            table = Base.metadata.tables[name]
            columns = [c for c in table.columns if c.name not in WALL_CLOCK_COLUMNS]
            rows = conn.execute(select(*columns).order_by(*table.primary_key.columns))
            found[name] = [dict(row._mapping) for row in rows]
    return found


def _statistics(engine: Engine) -> dict[int, Any]:
    """Tables 三 and 四, the checks and the fees of every year; fast path = fold, and the
    fee query (which reads only the year's fee requests) = the fee fold over every request.
    """
    with make_session_factory(engine)() as session:
        root = session.scalar(select(Agency).where(Agency.code == ROOT))
        assert root is not None
        scope = Scope.of(root, with_subordinates=True)
        every_history = [
            list(h)
            for h in ops.histories(session, session.scalars(select(Request.id)).all()).values()
        ]
        found = {}
        for year in range(2021, NOW.year + 1):
            fast = derive(session, scope, year, fast=True)
            fold = derive(session, scope, year, fast=False)
            assert fast.table3 == fold.table3, year
            assert all(c.ok for c in fast.checks), [c for c in fast.checks if not c.ok]
            fees = fee_summary(fee_histories(session, scope, year), year)
            assert fees == fee_summary(every_history, year), year
            found[year] = (fast.table3, fast.table4, fees)
    return found


@pytest.fixture
def fresh_engine(templates: Templates, tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """A second empty database: another copy of the migrated template."""
    engines: list[Engine] = []

    def make() -> Engine:
        engine = make_engine(templates.copy("empty", "bulk", tmp_path))
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


def test_bulk_path_writes_what_the_operations_write(engine, fresh_engine):
    plans, covered = _plans()
    every_trigger = {f"request:{t.trigger}" for t in TRANSITIONS if t.trigger != "register"}
    rare = {"after_reconsideration", "new_reply", "refusal_warning", "registered_by_handler"}
    # reopen is fired by a court's order (the challenge act), never as a planned act, and
    # reopen_undone by a higher instance reversing that order (the generated plans have no
    # first-instance orders, so nothing is reversed after a reopen)
    assert every_trigger - {"request:reopen", "request:reopen_undone"} <= covered
    assert rare | {"challenge:appeal", "challenge:conclude"} <= covered

    assert generate_operations(engine, plans, NOW) == len(plans)
    by_operations = _snapshot(engine)
    stats_by_operations = _statistics(engine)

    bulk = fresh_engine()
    assert generate_bulk(bulk, [], NOW, plans=plans, workers=1) == len(plans)
    by_bulk = _snapshot(bulk)

    events = by_operations["events"]
    assert {"reopen", "extend", "void", "fee_lapsed"} <= {e["trigger"] for e in events}
    assert any("late" in e["payload"] for e in events)
    assert any("warning" in e["payload"] for e in by_operations["challenge_events"])
    for name in TABLES:
        assert len(by_bulk[name]) == len(by_operations[name]), name
        for mine, theirs in zip(by_bulk[name], by_operations[name], strict=True):
            assert mine == theirs, name
    assert _statistics(bulk) == stats_by_operations


def test_bulk_path_output_does_not_depend_on_worker_count(engine, fresh_engine):
    today = local_today(NOW)
    seeds = seeds_for(300, seed=3, today=today)
    generate_bulk(engine, seeds, NOW, workers=1)
    other = fresh_engine()
    generate_bulk(other, seeds, NOW, workers=2)
    assert _snapshot(other) == _snapshot(engine)


def test_table4_reads_only_the_cases_that_can_count(engine):
    """``challenge_stats`` leaves cases out in SQL; the table is that of every case."""
    today = local_today(NOW)
    calendar = WorkingCalendar()
    pool = [plan_for(s, calendar, today) for s in seeds_for(POOL, seed=8, today=today)]
    with_cases = [p for p in pool if any(a.target == "challenge" for a in p.acts)]
    generate_bulk(engine, [], NOW, plans=with_cases, workers=1)
    with make_session_factory(engine)() as session:
        cases = list(session.scalars(select(Challenge).order_by(Challenge.id)))
        legal = session.scalar(select(User).where(User.username == "jx-fazhi"))
        assert legal is not None
        for case in (cases[0], cases[-1]):  # one closed long ago, one recent: both voided
            actor = Actor(legal.id, legal.username, case.agency_id, frozenset({"legal"}))
            raw = {"effective_date": today.isoformat(), "reason": "登记错误"}
            challenge_ops.fire_challenge(session, case, "void", actor, NOW, raw)
        session.commit()
        root = session.scalar(select(Agency).where(Agency.code == ROOT))
        assert root is not None
        for scope in (Scope.of(root, with_subordinates=True), Scope.of(cases[1].request.agency)):
            every_case = [
                (c.kind, c.route, challenge_ops.challenge_history(session, c))
                for c in session.scalars(
                    select(Challenge).where(Challenge.agency_id.in_(scope.agency_ids))
                )
            ]
            for year in range(2020, NOW.year + 2):
                expected = table4(case_facts(every_case, year), year)
                assert table4_for(session, scope, year) == expected, year
