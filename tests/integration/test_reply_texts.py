"""Every reply variant, printed and read back: each element the law requires is on paper.

A reply (答复书/告知书) is what an applicant brings to the 复议机关 or the court. For
every outcome a reply can document (each decidable outcome, both lapses) and for both
remedies texts (reconsideration first from 2024-01-01, the choice before), the reply is
issued, rendered to PDF by ``documents.notices_pdf``, its text extracted with
``pdftotext`` and checked against the catalogue's list of required elements
(``workflow.catalog.notices.reply_elements``, each with its article): the elements are
data, so a new one is checked here without touching this test, and a need this test
cannot verify fails it.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

import pytest

from documents.notices_pdf import cn_date, render_notice
from models import Agency, Notice, Request
from tests.conftest import NOW, TEST_REMEDY_BODIES
from workflow.admin import operations as admin_ops
from workflow.catalog.notices import ReplyElement, reply_elements
from workflow.catalog.outcomes import DECIDABLE_OUTCOMES, OUTCOME_BY_CODE, Outcome
from workflow.challenges.remedies import reconsideration_first
from workflow.kernel.actor import Actor
from workflow.kernel.errors import GuardError
from workflow.notices import operations as nops
from workflow.requests import operations as ops

#: What a clerk types for each fact a decision may need: distinct, so each is found.
FACTS = {
    "grounds": "所涉信息含有第三方的商业秘密且第三方不同意公开",
    "legal_provision": "《中华人民共和国统计法》第三十九条",
    "secret_basis": "某某机关2020年定密文件第3号",
    "responsible_agency": "某某市市场监督管理局",
    "responsible_contact": "某某市人民路1号，电话0791-12345678",
    "publication_route": "某某区人民政府门户网站“政府信息公开”栏目（网址：www.example.gov.cn）",
    "referral_procedure": "《不动产登记资料查询暂行办法》规定的不动产登记资料查询程序",
}


@dataclass(frozen=True)
class Variant:
    outcome: Outcome
    #: The year the reply is dated (2023: before reconsideration first).
    year: int

    @property
    def id(self) -> str:
        return f"{self.outcome.code}-{self.year}"


VARIANTS = [
    *(Variant(o, 2026) for o in DECIDABLE_OUTCOMES),
    Variant(OUTCOME_BY_CODE["other.supplement_lapsed"], 2026),
    Variant(OUTCOME_BY_CODE["other.fee_lapsed"], 2026),
    # Refusals and partial disclosure before the revised 行政复议法 (2024-01-01).
    *[Variant(o, 2023) for o in DECIDABLE_OUTCOMES if o.reconsideration_first][:2],
    Variant(OUTCOME_BY_CODE["withheld.enforcement_file"], 2023),
]


def intake(year: int) -> dict[str, str]:
    return {
        "applicant_name": "张三",
        "applicant_kind": "natural_person",
        "subject": "某地块征收补偿安置方案",
        "doc_numbers": "某府发〔2020〕1号",
        "channel": "in_person",
        "submitted_on": f"{year}-09-04",
    }


def fire(session, users, req: Request, role: str, trigger: str, on: str, **payload) -> None:
    actor = Actor.of(users[role])
    ops.fire(session, req, trigger, actor, NOW, {"effective_date": on, **payload})


def concluded(session, agency: Agency, users, variant: Variant) -> Request:
    """A request concluded with the variant's outcome, every required fact given."""
    year, code = variant.year, variant.outcome.code
    req = ops.register(session, Actor.of(users["registrar"]), NOW, intake(year), agency=agency)
    if code == "other.supplement_lapsed":
        fire(session, users, req, "registrar", "request_supplement", f"{year}-09-05",
             items="请写明文件名称", due_on=f"{year}-09-20")  # fmt: skip
        fire(session, users, req, "registrar", "supplement_lapsed", f"{year}-09-25")
        return req
    if code == "unavailable.still_unclear":
        fire(session, users, req, "registrar", "request_supplement", f"{year}-09-05",
             items="请写明文件名称", due_on=f"{year}-09-20")  # fmt: skip
        fire(session, users, req, "registrar", "receive_supplement", f"{year}-09-10")
    else:
        fire(session, users, req, "registrar", "accept", f"{year}-09-04")
    if code == "other.fee_lapsed":
        fire(session, users, req, "handler", "issue_fee_notice", f"{year}-09-08",
             method="per_page", pages=150, delivery="in_person")  # fmt: skip
        fire(session, users, req, "handler", "fee_lapsed", f"{year}-10-20")
        return req
    facts = {f: FACTS[f] for f in variant.outcome.requires}
    if code == "not_processed.petition":  # Art. 39 para 1: where the applicant was sent
        facts["referred_to"] = "某市信访局"
    if code == "not_processed.excessive":  # Art. 35: reasons asked for, and they failed
        fire(session, users, req, "handler", "request_reasons", f"{year}-09-07",
             matter="本月申请30余件", due_on=f"{year}-09-14")  # fmt: skip
        fire(session, users, req, "handler", "reasons_received", f"{year}-09-15",
             finding="unreasonable")  # fmt: skip
    if code == "not_processed.duplicate":  # Art. 36(六): the earlier request it cites
        earlier = ops.register(
            session, Actor.of(users["registrar"]), NOW, intake(year), agency=agency
        )
        fire(session, users, earlier, "registrar", "accept", f"{year}-09-04")
        fire(session, users, earlier, "handler", "decide", f"{year}-09-10",
             outcome="disclosed", delivery="post")  # fmt: skip
        facts["earlier"] = earlier.tracking_no
    fire(session, users, req, "handler", "decide", f"{year}-09-18",
         outcome=code, delivery="post", **facts)  # fmt: skip
    return req


