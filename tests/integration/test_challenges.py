"""Reconsideration and litigation on a real database, and table 四 derived from them."""

from __future__ import annotations

from datetime import date

import pytest

from models import Request
from tests.conftest import NOW, decision_facts
from workflow.challenges import operations as cops
from workflow.kernel.actor import Actor
from workflow.kernel.errors import GuardError
from workflow.requests import operations as ops
from workflow.statistics.queries import derive
from workflow.statistics.scope import Scope


def concluded_request(session, agency, users, outcome: str, received: str, decided: str) -> Request:
    clerk = Actor.of(users["registrar"])
    req = ops.register(
        session,
        clerk,
        NOW,
        {
            "applicant_name": "李四",
            "applicant_kind": "natural_person",
            "subject": "某批复文件",
            "channel": "in_person",
            "submitted_on": received,
        },
        agency=agency,
    )
    ops.fire(session, req, "accept", clerk, NOW, {"effective_date": received})
    ops.fire(
        session,
        req,
        "decide",
        Actor.of(users["handler"]),
        NOW,
        {
            "effective_date": decided,
            "outcome": outcome,
            "delivery": "post",
            **decision_facts(outcome),
        },
    )
    session.commit()
    return req


def file(session, users, req, on: str, **case: str):
    case.setdefault("body", "某某法院")
    case.setdefault("case_no", f"案-{on}-{case.get('kind')}")
    made = cops.file_challenge(
        session, Actor.of(users["legal"]), NOW, req, {"effective_date": on, **case}
    )
    session.commit()
    return made


def conclude(session, users, case, on: str, result: str) -> None:
    cops.fire_challenge(
        session,
        case,
        "conclude",
        Actor.of(users["legal"]),
        NOW,
        {"effective_date": on, "result": result},
    )
    session.commit()


def t4(session, agency, year: int) -> dict[str, dict[str, int]]:
    return derive(session, Scope.of(agency), year).table4


def test_case_spanning_new_year_is_pending_then_concluded(session, agency, users) -> None:
    req = concluded_request(
        session, agency, users, "unavailable.not_held", "2025-09-01", "2025-09-20"
    )
    case = file(session, users, req, "2025-11-03", kind="litigation", route="direct")
    conclude(session, users, case, "2026-02-10", "claims_dismissed")
    assert t4(session, agency, 2025)["litigation_direct"] == {
        "upheld": 0,
        "corrected": 0,
        "other": 0,
        "pending": 1,
        "total": 1,
    }
    assert t4(session, agency, 2026)["litigation_direct"]["upheld"] == 1
    assert t4(session, agency, 2027)["litigation_direct"]["total"] == 0


def test_reconsideration_then_lawsuit_counts_once_in_each_group(session, agency, users) -> None:
    req = concluded_request(session, agency, users, "disclosed", "2025-03-03", "2025-03-20")
    recon = file(session, users, req, "2025-04-10", kind="reconsideration", case_no="复〔2025〕1号")
    conclude(session, users, recon, "2025-06-01", "maintained")
    suit = file(
        session,
        users,
        req,
        "2025-06-10",
        kind="litigation",
        route="after_reconsideration",
        prior_case_no="复〔2025〕1号",
    )
    assert suit.prior_id == recon.id
    table = t4(session, agency, 2025)
    assert table["reconsideration"]["upheld"] == 1 and table["reconsideration"]["total"] == 1
    assert table["litigation_after_reconsideration"]["pending"] == 1
    assert table["litigation_direct"]["total"] == 0


def test_after_reconsideration_needs_a_concluded_reconsideration(session, agency, users) -> None:
    req = concluded_request(session, agency, users, "disclosed", "2025-03-03", "2025-03-20")
    with pytest.raises(GuardError, match="复议案号"):
        file(session, users, req, "2025-06-10", kind="litigation", route="after_reconsideration")
    session.rollback()
    file(session, users, req, "2025-04-10", kind="reconsideration", case_no="复1")
    after = {"kind": "litigation", "route": "after_reconsideration", "prior_case_no": "复1"}
    with pytest.raises(GuardError, match=r"尚未审结.*2025-06-09.*第四十五条"):
        file(session, users, req, "2025-06-09", **after)
    session.rollback()
    # 行政诉讼法 Art. 45: once the 复议机关 has missed its 60 days, the applicant may sue.
    case = file(session, users, req, "2025-06-10", **after)
    assert case.route == "after_reconsideration"


