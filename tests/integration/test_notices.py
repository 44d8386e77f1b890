"""The notices (docs/domain.md §9): issued from the log, numbered, stored, served once, as PDFs.

Texts are read back from the PDFs with pypdf and compared with all whitespace removed,
because the layout wraps lines anywhere in a Chinese sentence.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from documents.notices_pdf import render_notice
from models import Agency, Event, Notice, Request
from models.notice import NoticeImmutableError
from tests.conftest import NOW, TEST_REMEDY_BODIES, login, make_user
from tests.waiting import wait_until
from workflow.admin.demo import DEMO_FACTS
from workflow.catalog.outcomes import DECIDABLE_OUTCOMES, OUTCOME_BY_CODE, Outcome
from workflow.kernel.actor import Actor
from workflow.kernel.errors import (
    ConflictError,
    GuardError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from workflow.notices import operations as nops
from workflow.notices.document import NoticeDocument
from workflow.requests import operations as ops

INTAKE = {
    "applicant_name": "张三",
    "applicant_kind": "natural_person",
    "id_type": "passport",
    "id_number": "E12345678",
    "subject": "某地块征收补偿安置方案",
    "channel": "in_person",
    "submitted_on": "2026-09-24",
}
REMEDY = "申请行政复议"
LAWSUIT_6_MONTHS = "6个月内依法向测试市人民法院提起行政诉讼"
RECONSIDERATION_FIRST = "应当先向行政复议机关申请行政复议"
GROUNDS = {"grounds": "理由甲：所涉信息含有第三方商业秘密。"}


def actor(users, role: str) -> Actor:
    return Actor.of(users[role])


def register(session, agency: Agency, users, **over: str) -> Request:
    req = ops.register(session, actor(users, "registrar"), NOW, {**INTAKE, **over}, agency=agency)
    session.flush()
    return req


def fire(session, users, req: Request, role: str, trigger: str, on: str, **payload) -> Event:
    return ops.fire(
        session, req, trigger, actor(users, role), NOW, {"effective_date": on, **payload}
    )


def decided(session, agency, users, outcome: str, on: str = "2026-10-10", **over) -> Request:
    cite = {}
    if outcome == "not_processed.duplicate":
        # A 重复申请 names this applicant's answered earlier request (Art. 36(六)).
        earlier = decided(session, agency, users, "disclosed", on=on, **over)
        cite = {"earlier": earlier.tracking_no}
    req = register(session, agency, users, **over)
    received = over.get("submitted_on", "2026-09-24")
    if outcome == "unavailable.still_unclear":  # Art. 30: only after an answered 补正
        supplement = {"items": "请写明地块位置", "due_on": "2026-10-09"}
        fire(session, users, req, "registrar", "request_supplement", received, **supplement)
        fire(session, users, req, "registrar", "receive_supplement", received)
    else:
        fire(session, users, req, "registrar", "accept", received)
    extra = {}
    if outcome == "not_processed.petition":  # Art. 39 para 1: where the applicant goes
        extra["referred_to"] = "某市信访局"
    if outcome == "not_processed.excessive":  # Art. 35: asked for reasons first
        asked = {"matter": "本月申请30余件", "due_on": "2026-10-09"}
        fire(session, users, req, "handler", "request_reasons", received, **asked)
        fire(session, users, req, "handler", "reasons_received", on, finding="none")
    fire(
        session,
        users,
        req,
        "handler",
        "decide",
        on,
        outcome=outcome,
        delivery="post",
        **{**{f: DEMO_FACTS[f] for f in OUTCOME_BY_CODE[outcome].requires}, **GROUNDS},
        **cite,
        **extra,
    )
    return req


def issue(session, users, req: Request, kind: str, role: str = "handler") -> Notice:
    notice = nops.issue_notice(session, actor(users, role), NOW, req, kind, render=render_notice)
    session.commit()
    return notice


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def outcome_name(outcome: Outcome) -> str:
    """The outcome as a letter names it: the row label without its report numbering."""
    if outcome.label == outcome.group.label:
        return outcome.short
    return re.sub(r"^\d+\.", "", outcome.label)


def assert_common(notice: Notice, req: Request, agency: Agency) -> str:
    body = pdf_text(notice.content)
    assert notice.number in body
    assert agency.name in body
    assert req.tracking_no in body
    assert notice.content_hash == hashlib.sha256(notice.content).hexdigest()
    return body


# --------------------------------------------------------------------------- wording


@pytest.mark.parametrize("outcome", DECIDABLE_OUTCOMES, ids=lambda o: o.code)
def test_reply_for_every_decidable_outcome(session, agency, users, outcome: Outcome) -> None:
    req = decided(session, agency, users, outcome.code)
    notice = issue(session, users, req, "reply")
    assert (notice.kind, notice.outcome, notice.dated_on) == (
        "reply",
        outcome.code,
        date(2026, 10, 10),
    )
    body = assert_common(notice, req, agency)
    if not outcome.answer:  # two answers of one row: their wording, test_reply_texts.py
        assert outcome_name(outcome) in body
    if outcome.basis != "—":
        assert outcome.basis in body
    assert "2026年9月24日" in body and INTAKE["subject"] in body
    assert REMEDY in body
    if outcome.reconsideration_first:
        assert RECONSIDERATION_FIRST in body
    else:
        assert LAWSUIT_6_MONTHS in body
        assert RECONSIDERATION_FIRST not in body
    if "grounds" in outcome.requires:
        assert "理由甲：所涉信息含有第三方商业秘密" in body
    if outcome.group.code in ("disclosed", "partially_disclosed"):
        assert "通过邮寄方式向您提供" in body


def test_duplicate_reply_cites_the_earlier_request_and_its_reply(session, agency, users) -> None:
    earlier = decided(session, agency, users, "disclosed", on="2026-10-09")
    first = issue(session, users, earlier, "reply")
    req = register(session, agency, users)
    fire(session, users, req, "registrar", "accept", "2026-09-24")
    with pytest.raises(GuardError, match="须选择本申请人已获答复的在先申请"):
        fire(
            session,
            users,
            req,
            "handler",
            "decide",
            "2026-10-10",
            outcome="not_processed.duplicate",
            delivery="post",
        )
    session.rollback()
    stranger = register(session, agency, users, applicant_name="王五")
    fire(session, users, stranger, "registrar", "accept", "2026-09-24")
    with pytest.raises(GuardError, match="不是本申请人已办结的在先申请"):
        fire(
            session,
            users,
            req,
            "handler",
            "decide",
            "2026-10-10",
            outcome="not_processed.duplicate",
            delivery="post",
            earlier=stranger.tracking_no,
        )
    session.rollback()
    fire(
        session,
        users,
        req,
        "handler",
        "decide",
        "2026-10-10",
        outcome="not_processed.duplicate",
        delivery="post",
        earlier=earlier.tracking_no,
    )
    body = pdf_text(issue(session, users, req, "reply").content)
    assert f"申请编号{earlier.tracking_no}" in body
    assert first.number.replace(" ", "") in body and "2026年10月9日" in body


def test_refusal_decided_before_2024_may_go_straight_to_court(session, agency, users) -> None:
    req = decided(
        session, agency, users, "withheld.state_secret", on="2023-12-20", submitted_on="2023-12-01"
    )
    body = pdf_text(issue(session, users, req, "reply").content)
    assert RECONSIDERATION_FIRST not in body
    assert LAWSUIT_6_MONTHS in body


def test_reply_names_the_agencys_reconsideration_body(session, users) -> None:
    """The 复议机关 is the agency's setting (issue 13), not guessed from the tree."""
    top = Agency(code="county", name="某某县人民政府", **TEST_REMEDY_BODIES)
    dept = Agency(
        code="county-land",
        name="某某县自然资源局",
        parent=top,
        reconsideration_body="某某县人民政府",
        court="某某县人民法院",
    )
    session.add_all([top, dept])
    session.commit()
    staff = {r: make_user(session, dept, f"d-{r}", r) for r in ("registrar", "handler")}
    req = decided(session, dept, staff, "disclosed")
    body = pdf_text(issue(session, staff, req, "reply").content)
    assert "60日内向某某县人民政府申请行政复议" in body


