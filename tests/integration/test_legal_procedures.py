"""The special procedures of the 条例 (issue 13 items 8–12), each with its notice.

docs/domain.md §18: Art. 35 (reasons, then 不予处理 or a deferral), Art. 32
last sentence (the notice to an overridden third party), Art. 33 para 1 (当场答复), the
channels of Art. 29/31 and the elements of a complete application. Every notice is
rendered to PDF and its text checked for what the law requires it to say.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from documents.notices_pdf import render_notice
from models import Notice, Request, RequestFacts
from tests.conftest import NOW
from workflow.kernel.actor import Actor
from workflow.kernel.calendar import WorkingCalendar
from workflow.kernel.errors import GuardError, ValidationError
from workflow.notices import operations as nops
from workflow.requests import operations as ops
from workflow.requests.intake import (
    CONTACT,
    ORGANISATION_CONTACT,
    PROOF_OF_IDENTITY,
    credit_code_problem,
    missing_elements,
)

PERSON = {
    "applicant_name": "张三",
    "applicant_kind": "natural_person",
    "id_type": "passport",
    "id_number": "E12345678",
    "phone": "13800000000",
    "subject": "某地块征收补偿安置方案",
    "channel": "in_person",
    "submitted_on": "2026-09-24",
}
#: The remedies as every notice states them, naming the agency's own 复议机关 and court
#: (tests.conftest.TEST_REMEDY_BODIES).
REMEDIES = ("60日内向测试市人民政府申请行政复议", "6个月内依法向测试市人民法院提起行政诉讼")


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
    fire(session, users, req, "accept", "2026-09-24", "registrar")
    return req


def issue(session, users, req: Request, kind: str) -> Notice:
    notice = nops.issue_notice(
        session, Actor.of(users["handler"]), NOW, req, kind, render=render_notice
    )
    session.flush()
    return notice


def text_of(notice: Notice) -> str:
    reader = PdfReader(io.BytesIO(notice.content))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def asked(session, users, req: Request, due: str = "2026-10-09") -> None:
    matter = "您于2026年9月向本机关提出了32件内容基本相同的申请"
    fire(session, users, req, "request_reasons", "2026-09-25", matter=matter, due_on=due)


# --------------------------------------------------------------------------- Art. 35


def test_reasons_request_notice_states_the_volume_the_deadline_and_what_follows(
    session, agency, users
) -> None:
    req = accepted(session, agency, users)
    asked(session, users, req)
    body = text_of(issue(session, users, req, "reasons_request"))
    assert "说明理由告知书" in body
    assert "您于2026年9月向本机关提出了32件内容基本相同的申请" in body
    assert "第三十五条" in body and "请您于2026年10月9日前向本机关书面说明申请理由" in body
    assert "申请理由不合理的，将告知您不予处理" in body
    assert "确定延迟答复的合理期限" in body
    assert "某地块征收补偿安置方案" in body and "张三" in body


def test_excessive_needs_the_recorded_request_for_reasons(session, agency, users) -> None:
    req = accepted(session, agency, users)
    excessive = {"outcome": "not_processed.excessive", "delivery": "post"}
    with pytest.raises(GuardError, match="须先要求申请人说明理由"):
        fire(session, users, req, "decide", "2026-10-12", **excessive)
    with pytest.raises(GuardError, match="尚未要求申请人说明理由"):
        fire(session, users, req, "reasons_received", "2026-10-12", finding="none")
    asked(session, users, req)
    with pytest.raises(GuardError, match="说明理由的期限（2026-10-09）尚未届满"):
        fire(session, users, req, "reasons_received", "2026-10-09", finding="none")
    fire(session, users, req, "reasons_received", "2026-10-12", finding="none")
    fire(session, users, req, "decide", "2026-10-13", **excessive)
    body = text_of(issue(session, users, req, "reply"))
    assert "本机关已于2026年9月25日要求您说明理由，您逾期未说明理由" in body
    assert "理由经审查不合理" not in body  # only what was recorded
    assert all(remedy in body for remedy in REMEDIES)


def test_deferral_moves_the_reply_date_and_its_notice_says_so(session, agency, users) -> None:
    req = accepted(session, agency, users)
    asked(session, users, req)
    deferral = {"days": 15, "reason": "申请涉及的信息数量较多、需逐件检索"}
    with pytest.raises(GuardError, match="认定理由合理"):
        fire(session, users, req, "defer_reply", "2026-10-12", **deferral)
    fire(session, users, req, "reasons_received", "2026-10-09", finding="reasonable")
    before = ops.request_deadlines(
        session, req, ops.history(session, req), WorkingCalendar(), NOW.date()
    )
    assert before.reply_due == date(2026, 10, 29)
    fire(session, users, req, "defer_reply", "2026-10-12", **deferral)
    after = ops.request_deadlines(
        session, req, ops.history(session, req), WorkingCalendar(), NOW.date()
    )
    assert after.reply_due == date(2026, 11, 19)  # 15 more working days
    assert any(step.kind == "deferral" for step in after.trace["reply_due"])
    assert session.get(RequestFacts, req.id).reply_due == date(2026, 11, 19)
    body = text_of(issue(session, users, req, "deferral"))
    assert "延迟答复告知书" in body and "第三十五条" in body
    assert "本机关已于2026年9月25日" in body
    assert "因申请涉及的信息数量较多、需逐件检索" in body
    assert "由原定的2026年10月29日延迟至2026年11月19日" in body


def test_a_deferral_after_the_period_is_refused(session, agency, users) -> None:
    req = accepted(session, agency, users)
    asked(session, users, req)
    fire(session, users, req, "reasons_received", "2026-10-09", finding="reasonable")
    with pytest.raises(GuardError, match="答复期限已于2026-10-29届满"):
        fire(session, users, req, "defer_reply", "2026-10-30", days=10, reason="数量较多")


# --------------------------------------------------------------------------- Art. 32


def test_disclosure_over_an_objection_is_notified_to_the_third_party(
    session, agency, users
) -> None:
    req = accepted(session, agency, users)
    notice = {"party": "某置业有限公司", "content": "项目合同金额", "reason": "涉及公共资金使用"}
    with pytest.raises(GuardError, match="第三方未表示不同意公开"):
        fire(session, users, req, "notify_third_party", "2026-09-28", **notice)
    fire(session, users, req, "consult_third_party", "2026-09-25", party="某置业有限公司")
    fire(session, users, req, "third_party_replied", "2026-10-09", opinion="object")
    fire(session, users, req, "notify_third_party", "2026-10-12", **notice)
    body = text_of(issue(session, users, req, "third_party_disclosure"))
    assert "某置业有限公司：" in body
    assert "2026年9月25日就该信息的公开书面征求贵方意见" in body
    assert "于2026年10月9日表示不同意公开" in body
    assert "不公开可能对公共利益造成重大影响" in body and "第三十二条" in body
    assert "决定公开的政府信息内容：项目合同金额" in body
    assert "决定公开的理由：涉及公共资金使用" in body
    assert all(remedy in body for remedy in REMEDIES)
    assert "张三" not in body  # the third party is not told who asked


# --------------------------------------------------------------------------- Art. 33 para 1


def test_answer_on_the_spot_registers_and_decides_in_one_step(session, agency, users) -> None:
    raw = {**PERSON, "submitted_on": "2026-11-20", "outcome": "disclosed", "grounds": ""}
    handler = Actor.of(users["handler"])
    req = ops.answer_on_the_spot(session, handler, NOW, raw, agency=agency)
    session.flush()
    assert req.state == "concluded"
    assert [e.trigger for e in ops.history(session, req)] == ["register", "answer_on_the_spot"]
    facts = session.get(RequestFacts, req.id)
    assert (facts.outcome, facts.concluded_on) == ("disclosed", date(2026, 11, 20))
    body = text_of(issue(session, users, req, "reply"))
    assert "当场答复书" in body and "第三十三条第一款" in body
    assert "处理结果：予以公开" in body
    assert "本机关已当场向您提供本答复书" in body
    assert "某地块征收补偿安置方案" in body
    assert all(remedy in body for remedy in REMEDIES)


def test_answer_on_the_spot_only_on_the_day_and_only_by_a_decider(session, agency, users) -> None:
    req = register(session, agency, users)
    with pytest.raises(GuardError, match="当场答复的日期应为收到申请之日（2026-09-24）"):
        fire(session, users, req, "answer_on_the_spot", "2026-09-25", outcome="disclosed")
    raw = {**PERSON, "submitted_on": "2026-11-20", "outcome": "disclosed"}
    with pytest.raises(GuardError, match="只有"):
        ops.answer_on_the_spot(session, Actor.of(users["registrar"]), NOW, raw, agency=agency)


def test_a_refusal_on_the_spot_goes_to_reconsideration_first(session, agency, users) -> None:
    raw = {
        **PERSON,
        "submitted_on": "2026-11-20",
        "outcome": "withheld.state_secret",
        "grounds": "所涉文件已依法定密为秘密级",
        "secret_basis": "定密依据依法不予告知",
    }
    req = ops.answer_on_the_spot(session, Actor.of(users["handler"]), NOW, raw, agency=agency)
    session.flush()
    body = text_of(issue(session, users, req, "reply"))
    assert "应当先向行政复议机关申请行政复议" in body
    assert "所涉文件已依法定密为秘密级" in body


# --------------------------------------------------------------------------- channels


def test_oral_application_is_received_the_day_it_is_made(session, agency, users) -> None:
    req = register(session, agency, users, channel="oral")
    assert req.received_on == date(2026, 9, 24)
    with pytest.raises(ValidationError) as refused:
        register(session, agency, users, channel="oral", received_on="2026-09-25")
    assert "received_on" in refused.value.field_errors
    body = text_of(issue(session, users, req, "receipt"))
    assert "代为填写" in body and "口头提出之日为收到申请之日" in body


def test_petition_transfer_is_received_when_the_transfer_arrives(session, agency, users) -> None:
    req = register(session, agency, users, channel="petition", submitted_on="2026-11-02")
    assert req.received_on == NOW.date()  # arrival today, not the applicant's letter date
    body = text_of(issue(session, users, req, "receipt"))
    assert "信访工作机构" in body and "收到转办之日为收到申请之日" in body


def test_a_petition_matter_names_where_the_applicant_was_referred(session, agency, users) -> None:
    req = accepted(session, agency, users)
    petition = {"outcome": "not_processed.petition", "delivery": "post"}
    with pytest.raises(GuardError, match="须写明已告知申请人的信访、投诉、举报渠道"):
        fire(session, users, req, "decide", "2026-10-09", **petition)
    fire(session, users, req, "decide", "2026-10-09", referred_to="某市信访局", **petition)
    body = text_of(issue(session, users, req, "reply"))
    assert "您可以通过某市信访局等相应渠道提出" in body


# --------------------------------------------------------------------------- intake


def test_credit_code_check_character() -> None:
    assert credit_code_problem("91350100M000100Y43") is None
    assert credit_code_problem("91350100m000100y43") is None  # read in capitals
    assert "校验位不正确" in (credit_code_problem("91350100M000100Y44") or "")
    assert "18位" in (credit_code_problem("91350100I000100Y43") or "")  # no I in GB 32100


def test_registration_refuses_a_wrong_credit_code(session, agency, users) -> None:
    company = {"applicant_kind": "commercial_enterprise", "id_type": "credit_code"}
    with pytest.raises(ValidationError) as refused:
        register(session, agency, users, **company, id_number="91350100M000100Y44")
    assert "校验位不正确" in refused.value.field_errors["id_number"]
    req = register(
        session,
        agency,
        users,
        **company,
        id_number="91350100m000100y43",
        contact_person="王五",
        legal_representative="赵六",
    )
    assert (req.id_number, req.contact_person, req.legal_representative) == (
        "91350100M000100Y43",
        "王五",
        "赵六",
    )


def test_missing_elements_of_article_29() -> None:
    assert missing_elements(PERSON) == ()
    bare = {**PERSON, "id_number": "", "phone": ""}
    assert missing_elements(bare) == (PROOF_OF_IDENTITY, CONTACT)
    company = {**PERSON, "applicant_kind": "commercial_enterprise"}
    assert missing_elements(company) == (ORGANISATION_CONTACT,)
    assert missing_elements({**company, "contact_person": "王五"}) == ()