def pdf_text(content: bytes) -> str:
    """The printed text (pdftotext, poppler), whitespace removed: lines wrap anywhere."""
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=content, capture_output=True, check=True
    )
    return "".join(done.stdout.decode("utf-8").split())


def squeeze(text: str) -> str:
    return "".join(text.split())


def expected_values(req: Request, variant: Variant, first: bool) -> dict[str, str | None]:
    """For each wording fact an element may need, the text the reply must show."""
    outcome = variant.outcome
    return {
        "received_on": cn_date(req.received_on),
        "tracking_no": req.tracking_no,
        "subject": req.subject,
        "outcome_code": None,  # the code itself is not printed: the wording checks below
        "basis": outcome.basis,
        "also_relies_on": squeeze(outcome.also_relies_on) or None,
        "delivery": "邮寄方式",
        "reconsideration_body": TEST_REMEDY_BODIES["reconsideration_body"],
        "reconsideration_days": "60日内",
        "court": TEST_REMEDY_BODIES["court"],
        # Reconsideration first: no direct lawsuit within 6 months is offered.
        "lawsuit_months": None if first else "6个月内",
        "lawsuit_after_days": "15日内",
        "complaint_body": nops.COMPLAINT_BODY,
        **{field: squeeze(value.rstrip("。")) for field, value in FACTS.items()},
    }


def missing_from(text: str, element: ReplyElement, values: dict[str, str | None]) -> list[str]:
    unknown = [n for n in element.needs if n not in values]
    assert not unknown, f"add what {element.code} prints for {unknown} to expected_values"
    wanted = [*element.phrases, *(v for n in element.needs if (v := values[n]))]
    return [w for w in wanted if squeeze(w) not in text]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_every_reply_variant_states_every_required_element(
    session, agency, users, variant: Variant
) -> None:
    req = concluded(session, agency, users, variant)
    notice = nops.issue_notice(
        session, Actor.of(users["handler"]), NOW, req, "reply", render=render_notice
    )
    session.commit()
    text = pdf_text(notice.content)
    outcome, decision = variant.outcome, variant.outcome.decidable
    first = reconsideration_first(outcome.code, notice.dated_on)
    assert first == (outcome.reconsideration_first and variant.year >= 2024)
    values = expected_values(req, variant, first)
    elements = reply_elements(outcome, reconsideration_first=first, decision=decision)
    assert {"request", "decision", "reconsideration", "lawsuit", "complaint"} <= {
        e.code for e in elements
    }
    missing = {e.code: m for e in elements if (m := missing_from(text, e, values))}
    assert missing == {}, f"{variant.id}: not on the printed reply: {missing}"
    # The remedies are the ones that apply, not both.
    assert ("应当先向行政复议机关申请行政复议" in text) == first
    assert ("6个月内" in text) == (not first)
    assert "有管辖权的" not in text  # named bodies, never a guess


def reply_text(session, agency, users, code: str, year: int = 2026) -> str:
    req = concluded(session, agency, users, Variant(OUTCOME_BY_CODE[code], year))
    notice = nops.issue_notice(
        session, Actor.of(users["handler"]), NOW, req, "reply", render=render_notice
    )
    session.commit()
    return pdf_text(notice.content)