@pytest.mark.parametrize(
    ("trigger", "outcome", "sentence"),
    [
        ("supplement_lapsed", "other.supplement_lapsed", "视为放弃申请"),
        # The notice's date, and the fee measures' 20-working-day rule beside Art. 42 (D21).
        ("fee_lapsed", "other.fee_lapsed", "本机关已于2026年9月28日向您发出信息处理费收费通知"),
    ],
)
def test_lapsed_requests_get_a_reply_too(
    session, agency, users, trigger, outcome, sentence
) -> None:
    req = register(session, agency, users)
    if trigger == "supplement_lapsed":
        payload = {"items": "请写明地块位置", "due_on": "2026-10-09"}
        fire(session, users, req, "registrar", "request_supplement", "2026-09-25", **payload)
        fire(session, users, req, "registrar", trigger, "2026-10-12")
    else:
        fire(session, users, req, "registrar", "accept", "2026-09-24")
        payload = {"method": "per_page", "pages": 60}
        fire(session, users, req, "handler", "issue_fee_notice", "2026-09-28", **payload)
        fire(session, users, req, "handler", trigger, "2026-11-10")
    notice = issue(session, users, req, "reply")
    assert notice.outcome == outcome
    body = assert_common(notice, req, agency)
    assert outcome_name(OUTCOME_BY_CODE[outcome]) in body
    assert sentence in body and OUTCOME_BY_CODE[outcome].basis in body
    assert LAWSUIT_6_MONTHS in body
    cites_measures = "国办函〔2020〕109号）关于“申请人应当在收到收费通知次日起20个工作日内" in body
    assert cites_measures == (trigger == "fee_lapsed")


