"""Fees are computed from the tariff (2020 fee measures, Arts. 3–5), never typed.

docs/domain.md §18 §Fees: the amount follows from the page count or from
this applicant's requests of the calendar month; a wrong or untimely fee notice is
refused with its reason; a waiver or reduction is an event with its reason; section 六
carries the fee figures the system recorded.
"""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from documents.notices_pdf import render_notice
from models import Request
from tests.conftest import NOW
from workflow.annual_report.narrative import FEE_RULE, fee_section_check, fee_summary, with_fees
from workflow.annual_report.report import load_report
from workflow.kernel.actor import Actor
from workflow.kernel.errors import GuardError, ValidationError
from workflow.notices import operations as nops
from workflow.requests import operations as ops
from workflow.statistics.scope import Scope

PERSON = {
    "applicant_name": "张三",
    "applicant_kind": "natural_person",
    "id_type": "passport",
    "id_number": "E12345678",
    "subject": "某地块征收补偿安置方案",
    "channel": "in_person",
    "submitted_on": "2026-09-24",
}


def register(session, agency, users, **over: str) -> Request:
    raw = {**PERSON, **over}
    req = ops.register(session, Actor.of(users["registrar"]), NOW, raw, agency=agency)
    session.flush()
    return req


def fire(session, users, req: Request, trigger: str, on: str, role: str = "handler", **payload):
    return ops.fire(
        session, req, trigger, Actor.of(users[role]), NOW, {"effective_date": on, **payload}
    )


def accepted(session, agency, users, **over: str) -> Request:
    req = register(session, agency, users, **over)
    fire(session, users, req, "accept", over.get("submitted_on", "2026-09-24"), "registrar")
    return req


def fee_text(session, users, req: Request) -> str:
    notice = nops.issue_notice(
        session, Actor.of(users["handler"]), NOW, req, "fee", render=render_notice
    )
    reader = PdfReader(io.BytesIO(notice.content))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def test_first_request_of_the_month_is_free_so_no_fee_notice(session, agency, users) -> None:
    """The audit's case: 100 元 on an applicant's first request of the month went out."""
    req = accepted(session, agency, users)
    with pytest.raises(GuardError, match="按收费标准本申请不收费") as refused:
        fire(session, users, req, "issue_fee_notice", "2026-09-28", method="per_request")
    assert "第1件免费" in str(refused.value)
    with pytest.raises(GuardError, match="不收费"):
        fire(
            session, users, req, "issue_fee_notice", "2026-09-28", method="per_request", amount=100
        )


def test_a_typed_amount_off_the_tariff_is_refused_with_the_right_one(
    session, agency, users
) -> None:
    req = accepted(session, agency, users)
    with pytest.raises(GuardError, match="收费金额100元不符合收费标准") as refused:
        fire(
            session,
            users,
            req,
            "issue_fee_notice",
            "2026-09-28",
            method="per_page",
            pages=45,
            amount=100,
        )
    assert "应为150元" in str(refused.value)
    event = fire(
        session,
        users,
        req,
        "issue_fee_notice",
        "2026-09-28",
        method="per_page",
        pages=45,
        amount=150,
    )
    assert event.payload["amount"] == 150


def test_per_page_needs_the_page_count(session, agency, users) -> None:
    req = accepted(session, agency, users)
    with pytest.raises(GuardError, match="按量计收须填写拟提供政府信息的页数"):
        fire(session, users, req, "issue_fee_notice", "2026-09-28", method="per_page")


def test_per_request_counts_this_applicants_month_tier_by_tier(session, agency, users) -> None:
    """Ten earlier requests (one split into three 件 by its own fee notice) make this one
    the 13th–14th 件 of September: 2 × 100 元. Other months and other people do not count."""
    register(session, agency, users, submitted_on="2026-08-31")  # last month
    register(session, agency, users, submitted_on="2026-09-02", id_number="G999")  # someone else
    for day in range(1, 10):
        register(session, agency, users, submitted_on=f"2026-09-{day:02d}")
    split = accepted(session, agency, users, submitted_on="2026-09-10")
    fire(session, users, split, "issue_fee_notice", "2026-09-11", method="per_request", units=3)
    # the 10th–12th 件: 10th free, 11th and 12th at 100 元
    assert split.state == "awaiting_fee"
    req = accepted(session, agency, users, applicant_name="张三（代理人李四）")  # same ID
    event = fire(
        session, users, req, "issue_fee_notice", "2026-09-28", method="per_request", units=2
    )
    assert (event.payload["already"], event.payload["quantity"], event.payload["amount"]) == (
        12,
        2,
        200,
    )
    body = fee_text(session, users, req)
    assert "本自然月（2026年9月）内向本机关提出的第13—14件政府信息公开申请" in body
    assert "第13—14件每件100元，2件×100元=200元；合计200元" in body
    assert "人民币200元（大写：贰佰元整）" in body


