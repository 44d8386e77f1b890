"""Statistics on a real database: the demo's reference year, fold = fast path, JSON CLI."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.demo_data import AGENCY_CODE, load
from models import Agency
from tests.conftest import NOW
from tests.integration.test_cli import cli
from workflow import operations as ops
from workflow.calendar import DEFAULT_CALENDAR
from workflow.statistics import stats_json
from workflow.stats_queries import Scope, derive, table3_for, verify, verify_projection

KINDS = [
    "natural_person",
    "commercial_enterprise",
    "research_institution",
    "social_welfare_org",
    "legal_service_org",
    "other_org",
]
SPEC_10 = {
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
    load(session, NOW)
    session.commit()
    return session.query(Agency).filter_by(code=AGENCY_CODE).one()


def test_demo_2019_equals_spec_section_10_cell_by_cell(session) -> None:
    agency = demo_agency(session)
    for fast in (True, False):
        result = derive(session, Scope.of(agency), 2019, fast=fast)
        assert result.fmt == "2019"
        for row, cells in result.table3.items():
            for column, value in cells.items():
                expected = SPEC_10.get(row, 0) if column in ("natural_person", "total") else 0
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


def test_fold_equals_fast_path_on_the_whole_demo(session) -> None:
    agency = demo_agency(session)
    scope = Scope.of(agency, with_subordinates=True)
    assert verify(session, scope, range(2018, 2028)) == {}
    assert verify_projection(session, scope) == []
    current = derive(session, scope, 2026)
    assert current.fmt == "2021" and all(c.ok for c in current.checks)
    assert current.table3["new_received"]["total"] > 100


def test_stats_cli_json_follows_the_contract(db_url: str) -> None:
    assert cli(db_url, "demo").returncode == 0
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
    clerk, handler = ops.Actor.of(users["registrar"]), ops.Actor.of(users["handler"])
    approver = ops.Actor.of(users["approver"])
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
        ("decide", "h", {"outcome": "partially_disclosed", "delivery": "post"}),
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
    previous = None
    for year in (2024, 2025, 2026):
        result = derive(session, scope, year)
        assert all(c.ok for c in result.checks), [c for c in result.checks if not c.ok]
        if previous is not None:
            assert result.table3["carried_over"] == previous["carried_forward"]
        previous = table3_for(session, scope, year, "2021")
        stats_json(agency.code, year, result.fmt, result.table3, result.table4, result.checks)
    session.rollback()