def test_receipt_states_the_legal_receipt_date_and_reply_deadline(session, agency, users) -> None:
    req = register(session, agency, users)
    notice = issue(session, users, req, "receipt", role="registrar")
    body = assert_common(notice, req, agency)
    assert "接收回执" in body
    assert "收到申请日期2026年9月24日" in body
    assert "即于2026年10月29日前作出答复" in body  # docs/domain.md §3 worked example
    assert "当面提交的，以提交之日为收到申请之日" in body
    assert notice.dated_on == date(2026, 9, 24)


def test_supplement_notice_lists_items_deadline_and_consequence(session, agency, users) -> None:
    req = register(session, agency, users)
    payload = {"items": "请写明所需文件的文号", "due_on": "2026-10-20"}
    fire(session, users, req, "registrar", "request_supplement", "2026-09-28", **payload)
    body = assert_common(issue(session, users, req, "supplement"), req, agency)
    assert "需要补正的事项：请写明所需文件的文号" in body
    assert "请于2026年10月20日前" in body
    assert "视为放弃申请" in body


def test_extension_notice_gives_days_and_the_new_deadline(session, agency, users) -> None:
    req = register(session, agency, users)
    fire(session, users, req, "registrar", "accept", "2026-09-24")
    payload = {"days": 10, "reason": "需要调取档案", "approver": "approver"}
    fire(session, users, req, "approver", "extend", "2026-10-20", **payload)
    body = assert_common(issue(session, users, req, "extension", role="approver"), req, agency)
    assert "答复期限延长10个工作日" in body
    assert "由原定的2026年10月29日延长至2026年11月12日" in body
    assert "因需要调取档案" in body


@pytest.mark.parametrize(
    ("trigger", "kind", "sentence"),
    [
        ("consult_third_party", "consultation_third_party", "第三十二条"),
        ("consult_agency", "consultation_agency", "逾期未提出意见的，视为同意公开"),
    ],
)
def test_consultation_letters(session, agency, users, trigger, kind, sentence) -> None:
    req = register(session, agency, users)
    fire(session, users, req, "registrar", "accept", "2026-09-24")
    fire(session, users, req, "handler", trigger, "2026-10-22", party="某置业有限公司")
    body = assert_common(issue(session, users, req, kind), req, agency)
    assert body.count("某置业有限公司") == 1 and "某置业有限公司：" in body
    assert "15个工作日内，即于2026年11月12日前" in body
    assert sentence in body
    assert INTAKE["applicant_name"] not in body  # the third party is not told who asked


def fee_notice_body(session, agency, users, req: Request, method: str, **fee: int) -> str:
    fire(session, users, req, "registrar", "accept", "2026-09-24")
    fee = {"method": method, **fee}
    fire(session, users, req, "handler", "issue_fee_notice", "2026-09-28", **fee)
    return assert_common(issue(session, users, req, "fee"), req, agency)


