"""Statistics on a real database: the demo's reference year, fold = fast path, JSON CLI."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Agency, RequestFacts
from tests.conftest import NOW
from tests.integration.test_cli import cli
from workflow.admin.demo import AGENCY_CODE
from workflow.annual_report.narrative import FeeSummary, fee_summary
from workflow.annual_report.report import fee_histories, load_report
from workflow.catalog.outcomes import OUTCOME_BY_CODE
from workflow.kernel.actor import Actor
from workflow.kernel.calendar import DEFAULT_CALENDAR
from workflow.requests import operations as ops
from workflow.statistics.fold import stats_json, table3_from_counts
from workflow.statistics.layouts import format_for_year
from workflow.statistics.month_counts import stale_counts
from workflow.statistics.queries import (
    cell_request_ids,
    derive,
    fast_counts_of,
    fold_counts,
    table3_for,
    verify,
    verify_projection,
)
from workflow.statistics.scope import Scope

KINDS = [
    "natural_person",
    "commercial_enterprise",
    "research_institution",
    "social_welfare_org",
    "legal_service_org",
    "other_org",
]
OUTCOMES = sorted(OUTCOME_BY_CODE)
DEMO_2019 = {
    "new_received": 10,
    "carried_over": 0,
    "disclosed": 1,
    "partially_disclosed": 4,
    "withheld.third_party": 1,
    "unavailable.not_held": 2,
    "not_processed.duplicate": 1,
    "other": 1,
    "total_concluded": 10,
    "carried_forward": 0,
}


def demo_agency(session) -> Agency:
    """The demo agency, in a test marked ``demo`` (its database holds the demo)."""
    return session.query(Agency).filter_by(code=AGENCY_CODE).one()


@pytest.mark.demo
def test_demo_2019_equals_spec_section_10_cell_by_cell(session) -> None:
    agency = demo_agency(session)
    for fast in (True, False):
        result = derive(session, Scope.of(agency), 2019, fast=fast)
        assert result.fmt == "2019"
        for row, cells in result.table3.items():
            for column, value in cells.items():
                expected = DEMO_2019.get(row, 0) if column in ("natural_person", "total") else 0
                assert value == expected, (row, column, fast)
        assert all(c.ok for c in result.checks)
    t4 = derive(session, Scope.of(agency), 2019).table4
    assert t4["litigation_direct"] == {
        "upheld": 2,
        "corrected": 0,
        "other": 0,
        "pending": 0,
        "total": 2,
    }
    assert (
        t4["reconsideration"]["total"] == 0 and t4["litigation_after_reconsideration"]["total"] == 0
    )


@pytest.mark.demo
def test_fold_equals_fast_path_on_the_whole_demo(session) -> None:
    agency = demo_agency(session)
    scope = Scope.of(agency, with_subordinates=True)
    assert verify(session, scope, range(2018, 2028)) == {}
    assert verify_projection(session, scope) == []
    current = derive(session, scope, 2026)
    assert current.fmt == "2021" and all(c.ok for c in current.checks)
    assert current.table3["new_received"]["total"] > 100


@pytest.mark.demo
def test_stats_cli_json_follows_the_contract(db_url: str) -> None:
    done = cli(db_url, "stats", "--agency", AGENCY_CODE, "--year", "2019", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == {"agency", "year", "format", "table3", "table4", "checks"}
    assert data["table3"]["partially_disclosed"]["natural_person"] == 4
    assert set(data["table3"]["disclosed"]) == {*KINDS, "total"}
    assert set(data["table4"]) == {
        "reconsideration",
        "litigation_direct",
        "litigation_after_reconsideration",
    }
    assert all(c["ok"] for c in data["checks"])
    text = cli(db_url, "stats", "--agency", AGENCY_CODE, "--year", "2019")
    assert "（二）部分公开" in text.stdout and "检查通过" in text.stdout
    verify_run = cli(db_url, "stats-verify")
    assert verify_run.returncode == 0 and "统计一致" in verify_run.stdout
    unknown = cli(db_url, "stats", "--agency", "nope", "--year", "2019")
    assert unknown.returncode != 0 and "不存在" in unknown.stderr


def _replay_random(session, agency, users, rng: random.Random, n: int) -> None:
    clerk, handler = Actor.of(users["registrar"]), Actor.of(users["handler"])
    approver = Actor.of(users["approver"])
    for _ in range(n):
        received = date(2024, 11, 1) + timedelta(days=rng.randrange(500))
        req = ops.register(
            session,
            clerk,
            NOW,
            {
                "applicant_name": "甲",
                "applicant_kind": rng.choice(KINDS),
                "subject": "某文件",
                "channel": "online",
                "submitted_on": received.isoformat(),
            },
            agency=agency,
        )
        day = received
        for trigger, actor, payload in rng.choice(PATHS):
            day = DEFAULT_CALENDAR.add_working_days(day, rng.randint(1, 25)).day
            if day > NOW.date():
                break
            if trigger == "request_supplement":
                payload = {**payload, "due_on": (day + timedelta(days=20)).isoformat()}
                day_due = day + timedelta(days=20)
            if trigger == "supplement_lapsed":
                day = max(day, day_due + timedelta(days=1))
                if day > NOW.date():
                    break
            actor = {"c": clerk, "h": handler, "a": approver}[actor]
            ops.fire(
                session, req, trigger, actor, NOW, {"effective_date": day.isoformat(), **payload}
            )


PATHS = [
    [("accept", "c", {}), ("decide", "h", {"outcome": "disclosed", "delivery": "post"})],
    [("accept", "c", {}), ("decide", "h", {"outcome": "other.other", "delivery": "post"})],
    [("request_supplement", "c", {"items": "x"}), ("supplement_lapsed", "c", {})],
    [
        ("request_supplement", "c", {"items": "x"}),
        ("receive_supplement", "c", {}),
        ("decide", "h", {"outcome": "unavailable.not_held", "delivery": "post"}),
    ],
    [("accept", "c", {}), ("void", "a", {"reason": "错"})],
    [
        ("accept", "c", {}),
        ("decide", "h", {"outcome": "partially_disclosed", "delivery": "post", "grounds": "隐私"}),
        ("reopen", "a", {"order": "判决"}),
        ("decide", "h", {"outcome": "disclosed", "delivery": "post"}),
    ],
    [
        ("accept", "c", {}),
        ("consult_third_party", "h", {"party": "乙"}),
        ("third_party_replied", "h", {"opinion": "agree"}),
        ("withdraw", "c", {}),
    ],
    [],
]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 25))
def test_random_histories_across_new_year_fold_equals_fast(
    session, users, seed: int, n: int
) -> None:
    agency = Agency(
        code=f"a{seed}-{n}-{random.random():.9f}"[:60].replace(".", ""), name="随机机关"
    )
    session.add(agency)
    session.flush()
    for user in users.values():
        user.agency_id = agency.id
    session.flush()
    _replay_random(session, agency, users, random.Random(seed), n)
    scope = Scope.of(agency)
    assert verify(session, scope, [2024, 2025, 2026]) == {}
    assert stale_counts(session) == []  # the workbench's month counts moved with every event
    previous = None
    for year in (2024, 2025, 2026):
        result = derive(session, scope, year)
        assert all(c.ok for c in result.checks), [c for c in result.checks if not c.ok]
        if previous is not None:
            assert result.table3["carried_over"] == previous["carried_forward"]
        previous = table3_for(session, scope, year, "2021")
        stats_json(agency.code, year, result.fmt, result.table3, result.table4, result.checks)
    session.rollback()


def _register(session, users, agency, received: date, kind: str, decided: date | None = None):
    clerk, handler = Actor.of(users["registrar"]), Actor.of(users["handler"])
    raw = {
        "applicant_name": "甲",
        "applicant_kind": kind,
        "subject": "某文件",
        "channel": "online",
        "submitted_on": received.isoformat(),
    }
    req = ops.register(session, clerk, NOW, raw, agency=agency)
    assert req.received_on == received
    if decided is not None:
        ops.fire(session, req, "accept", clerk, NOW, {"effective_date": received.isoformat()})
        decide = {"effective_date": decided.isoformat(), "outcome": "disclosed", "delivery": "post"}
        ops.fire(session, req, "decide", handler, NOW, decide)
    return req


def test_requests_carried_across_new_year_count_in_every_year_they_stay_open(
    session, agency, users
) -> None:
    """Received in 2024 and still open, or concluded in 2026: carried over into 2025 and
    2026. Concluded in 2024: into neither. The fast path finds the requests received
    before the years it counts in a part of their own: checked against the fold for
    single years, pairs (what ``derive`` asks for) and several years at once."""
    _register(session, users, agency, date(2024, 3, 4), "natural_person")  # still open
    _register(session, users, agency, date(2024, 6, 3), "commercial_enterprise", date(2026, 2, 2))
    _register(session, users, agency, date(2024, 5, 6), "research_institution", date(2024, 5, 20))
    _register(session, users, agency, date(2024, 12, 30), "social_welfare_org", date(2025, 1, 6))
    _register(session, users, agency, date(2025, 12, 29), "legal_service_org", date(2026, 1, 5))
    session.flush()
    scope = Scope.of(agency)
    fold = {year: fold_counts(session, scope, year, "2021") for year in range(2023, 2028)}
    for years in ([2025], [2026], [2024, 2025], [2025, 2026], [2024, 2026], range(2023, 2028)):
        assert fast_counts_of(session, scope, years) == {y: fold[y] for y in years}, years

    def kinds(year: int, row: str) -> set[str]:
        return {kind for (r, kind), n in fold[year].items() if r == row and n}

    assert kinds(2025, "carried_over") == {
        "natural_person",
        "commercial_enterprise",
        "social_welfare_org",
    }
    assert kinds(2026, "carried_over") == {
        "natural_person",
        "commercial_enterprise",
        "legal_service_org",
    }
    assert kinds(2025, "carried_forward") == kinds(2026, "carried_over")
    assert kinds(2024, "carried_forward") == kinds(2025, "carried_over")
    for year in (2025, 2026):
        fast, reference = derive(session, scope, year), derive(session, scope, year, fast=False)
        assert fast.table3 == reference.table3 and fast.checks == reference.checks
        assert all(c.ok for c in fast.checks), [c for c in fast.checks if not c.ok]
    assert derive(session, scope, 2026).table3["carried_over"]["total"] == 3
    session.rollback()


def test_every_number_of_the_fast_path_is_the_length_of_its_list(session, agency, users) -> None:
    """Projection rows with every receipt and conclusion day around the years' bounds,
    including what the workflow never writes (concluded before received, concluded
    without an outcome) and voided rows: each cell of ``fast_counts_of``, for any
    selection of years, counts exactly the requests its drill-down lists, i.e. the rows
    its condition selects among all rows."""
    days = [
        date(2022, 6, 1),
        date(2023, 12, 31),
        date(2024, 1, 1),
        date(2024, 12, 31),
        date(2025, 1, 1),
        date(2025, 6, 30),
        date(2025, 12, 31),
        date(2026, 1, 1),
        date(2027, 3, 1),
    ]
    combos = [(r, c) for r in days for c in [None, *days]]
    for i, (received, concluded) in enumerate(combos):
        req = _register(session, users, agency, date(2022, 1, 3), KINDS[i % len(KINDS)])
        session.flush()
        facts = session.get(RequestFacts, req.id)
        facts.received_on, facts.concluded_on = received, concluded
        facts.outcome = None if concluded is None or i % 7 == 3 else OUTCOMES[i % len(OUTCOMES)]
        facts.voided = i % 11 == 5
    session.flush()
    scope = Scope.of(agency)
    for years in ([2024], [2025], [2024, 2025], [2025, 2026], [2023, 2025], range(2022, 2028)):
        counts = fast_counts_of(session, scope, years)
        for year in years:
            fmt = format_for_year(year)
            table = table3_from_counts(counts[year], fmt)
            for row, cells in table.items():
                for column, value in cells.items():
                    listed = cell_request_ids(session, scope, year, fmt, row, column, limit=10_000)
                    assert value == len(listed), (years, year, row, column)
            live = [r for i, (r, _) in enumerate(combos) if i % 11 != 5]
            assert table["new_received"]["total"] == sum(1 for r in live if r.year == year)
    session.rollback()


def test_fee_figures_read_only_fee_events_and_leave_voided_requests_out(
    session, agency, users
) -> None:
    """``fee_histories`` reads only the fee events and voids: a request voided after its
    fee notice counts nowhere, a payment in January counts at its December notice's
    amount. Equal to the fee fold over every request's whole history."""
    clerk, handler = Actor.of(users["registrar"]), Actor.of(users["handler"])
    approver = Actor.of(users["approver"])

    def fire(req, trigger, actor, day: date, **payload) -> None:
        ops.fire(session, req, trigger, actor, NOW, {"effective_date": day.isoformat(), **payload})

    fee = {"method": "per_page"}
    paid = _register(session, users, agency, date(2025, 3, 3), "natural_person")
    fire(paid, "accept", clerk, date(2025, 3, 3))
    fire(paid, "issue_fee_notice", handler, date(2025, 3, 5), pages="40", **fee)
    fire(paid, "fee_paid", handler, date(2025, 3, 10))
    voided = _register(session, users, agency, date(2025, 4, 1), "natural_person")
    fire(voided, "accept", clerk, date(2025, 4, 1))
    fire(voided, "issue_fee_notice", handler, date(2025, 4, 2), pages="35", **fee)
    fire(voided, "fee_paid", handler, date(2025, 4, 8))
    fire(voided, "void", approver, date(2025, 5, 6), reason="登记错误")
    december = _register(session, users, agency, date(2024, 12, 16), "natural_person")
    fire(december, "accept", clerk, date(2024, 12, 16))
    fire(december, "issue_fee_notice", handler, date(2024, 12, 18), pages="33", **fee)
    fire(december, "fee_paid", handler, date(2025, 1, 6))
    session.flush()
    scope = Scope.of(agency)
    every = list(ops.histories(session, [paid.id, voided.id, december.id]).values())
    for year in (2024, 2025, 2026):
        assert fee_summary(fee_histories(session, scope, year), year) == fee_summary(every, year)
    assert fee_summary(fee_histories(session, scope, 2025), 2025) == FeeSummary(
        2025, notices=1, charged=100, paid=2, collected=130
    )
    assert load_report(session, scope, 2025).fees.collected == 130
    session.rollback()