def test_not_held_and_not_responsible_are_two_answers(session, agency, users) -> None:
    """Art. 36(四) says the information does not exist; 36(五) names who holds it."""
    absent = reply_text(session, agency, users, "unavailable.not_held")
    elsewhere = reply_text(session, agency, users, "unavailable.not_responsible")
    assert "该政府信息不存在" in absent and "第三十六条第（四）项" in absent
    assert "第（五）项" not in absent and FACTS["responsible_agency"] not in absent
    assert "第三十六条第（五）项" in elsewhere and "该政府信息不存在" not in elsewhere
    assert FACTS["responsible_agency"] in elsewhere
    assert squeeze(FACTS["responsible_contact"]) in elsewhere


def test_published_information_is_pointed_to_not_mailed(session, agency, users) -> None:
    """Art. 36(一): the reply gives the route, and mails only itself."""
    text = reply_text(session, agency, users, "disclosed.published")
    assert "第三十六条第（一）项" in text and squeeze(FACTS["publication_route"]) in text
    assert "邮寄方式向您提供所申请的政府信息" not in text
    assert "邮寄方式向您提供本答复书" in text
    provided = reply_text(session, agency, users, "disclosed")
    assert "第三十六条第（二）项" in provided and "第（一）项" not in provided


def test_administrative_query_is_a_referral_not_a_refusal(session, agency, users) -> None:
    """Art. 36(七): tell the applicant which procedure to use; not 不予公开, no 复议前置."""
    text = reply_text(session, agency, users, "withheld.administrative_query")
    assert squeeze(FACTS["referral_procedure"]) in text
    assert "不予公开" not in text
    assert "应当先向行政复议机关申请行政复议" not in text


def test_withheld_replies_name_the_law_and_the_secrecy_basis(session, agency, users) -> None:
    law = reply_text(session, agency, users, "withheld.prohibited_by_law")
    assert FACTS["legal_provision"] in law and FACTS["grounds"] in law
    secret = reply_text(session, agency, users, "withheld.state_secret")
    assert FACTS["secret_basis"] in secret and FACTS["grounds"] in secret


def test_publication_refusal_gives_the_route(session, agency, users) -> None:
    """Art. 39 para 2: for a 公开出版物, where to obtain it, not a restatement of the law."""
    text = reply_text(session, agency, users, "not_processed.publication")
    assert squeeze(FACTS["publication_route"]) in text
    assert "可以告知获取的途径" not in text


def test_lapse_notices_carry_a_delivery_sentence(session, agency, users) -> None:
    text = reply_text(session, agency, users, "other.supplement_lapsed")
    assert "本机关将依法向您送达本告知书" in text


# --------------------------------------------------------------------------- refusals


def test_no_reply_without_the_agencys_reconsideration_body_and_court(
    session, agency, users
) -> None:
    """行政复议法 Arts. 24, 27: the reply names them, so an agency without them issues none,
    and the refusal tells what to fill in and where."""
    agency.reconsideration_body = agency.court = None
    session.commit()
    req = concluded(session, agency, users, Variant(OUTCOME_BY_CODE["disclosed"], 2026))
    session.commit()
    handler = Actor.of(users["handler"])
    with pytest.raises(GuardError) as refused:
        nops.issue_notice(session, handler, NOW, req, "reply", render=render_notice)
    reason = "".join(refused.value.reasons)
    assert "行政复议机关和管辖法院" in reason and "set-agency-remedies" in reason
    session.rollback()
    assert session.query(Notice).filter_by(request_id=req.id).count() == 0
    admin_ops.set_agency_remedies(
        session, agency.code, {"reconsideration_body": "某市人民政府", "court": "某区人民法院"}
    )
    notice = nops.issue_notice(session, handler, NOW, req, "reply", render=render_notice)
    text = pdf_text(notice.content)
    assert "向某市人民政府申请行政复议" in text and "向某区人民法院提起行政诉讼" in text


def test_a_reply_missing_a_required_element_is_refused() -> None:
    """The check behind every reply: any need of any element missing → refused, named."""
    outcome = OUTCOME_BY_CODE["unavailable.not_responsible"]
    elements = reply_elements(outcome, reconsideration_first=False)
    complete = {n: "x" for e in elements for n in e.needs}
    nops.check_reply_elements(elements, complete)
    for need in ("responsible_contact", "grounds", "basis", "subject"):
        with pytest.raises(GuardError) as refused:
            nops.check_reply_elements(elements, {**complete, need: ""})
        labels = [e.label for e in elements if need in e.needs]
        assert any(label in "".join(refused.value.reasons) for label in labels), need