def test_fee_notice_per_request_explains_the_tier(session, agency, users) -> None:
    """The 12th request of the applicant's month costs 100 元 (docs/domain.md §8)."""
    for day in range(1, 12):
        register(session, agency, users, submitted_on=f"2026-09-{day:02d}")
    other = register(session, agency, users, submitted_on="2026-09-02", id_number="G999")
    req = register(session, agency, users, submitted_on="2026-09-24")
    assert other.id < req.id
    body = fee_notice_body(session, agency, users, req, "per_request", amount=100)
    assert "第12件政府信息公开申请" in body
    assert "人民币100元（大写：壹佰元整）" in body
    assert "第12件每件100元，1件×100元=100元；合计100元" in body
    assert "20个工作日内缴纳" in body and "2026年10月30日前" in body


def test_fee_notice_per_page_computes_the_amount_from_the_pages(session, agency, users) -> None:
    req = register(session, agency, users)
    body = fee_notice_body(session, agency, users, req, "per_page", pages=102)
    assert "按量计收（共102页）：第1—30页免费；第31—100页每页10元，70页×10元=700元；" in body
    assert "第101—102页每页20元，2页×20元=40元；合计740元" in body
    assert "人民币740元（大写：柒佰肆拾元整）" in body
    assert "视为放弃申请" in body


# --------------------------------------------------------------------------- rules


def test_numbers_run_per_agency_and_year_across_kinds(session, agency, users) -> None:
    first = register(session, agency, users)
    second = register(session, agency, users)
    last_year = register(session, agency, users, submitted_on="2025-12-30")
    numbers = [
        issue(session, users, first, "receipt").number,
        issue(session, users, second, "receipt").number,
        issue(session, users, last_year, "receipt").number,
    ]
    fire(session, users, first, "registrar", "accept", "2026-09-24")
    payload = {"days": 5, "reason": "调档", "approver": "approver"}
    fire(session, users, first, "approver", "extend", "2026-10-20", **payload)
    numbers.append(issue(session, users, first, "extension").number)
    assert numbers == [
        "测试机关依申〔2026〕第1号",
        "测试机关依申〔2026〕第2号",
        "测试机关依申〔2025〕第1号",
        "测试机关依申〔2026〕第3号",
    ]
    elsewhere = Agency(code="elsewhere", name="另一机关")
    session.add(elsewhere)
    session.commit()
    staff = {"registrar": make_user(session, elsewhere, "e-reg", "registrar")}
    elsewhere_req = register(session, elsewhere, staff)
    assert issue(session, staff, elsewhere_req, "receipt", role="registrar").number == (
        "另一机关依申〔2026〕第1号"
    )


def test_a_kind_must_fit_the_history(session, agency, users) -> None:
    req = register(session, agency, users)
    with pytest.raises(GuardError, match="还没有“作出答复”"):
        nops.issue_notice(session, actor(users, "handler"), NOW, req, "reply", render=render_notice)
    with pytest.raises(GuardError, match="不能出具延期答复告知书"):
        nops.issue_notice(
            session, actor(users, "handler"), NOW, req, "extension", render=render_notice
        )
    register_event = ops.history(session, req)[0]
    with pytest.raises(GuardError, match="所选办理记录"):
        nops.issue_notice(
            session,
            actor(users, "handler"),
            NOW,
            req,
            "reply",
            register_event,
            render=render_notice,
        )
    with pytest.raises(NotFound):
        nops.issue_notice(
            session, actor(users, "handler"), NOW, req, "summons", render=render_notice
        )
    with pytest.raises(PermissionDenied):
        nops.issue_notice(
            session, actor(users, "viewer"), NOW, req, "receipt", render=render_notice
        )


def test_an_event_gets_one_notice_and_a_voided_request_none(session, agency, users) -> None:
    req = register(session, agency, users)
    first = issue(session, users, req, "receipt")
    with pytest.raises(ConflictError, match=re.escape(first.number)):
        nops.issue_notice(
            session, actor(users, "handler"), NOW, req, "receipt", render=render_notice
        )
    session.rollback()
    other = register(session, agency, users)
    fire(session, users, other, "approver", "void", "2026-09-25", reason="重复登记")
    with pytest.raises(GuardError, match="已作废"):
        nops.issue_notice(
            session, actor(users, "handler"), NOW, other, "receipt", render=render_notice
        )