def test_appeal_continues_the_same_case(session, agency, users) -> None:
    req = concluded_request(
        session, agency, users, "unavailable.not_held", "2025-01-06", "2025-01-20"
    )
    case = file(session, users, req, "2025-03-03", kind="litigation", route="direct")
    conclude(session, users, case, "2025-06-30", "claims_dismissed")
    cops.fire_challenge(
        session,
        case,
        "appeal",
        Actor.of(users["legal"]),
        NOW,
        {
            "effective_date": "2025-07-15",
            "instance": "second",
            "body": "某中级人民法院",
            "case_no": "（2025）二审1号",
        },
    )
    session.commit()
    assert case.instance == "second" and case.state == "pending"
    assert t4(session, agency, 2025)["litigation_direct"] == {
        "upheld": 0,
        "corrected": 0,
        "other": 0,
        "pending": 1,
        "total": 1,
    }
    conclude(session, users, case, "2026-03-02", "ordered_to_perform")
    assert t4(session, agency, 2026)["litigation_direct"]["corrected"] == 1
    assert t4(session, agency, 2026)["litigation_direct"]["total"] == 1


def test_direct_lawsuit_against_a_refusal_after_2024_is_warned(session, agency, users) -> None:
    refused = concluded_request(
        session, agency, users, "withheld.process_information", "2025-05-06", "2025-05-20"
    )
    case = file(session, users, refused, "2025-06-03", kind="litigation", route="direct")
    assert "先申请行政复议" in cops.challenge_history(session, case)[0].payload["warning"]
    old = concluded_request(
        session, agency, users, "withheld.process_information", "2023-05-08", "2023-05-22"
    )
    case_old = file(session, users, old, "2023-06-05", kind="litigation", route="direct")
    assert "warning" not in cops.challenge_history(session, case_old)[0].payload


def test_new_reply_order_reopens_without_double_counting(session, agency, users) -> None:
    req = concluded_request(
        session, agency, users, "unavailable.not_held", "2025-02-03", "2025-02-20"
    )
    case = file(session, users, req, "2025-03-10", kind="reconsideration")
    conclude(session, users, case, "2025-05-06", "revoked_new_reply")
    assert req.state == "in_review"
    ops.fire(
        session,
        req,
        "decide",
        Actor.of(users["handler"]),
        NOW,
        {"effective_date": "2025-05-20", "outcome": "disclosed", "delivery": "post"},
    )
    session.commit()
    t3 = derive(session, Scope.of(agency), 2025).table3
    assert t3["new_received"]["total"] == 1
    assert t3["total_concluded"]["total"] == 1
    assert t3["unavailable.not_held"]["total"] == 1 and t3["disclosed"]["total"] == 0
    assert derive(session, Scope.of(agency), 2025).table4["reconsideration"]["corrected"] == 1


def test_only_legal_officers_record_cases(session, agency, users) -> None:
    req = concluded_request(session, agency, users, "disclosed", "2025-03-03", "2025-03-20")
    with pytest.raises(GuardError, match="法制员"):
        cops.file_challenge(
            session,
            Actor.of(users["handler"]),
            NOW,
            req,
            {
                "effective_date": "2025-04-01",
                "kind": "reconsideration",
                "body": "x",
                "case_no": "y",
            },
        )


def test_result_must_fit_the_kind(session, agency, users) -> None:
    req = concluded_request(session, agency, users, "disclosed", "2025-03-03", "2025-03-20")
    case = file(session, users, req, "2025-04-10", kind="reconsideration")
    with pytest.raises(GuardError, match="不适用"):
        conclude(session, users, case, "2025-05-01", "claims_dismissed")


def test_filing_before_the_request_date_is_refused(session, agency, users) -> None:
    req = concluded_request(session, agency, users, "disclosed", "2025-03-03", "2025-03-20")
    with pytest.raises(GuardError, match="不能早于该申请的收到日期"):
        file(session, users, req, "2025-03-01", kind="reconsideration")


def test_voided_case_counts_nowhere(session, agency, users) -> None:
    req = concluded_request(session, agency, users, "disclosed", "2025-03-03", "2025-03-20")
    case = file(session, users, req, "2025-04-10", kind="reconsideration")
    cops.fire_challenge(
        session,
        case,
        "void",
        Actor.of(users["legal"]),
        NOW,
        {"effective_date": "2025-04-11", "reason": "登记错误"},
    )
    session.commit()
    assert t4(session, agency, 2025)["reconsideration"]["total"] == 0
    assert date(2025, 4, 10) == case.filed_on