def test_without_an_id_number_namesakes_count_together_only_with_a_shared_contact(
    session, agency, users
) -> None:
    anonymous = {"id_type": "", "id_number": ""}
    for day in range(1, 11):
        register(session, agency, users, submitted_on=f"2026-09-{day:02d}", **anonymous)
    alone = accepted(session, agency, users, **anonymous)
    with pytest.raises(GuardError, match="不收费"):  # no contact: it stands alone
        fire(session, users, alone, "issue_fee_notice", "2026-09-28", method="per_request")
    phone = {**anonymous, "phone": "13800000000"}
    for day in range(1, 11):
        register(session, agency, users, submitted_on=f"2026-09-{day:02d}", **phone)
    same = accepted(session, agency, users, **phone)
    event = fire(session, users, same, "issue_fee_notice", "2026-09-28", method="per_request")
    assert (event.payload["already"], event.payload["amount"]) == (10, 100)


def test_fee_notice_dates_follow_the_measures(session, agency, users) -> None:
    old = accepted(session, agency, users, submitted_on="2020-12-01")
    with pytest.raises(GuardError, match="自2021-01-01起施行"):
        fire(session, users, old, "issue_fee_notice", "2020-12-10", method="per_page", pages=60)
    late = accepted(session, agency, users)
    with pytest.raises(GuardError, match="收费通知应当在答复期限内发出") as refused:
        fire(session, users, late, "issue_fee_notice", "2026-10-30", method="per_page", pages=60)
    assert "2026-10-29" in str(refused.value)


def test_fee_notice_states_the_computation_and_the_remedies(session, agency, users) -> None:
    req = accepted(session, agency, users)
    fire(session, users, req, "issue_fee_notice", "2026-09-28", method="per_page", pages=250)
    body = fee_text(session, users, req)
    assert "第201—250页每页40元，50页×40元=2,000元；合计4,700元" in body
    assert "人民币4,700元（大写：肆仟柒佰元整）" in body
    assert "《政府信息公开信息处理费管理办法》" in body
    assert "自收到本通知书次日起20个工作日内缴纳" in body
    assert "如对本收费通知书不服" in body
    # The agency's own 复议机关 and court (its settings, 行政复议法 Arts. 24, 27).
    assert "60日内向测试市人民政府申请行政复议" in body
    assert "6个月内依法向测试市人民法院提起行政诉讼" in body


def test_waiver_and_reduction_are_events_with_their_reason(session, agency, users) -> None:
    waived = accepted(session, agency, users)
    fire(session, users, waived, "issue_fee_notice", "2026-09-28", method="per_page", pages=60)
    with pytest.raises(ValidationError):
        fire(session, users, waived, "waive_fee", "2026-09-30")
    fire(session, users, waived, "waive_fee", "2026-09-30", reason="申请人为低保对象")
    assert waived.state == "in_review"

    reduced = accepted(session, agency, users)
    fire(session, users, reduced, "issue_fee_notice", "2026-09-28", method="per_page", pages=60)
    with pytest.raises(GuardError, match="减收后的金额应低于原收费金额（300元）"):
        fire(session, users, reduced, "reduce_fee", "2026-09-29", amount=300, reason="困难")
    fire(session, users, reduced, "reduce_fee", "2026-09-29", amount=120, reason="经济困难")
    fire(session, users, reduced, "fee_paid", "2026-10-09")
    session.flush()
    every = list(ops.histories(session, [waived.id, reduced.id]).values())
    fees = fee_summary(every, 2026)
    assert (fees.notices, fees.charged, fees.paid, fees.collected, fees.relieved) == (
        2,
        600,
        1,
        120,
        2,
    )


def test_section_six_carries_the_recorded_fees(session, agency, users) -> None:
    req = accepted(session, agency, users)
    fire(session, users, req, "issue_fee_notice", "2026-09-28", method="per_page", pages=60)
    session.flush()
    data = load_report(session, Scope.of(agency), 2026)
    assert "发出信息处理费收费通知1件，收费金额合计300元" in data.report.other_matters
    omitted = fee_section_check("本年度无其他需要报告的事项。", data.fees)
    assert omitted.rule == FEE_RULE and not omitted.ok
    assert "收费金额合计300元" in omitted.detail
    assert fee_section_check("本年度收取信息处理费300元。", data.fees).ok
    published = with_fees("本年度无其他需要报告的事项。", data.fees)
    assert published.startswith("本年度无其他需要报告的事项。")
    assert "收费金额合计300元" in published
    checks = data.checks({"other_matters": "无。"})
    assert [c.ok for c in checks if c.rule == FEE_RULE] == [False]


def test_section_six_without_fees_is_left_as_written() -> None:
    nothing = fee_summary([], 2019)
    assert with_fees("无。", nothing) == "无。"
    assert fee_section_check("无。", nothing).ok