def test_issuable_notices_follow_the_history(session, agency, users) -> None:
    req = register(session, agency, users)
    roles = users["handler"].roles

    def kinds() -> list[str]:
        events = ops.history(session, req)
        return [
            k.code
            for k, _ in nops.issuable_notices(req, events, nops.notices_of(session, req), roles)
        ]

    assert kinds() == ["receipt"]
    issue(session, users, req, "receipt")
    assert kinds() == []
    fire(session, users, req, "registrar", "accept", "2026-09-24")
    fire(
        session, users, req, "handler", "decide", "2026-10-10", outcome="disclosed", delivery="post"
    )
    assert kinds() == ["reply"]
    assert nops.issuable_notices(req, ops.history(session, req), [], frozenset({"viewer"})) == []


def test_service_is_recorded_once_and_moves_the_remedy_deadlines(session, agency, users) -> None:
    req = decided(session, agency, users, "withheld.third_party", on="2026-10-10")
    reply = issue(session, users, req, "reply")
    events = ops.history(session, req)
    before = nops.remedy_deadlines(events, [reply])
    assert before is not None and before.learned_on == date(2026, 10, 10)

    with pytest.raises(ValidationError, match="不能晚于今天"):
        nops.record_service(session, actor(users, "handler"), NOW, reply, "2026-11-21")
    with pytest.raises(ValidationError, match="不能早于文书日期"):
        nops.record_service(session, actor(users, "handler"), NOW, reply, "2026-10-09")
    with pytest.raises(ValidationError):
        nops.record_service(session, actor(users, "handler"), NOW, reply, "十月")
    nops.record_service(session, actor(users, "registrar"), NOW, reply, "2026-10-14")
    session.commit()
    session.expire_all()
    assert reply.served_on == date(2026, 10, 14) and reply.served_by_id == users["registrar"].id

    after = nops.remedy_deadlines(events, [reply])
    assert after is not None and after.learned_on == date(2026, 10, 14)
    # 60 days end on Sunday 12-13: the period runs to the next working day (民诉法 Art. 85).
    assert after.reconsideration_by == date(2026, 12, 14)
    assert after.lawsuit_by == date(2027, 4, 14)
    with pytest.raises(GuardError, match="送达日期不能更改"):
        nops.record_service(session, actor(users, "handler"), NOW, reply, "2026-10-15")


def test_issued_notices_cannot_be_changed_or_deleted(session, engine, agency, users) -> None:
    notice = issue(session, users, register(session, agency, users), "receipt")
    notice.content = b"%PDF forged"
    with pytest.raises(NoticeImmutableError):
        session.flush()
    session.rollback()
    notice.served_on = date(2026, 9, 25)
    session.commit()
    notice.served_on = date(2026, 9, 26)
    with pytest.raises(NoticeImmutableError):
        session.flush()
    session.rollback()
    session.delete(notice)
    with pytest.raises(NoticeImmutableError):
        session.flush()
    session.rollback()
    # …and the database refuses it too, whatever the code does.
    for statement in (
        "UPDATE notices SET content_hash = 'x'",
        "UPDATE notices SET served_on = '2026-09-27'",
        "DELETE FROM notices",
    ):
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(statement))


def test_rendering_is_deterministic(session, agency, users) -> None:
    """Invariant mode: the same notice renders to the same bytes (no timestamps, no IDs)."""
    context = {
        "regulation": nops.REGULATION,
        "applicant": "张三",
        "tracking_no": "2026-0009",
        "received_on": date(2026, 9, 24),
        "items": "请写明文号",
        "due_on": date(2026, 10, 20),
    }
    doc = NoticeDocument(
        "测试机关", "测试机关依申〔2026〕第9号", date(2026, 10, 10), "supplement", context
    )
    first = render_notice(doc)
    # A PDF time stamp has seconds: render again only once the clock shows another one.
    rendered_at = int(time.time())
    wait_until(lambda: int(time.time()) > rendered_at, 2, "the next second")
    assert render_notice(doc) == first
    other = NoticeDocument(
        "测试机关",
        "测试机关依申〔2026〕第9号",
        date(2026, 10, 10),
        "supplement",
        {**context, "applicant": "李四"},
    )
    assert render_notice(other) != first  # the bytes are the notice's, not a constant


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm: bash tools/system-deps.sh")
def test_pdftoppm_renders_every_page_with_ink(session, agency, users, tmp_path: Path) -> None:
    from PIL import Image

    req = decided(session, agency, users, "partially_disclosed")
    notice = issue(session, users, req, "reply")
    pdf = tmp_path / "reply.pdf"
    pdf.write_bytes(notice.content)
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == len(PdfReader(io.BytesIO(notice.content)).pages) >= 1
    for page in pages:
        gray = Image.open(page).convert("L")
        dark = sum(gray.histogram()[:128])
        assert dark > 500, f"{page.name} is (nearly) blank"
    red = Image.open(pages[0]).convert("RGB")
    colours = red.getcolors(maxcolors=1 << 24) or []
    assert any(r > 150 and g < 80 and b < 80 for _, (r, g, b) in colours)  # the letterhead


