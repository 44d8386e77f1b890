"""The report tracker carries each agency's checks exactly as its report page shows them
(rules 1–8, one code path) plus the fold check of stats-verify, which catches a
projection row changed behind the application's back.

Against the hand-built province of tests/integration/supervision_world.py (year 2026).
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from models import Agency, ReportDraft, RequestFacts
from models.agency import subtree_ids
from tests.conftest import make_user
from tests.integration.routes import signed_in
from tests.integration.supervision_world import NOW, TODAY, Province, _decided, build_province
from workflow.annual_report.narrative import RULE_7
from workflow.annual_report.report import load_report
from workflow.annual_report.tracker import report_tracker
from workflow.statistics.queries import (
    FOLD_RULE,
    _plain_histories,
    fast_counts_by_agency,
    fold_counts_by_agency,
    verify,
)
from workflow.statistics.scope import Scope

YEAR = 2026


@pytest.fixture
def province(session: Session, agency: Agency) -> Province:
    supervisor = make_user(session, agency, "supervisor", "viewer")
    return build_province(session, agency, supervisor)


def _lines(session: Session, p: Province):
    ids = subtree_ids(session, p.root.id)
    return {line.agency.code: line for line in report_tracker(session, ids, YEAR, TODAY)}


def _break_fold(session: Session, p: Province) -> None:
    """乙局's partly disclosed reply recorded as disclosed in the projection only: the
    event log still says partly disclosed (a statistics row edited in the database)."""
    r9 = p.requests["r9"]
    facts = session.get(RequestFacts, r9.id)
    assert facts is not None and facts.outcome == "partially_disclosed"
    session.execute(
        update(RequestFacts).where(RequestFacts.request_id == r9.id).values(outcome="disclosed")
    )
    session.commit()


def test_tracker_checks_are_the_report_pages_checks(session: Session, province: Province) -> None:
    # 甲局's draft quotes a number its table does not hold (rule 7 fails on both pages).
    session.add(
        ReportDraft(agency_id=province.a.id, year=YEAR, overview="收到政府信息公开申请99件")
    )
    session.commit()
    lines = _lines(session, province)
    assert set(lines) == {"test-agency", "a-bureau", "a1-office", "b-bureau"}
    for code, line in lines.items():
        page = load_report(session, Scope.of(line.agency), YEAR).checks()
        own = [c for c in line.checks if c.rule != FOLD_RULE]
        assert [(c.rule, c.ok, c.detail) for c in own] == [
            (c.rule, c.ok, c.detail) for c in page
        ], code
        folds = [c for c in line.checks if c.rule == FOLD_RULE]
        assert [c.ok for c in folds] == [True, True], code  # the year and the one before
    failed = lines["a-bureau"].failed
    assert [c.rule for c in failed] == [RULE_7]
    assert "99件" in failed[0].detail


def test_a_broken_fold_fails_on_the_tracker_with_the_rules_name(
    session: Session, province: Province
) -> None:
    _break_fold(session, province)
    assert verify(session, Scope.of(province.b), [YEAR])  # stats-verify sees it too
    lines = _lines(session, province)
    failed = lines["b-bureau"].failed
    assert [c.rule for c in failed] == [FOLD_RULE]
    assert str(YEAR) in failed[0].detail and "部分公开" in failed[0].detail
    assert "统计为0、重新计算为1" in failed[0].detail
    for code in ("test-agency", "a-bureau", "a1-office"):
        assert not lines[code].failed, code
    # Rules 1–5 cannot see it: the changed row still adds up in every direction.
    assert all(c.ok for c in lines["b-bureau"].checks if c.rule != FOLD_RULE)


def test_the_tracker_page_names_the_broken_fold(app, session: Session, province: Province) -> None:
    _break_fold(session, province)
    client = signed_in(app, session, province.supervisor)
    html = client.get(f"/supervision/reports?year={YEAR}").get_data(as_text=True)
    rows = dict(
        re.findall(r'<tr data-agency="([^"]+)".*?<td class="checks">(.*?)</td>', html, re.S)
    )
    assert "1 项未通过" in rows["b-bureau"] and FOLD_RULE in rows["b-bureau"]
    assert "全部通过" in rows["a-bureau"] and FOLD_RULE not in rows["a-bureau"]


def test_the_fold_skips_only_what_cannot_count(session: Session, province: Province) -> None:
    """The fold reads no request concluded before its first year — but it does read one
    whose conclusion was corrected across New Year, and every count stays the fold's."""
    from workflow.kernel.actor import Actor
    from workflow.requests import office_operations as office_ops
    from workflow.requests.operations import history

    clerk = province.clerk_a
    old = _decided(session, clerk, "2024-03-01", "2024-03-08", "disclosed")
    moved = _decided(session, clerk, "2024-12-02", "2024-12-20", "disclosed")
    decide = next(e for e in history(session, moved) if e.trigger == "decide")
    raw = {
        "target_id": decide.id,
        "field": "effective_date",
        "new": "2025-01-06",
        "reason": "录入错误",
    }
    office_ops.correct(session, moved, Actor.of(clerk), NOW, raw)
    session.commit()
    scope = Scope.of(province.root, with_subordinates=True)
    read = {r.id for r, _ in _plain_histories(session, scope, date(2025, 1, 1))}
    assert old.id not in read and moved.id in read
    assert {r.id for r, _ in _plain_histories(session, scope, date(2024, 1, 1))} >= {old.id}
    for years in ([2024], [2025], [2025, 2026], [2026]):
        assert verify(session, scope, years) == {}, years
    fmt = {2025: "2021"}
    folded = fold_counts_by_agency(session, scope, fmt)[province.a.id][2025]
    assert folded[("disclosed", "natural_person")] == 1  # the corrected one, in 2025
    assert folded == fast_counts_by_agency(session, scope, [2025])[province.a.id][2025]


def test_the_recount_can_be_left_out_and_asked_for(
    app, session: Session, province: Province
) -> None:
    """Above a few agencies the recount is asked for; the page says when it was left out."""
    _break_fold(session, province)
    client = signed_in(app, session, province.supervisor)
    left_out = client.get(f"/supervision/reports?year={YEAR}&fold=0").get_data(as_text=True)
    assert "本次未含" in left_out and FOLD_RULE not in left_out
    asked = client.get(f"/supervision/reports?year={YEAR}&fold=0&fold=1").get_data(as_text=True)
    assert "本次未含" not in asked and FOLD_RULE in asked