# --------------------------------------------------------------------------- web


def client_for(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 200
    return client


def test_issue_download_and_serve_through_the_pages(app, session, agency, users) -> None:
    req = decided(session, agency, users, "disclosed")
    session.commit()
    clerk = client_for(app, "handler")
    page = clerk.get(f"/requests/{req.id}")
    assert "出具接收回执" in page.text and "出具答复书" in page.text

    posted = clerk.post(f"/requests/{req.id}/notices", data={"kind": "reply"})
    assert posted.status_code == 303 and posted.headers["Location"].endswith("#documents")
    notice = session.scalars(select(Notice).where(Notice.request_id == req.id)).one()
    page = clerk.get(f"/requests/{req.id}")
    assert notice.number in page.text and notice.content_hash[:12] in page.text
    assert 'value="reply"' not in page.text and "记录送达" in page.text

    first = clerk.get(f"/notices/{notice.id}.pdf")
    second = clerk.get(f"/notices/{notice.id}.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.data == second.data == notice.content
    assert hashlib.sha256(first.data).hexdigest() == notice.content_hash
    disposition = first.headers["Content-Disposition"]
    assert f'filename="notice-2026-{notice.serial}.pdf"' in disposition
    assert "filename*=UTF-8''%E6%B5%8B%E8%AF%95%E6%9C%BA%E5%85%B3" in disposition
    assert (
        clerk.get(
            f"/notices/{notice.id}.pdf", headers={"If-None-Match": first.headers["ETag"]}
        ).status_code
        == 304
    )

    served = clerk.post(
        f"/notices/{notice.id}/served", data={"served_on": "2026-10-12"}, follow_redirects=True
    )
    assert "已记录" in served.text and "自送达之日 2026-10-12 起算" in served.text
    again = clerk.post(
        f"/notices/{notice.id}/served", data={"served_on": "2026-10-13"}, follow_redirects=True
    )
    assert "送达日期不能更改" in again.text
    session.expire_all()
    assert session.get(Notice, notice.id).served_on == date(2026, 10, 12)

    twice = clerk.post(f"/requests/{req.id}/notices", data={"kind": "reply"}, follow_redirects=True)
    assert "如需再次打印请下载原件" in twice.text


def test_roles_and_agencies(app, session, agency, users) -> None:
    req = register(session, agency, users)
    notice = issue(session, users, req, "receipt")
    session.commit()

    viewer = client_for(app, "viewer")
    assert viewer.post(f"/requests/{req.id}/notices", data={"kind": "receipt"}).status_code == 403
    assert (
        viewer.post(f"/notices/{notice.id}/served", data={"served_on": "2026-09-24"}).status_code
        == 403
    )
    assert viewer.get(f"/notices/{notice.id}.pdf").status_code == 200  # reading is fine
    assert "记录送达" not in viewer.get(f"/requests/{req.id}").text

    other = Agency(code="other", name="其他机关")
    session.add(other)
    session.commit()
    make_user(session, other, "stranger", "handler")
    stranger = client_for(app, "stranger")
    assert stranger.post(f"/requests/{req.id}/notices", data={"kind": "receipt"}).status_code == 404
    assert stranger.get(f"/notices/{notice.id}.pdf").status_code == 404
    assert (
        stranger.post(f"/notices/{notice.id}/served", data={"served_on": "2026-09-24"}).status_code
        == 404
    )
    assert stranger.get("/notices/999999.pdf").status_code == 404

    superior = Agency(code="superior", name="上级机关")
    session.add(superior)
    session.flush()
    agency.parent_id = superior.id
    session.commit()
    make_user(session, superior, "boss", "handler")
    boss = client_for(app, "boss")
    assert boss.get(f"/notices/{notice.id}.pdf").status_code == 200
    assert (
        boss.post(f"/notices/{notice.id}/served", data={"served_on": "2026-09-24"}).status_code
        == 403
    )
