"""The legal officer's pages (复议 / 诉讼) through the Flask test client.

Like ``test_pages``, the app runs on the real clock, so every effective date here is
relative to the agency-local today and never in the future.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from models import Agency, Challenge, ChallengeEvent, Request
from tests.conftest import PASSWORD, decision_facts, make_user
from tests.integration.test_pages import client_for, count, days_ago, intake, reload
from workflow.challenges import operations as cops
from workflow.challenges.remedies import reconsideration_decision_by
from workflow.kernel.actor import Actor
from workflow.kernel.calendar import DEFAULT_CALENDAR
from workflow.requests.operations import fire, register


def replied_request(session, agency, users, outcome: str = "disclosed") -> Request:
    """A request received 60 days ago and answered 40 days ago with ``outcome``."""
    now = datetime.now(UTC)
    clerk = Actor.of(users["registrar"])
    req = register(session, clerk, now, intake(submitted_on=days_ago(60)), agency=agency)
    fire(session, req, "accept", clerk, now, {"effective_date": days_ago(60)})
    fire(
        session,
        req,
        "decide",
        Actor.of(users["handler"]),
        now,
        {
            "effective_date": days_ago(40),
            "outcome": outcome,
            "delivery": "post",
            **decision_facts(outcome),
        },
    )
    session.commit()
    return req


def file_via_page(client, request_id: int, **data: str) -> int:
    page = client.post(f"/requests/{request_id}/challenges/new", data=data)
    assert page.status_code == 302, page.text
    match = re.search(r"/challenges/(\d+)$", page.headers["Location"])
    assert match
    return int(match.group(1))


def case_act(client, session, case_id: int, trigger: str, **data: str):
    session.expire_all()
    version = session.get(Challenge, case_id).version
    return client.post(
        f"/challenges/{case_id}/act/{trigger}", data={"expected_version": str(version), **data}
    )


LAWSUIT = {
    "effective_date": days_ago(20),
    "kind": "litigation",
    "route": "direct",
    "body": "某某区人民法院",
    "case_no": "（2026）某0102行初17号",
    "instance": "first",
}
RECONSIDERATION = {
    "effective_date": days_ago(30),
    "kind": "reconsideration",
    "body": "某某区人民政府",
    "case_no": "某府复〔2026〕8号",
}


@pytest.fixture
def replied(session, agency, users) -> Request:
    return replied_request(session, agency, users)


# --------------------------------------------------------------------------- the legal officer


def test_lawsuit_filed_from_request_page_and_judged(app, session, users, replied):
    legal = client_for(app, "legal")
    page = legal.get(f"/requests/{replied.id}").text
    assert "复议与诉讼" in page
    assert "申请行政复议期限" in page and "提起行政诉讼期限" in page
    assert "没有登记的复议或诉讼案件" in page
    new_url = f"/requests/{replied.id}/challenges/new"
    assert f'href="{new_url}"' in page

    form = legal.get(new_url)
    assert form.status_code == 200
    assert "申请行政复议期限" in form.text  # the remedy periods above the form
    assert '<option value="litigation">行政诉讼</option>' in form.text
    assert "未经复议直接起诉的提示" not in form.text  # not a refusal

    case_id = file_via_page(legal, replied.id, **LAWSUIT)
    shown = legal.get(f"/challenges/{case_id}")
    assert shown.status_code == 200
    assert f'href="/requests/{replied.id}"' in shown.text and replied.tracking_no in shown.text
    assert "已登记行政诉讼（未经复议直接起诉）案件" in shown.text  # the flash
    assert "一审" in shown.text and "某某区人民法院" in shown.text and "审理中" in shown.text
    pending = (date.fromisoformat(days_ago(0)) - date.fromisoformat(LAWSUIT["effective_date"])).days
    assert "审理天数" in shown.text and f"已 {pending} 天" in shown.text
    assert f"/challenges/{case_id}/act/conclude" in shown.text

    conclude_form = legal.get(f"/challenges/{case_id}/act/conclude")
    assert conclude_form.status_code == 200
    assert "判决驳回原告诉讼请求" in conclude_form.text
    done = case_act(
        legal,
        session,
        case_id,
        "conclude",
        effective_date=days_ago(5),
        result="claims_dismissed",
        document_no="判决书",
    )
    assert done.status_code == 302, done.text
    after = legal.get(done.headers["Location"]).text
    assert "已记录“记录审理结果”，案件状态：已审结" in after
    assert "判决驳回原告诉讼请求" in after
    assert f"/challenges/{case_id}/act/appeal" in after

    request_page = legal.get(f"/requests/{replied.id}").text
    assert LAWSUIT["case_no"] in request_page
    assert f'href="/challenges/{case_id}"' in request_page
    assert "已审结" in request_page and "判决驳回原告诉讼请求" in request_page

    listing = legal.get("/challenges").text
    assert LAWSUIT["case_no"] in listing and "最近审结或作废" in listing
    assert reload(session, replied.id).state == "concluded"  # upheld: nothing reopens

    appeal = case_act(
        legal,
        session,
        case_id,
        "appeal",
        effective_date=days_ago(2),
        instance="second",
        body="某某市中级人民法院",
        case_no="（2026）某01行终3号",
    )
    assert appeal.status_code == 302, appeal.text
    listing = legal.get("/challenges?kind=litigation&state=pending").text
    assert "（2026）某01行终3号" in listing and "二审" in listing
    assert "前一审级：判决驳回原告诉讼请求" in legal.get(f"/requests/{replied.id}").text


def test_reconsideration_shows_reference_decision_deadline(app, session, users, replied):
    legal = client_for(app, "legal")
    case_id = file_via_page(legal, replied.id, **RECONSIDERATION)
    page = legal.get(f"/challenges/{case_id}").text
    # 60 days from filing, moved past a rest day (民诉法 Art. 85), or 30 when simplified.
    filed = date.fromisoformat(RECONSIDERATION["effective_date"])
    due = reconsideration_decision_by(filed, DEFAULT_CALENDAR)
    today = date.fromisoformat(days_ago(0))
    assert "复议决定期限（参考）" in page and f"还有 {(due - today).days} 天" in page
    assert "适用简易程序的为30日" in page
    listing = legal.get("/challenges").text
    assert "复议决定期限（参考）" in listing and RECONSIDERATION["case_no"] in listing
    assert "行政复议" in legal.get("/challenges?kind=reconsideration").text
    assert RECONSIDERATION["case_no"] not in legal.get("/challenges?kind=litigation").text


def test_result_ordering_new_reply_reopens_request(app, session, users, replied):
    legal = client_for(app, "legal")
    case_id = file_via_page(legal, replied.id, **RECONSIDERATION)
    done = case_act(
        legal, session, case_id, "conclude", effective_date=days_ago(3), result="revoked_new_reply"
    )
    assert done.status_code == 302, done.text
    page = legal.get(done.headers["Location"]).text
    assert "申请已转为重新办理" in page
    req = reload(session, replied.id)
    assert req.state == "in_review"
    request_page = legal.get(f"/requests/{replied.id}").text
    assert "重新办理" in request_page and RECONSIDERATION["case_no"] in request_page
    # A decided reconsideration shows the 15 days to sue afterwards.
    assert "复议后起诉期限（参考）" in legal.get(f"/challenges/{case_id}").text


def test_direct_lawsuit_against_refusal_is_warned(app, session, agency, users):
    refused = replied_request(session, agency, users, outcome="withheld.state_secret")
    legal = client_for(app, "legal")
    form = legal.get(f"/requests/{refused.id}/challenges/new").text
    assert "未经复议直接起诉的提示" in form and "第二十三条" in form

    page = legal.post(f"/requests/{refused.id}/challenges/new", data=LAWSUIT, follow_redirects=True)
    assert page.status_code == 200
    assert 'class="flash flash-warning"' in page.text
    assert "应当先申请行政复议" in page.text
    assert 'class="box box-warning warning-note"' in page.text  # in the case's log too
    [case] = session.scalars(select(Challenge)).all()
    assert case.route == "direct"  # warned, not refused


def test_guard_refusal_is_shown_on_the_form(app, session, users, replied):
    legal = client_for(app, "legal")
    page = legal.post(
        f"/requests/{replied.id}/challenges/new", data={**RECONSIDERATION, "route": "direct"}
    )
    assert page.status_code == 400
    assert "行政复议不选择起诉方式" in page.text
    after = legal.post(
        f"/requests/{replied.id}/challenges/new",
        data={**LAWSUIT, "route": "after_reconsideration", "prior_case_no": "不存在"},
    )
    assert after.status_code == 400 and "复议案号" in after.text
    assert count(session, Challenge) == 0


def test_stale_version_is_a_conflict(app, session, users, replied):
    legal = client_for(app, "legal")
    case_id = file_via_page(legal, replied.id, **LAWSUIT)
    stale = session.get(Challenge, case_id).version
    assert (
        case_act(
            legal, session, case_id, "conclude", effective_date=days_ago(1), result="withdrawn"
        ).status_code
        == 302
    )
    again = legal.post(
        f"/challenges/{case_id}/act/void",
        data={"expected_version": str(stale), "effective_date": days_ago(1), "reason": "重复"},
    )
    assert again.status_code == 409
    assert "刚刚已被他人更新" in again.text
    assert count(session, ChallengeEvent, challenge_id=case_id) == 2


# --------------------------------------------------------------------------- who may do what


@pytest.mark.parametrize("username", ["registrar", "handler", "viewer", "approver", "admin"])
def test_only_legal_officers_file(app, session, users, replied, username):
    client = client_for(app, username)
    new_url = f"/requests/{replied.id}/challenges/new"
    assert client.get(new_url).status_code == 403
    assert client.post(new_url, data=LAWSUIT).status_code == 403
    page = client.get(f"/requests/{replied.id}").text
    assert "复议与诉讼" in page and new_url not in page
    assert count(session, Challenge) == 0


@pytest.mark.parametrize("username", ["registrar", "handler", "viewer"])
def test_other_roles_read_cases_but_cannot_record(app, session, users, replied, username):
    case = cops.file_challenge(
        session,
        Actor.of(users["legal"]),
        datetime.now(UTC),
        replied,
        {**LAWSUIT},
    )
    session.commit()
    client = client_for(app, username)
    page = client.get(f"/challenges/{case.id}")
    assert page.status_code == 200
    assert "只能查阅" in page.text and "/act/" not in page.text
    assert LAWSUIT["case_no"] in client.get("/challenges").text
    assert client.get(f"/challenges/{case.id}/act/conclude").status_code == 403
    refused = case_act(
        client, session, case.id, "conclude", effective_date=days_ago(1), result="withdrawn"
    )
    assert refused.status_code == 403
    assert count(session, ChallengeEvent, challenge_id=case.id) == 1


@pytest.fixture
def other_case(session, agency):
    """A lawsuit in another, unrelated agency, with its own legal officer."""
    other = Agency(code="other-agency", name="其他机关")
    session.add(other)
    session.commit()
    staff = {
        r: make_user(session, other, f"other-{r}", r) for r in ("registrar", "handler", "legal")
    }
    req = replied_request(session, other, staff)
    case = cops.file_challenge(
        session, Actor.of(staff["legal"]), datetime.now(UTC), req, {**LAWSUIT, "case_no": "外案1号"}
    )
    session.commit()
    return other, req, case


def test_other_agency_case_is_not_found(app, session, users, other_case):
    _, req, case = other_case
    legal = client_for(app, "legal")
    assert legal.get(f"/challenges/{case.id}").status_code == 404
    assert legal.get(f"/challenges/{case.id}/act/conclude").status_code == 404
    assert legal.post(f"/challenges/{case.id}/act/conclude", data={}).status_code == 404
    assert legal.get(f"/requests/{req.id}/challenges/new").status_code == 404
    assert legal.post(f"/requests/{req.id}/challenges/new", data=LAWSUIT).status_code == 404
    assert "外案1号" not in legal.get("/challenges").text
    assert count(session, ChallengeEvent, challenge_id=case.id) == 1


def test_superior_agency_reads_cases_but_cannot_record(app, session, agency, users, other_case):
    other, req, case = other_case
    other.parent_id = agency.id
    session.commit()
    legal = client_for(app, "legal")
    listing = legal.get("/challenges").text
    assert "外案1号" in listing and "其他机关" in listing
    page = legal.get(f"/challenges/{case.id}")
    assert page.status_code == 200 and "下级机关" in page.text and "/act/" not in page.text
    assert legal.get(f"/challenges/{case.id}/act/conclude").status_code == 403
    assert legal.get(f"/requests/{req.id}/challenges/new").status_code == 403
    assert f"/requests/{req.id}/challenges/new" not in legal.get(f"/requests/{req.id}").text


def test_pages_need_login(client, users, replied):
    for url in ("/challenges", "/challenges/1", f"/requests/{replied.id}/challenges/new"):
        assert client.get(url).headers["Location"].startswith("/login")


# --------------------------------------------------------------------------- garbage


GARBAGE_FILINGS = [
    {},
    {"kind": "martian", "effective_date": "yesterday"},
    {**LAWSUIT, "effective_date": "2026-02-30"},
    {**LAWSUIT, "effective_date": "9999-12-31"},
    {**LAWSUIT, "effective_date": "1900-01-01"},
    {**LAWSUIT, "route": "sideways"},
    {**LAWSUIT, "instance": "supreme"},
    {**LAWSUIT, "body": "法" * 5000},
    {**LAWSUIT, "case_no": "\x00\x01\x02"},
    {**LAWSUIT, "prior_case_no": "号" * 500},
    {**RECONSIDERATION, "effective_date": " "},
]


def test_garbage_never_gives_500(app, session, users, replied):
    legal = client_for(app, "legal")
    for data in GARBAGE_FILINGS:
        page = legal.post(f"/requests/{replied.id}/challenges/new", data=data)
        assert page.status_code == 400, (data, page.status_code)
        assert 'class="field-error"' in page.text or "box-error" in page.text
    assert count(session, Challenge) == 0

    case_id = file_via_page(legal, replied.id, **LAWSUIT)
    for trigger, data in [
        ("conclude", {"result": "victory", "effective_date": days_ago(1)}),
        ("conclude", {"result": "maintained", "effective_date": days_ago(1)}),  # wrong kind
        ("conclude", {"result": "withdrawn", "effective_date": days_ago(40)}),  # before filing
        ("conclude", {"result": "withdrawn", "effective_date": "２０２６-01-01"}),
        ("appeal", {"instance": "second", "effective_date": days_ago(1)}),  # not concluded
        ("void", {"reason": "", "effective_date": days_ago(1)}),
    ]:
        page = case_act(legal, session, case_id, trigger, **data)
        assert page.status_code == 400, (trigger, data, page.status_code)
    for version in ("", "abc", "-1", "9" * 40, "²"):
        page = legal.post(
            f"/challenges/{case_id}/act/conclude",
            data={
                "expected_version": version,
                "result": "withdrawn",
                "effective_date": days_ago(1),
            },
        )
        assert page.status_code in (400, 409), version
    assert count(session, ChallengeEvent, challenge_id=case_id) == 1

    for url in (
        f"/challenges/{case_id}/act/file",
        f"/challenges/{case_id}/act/explode",
        f"/challenges/{case_id}/act/__init__",
        "/challenges/0",
        "/challenges/99999999999",
        "/challenges/-1",
        "/challenges/abc",
        "/requests/99999999999/challenges/new",
        "/requests/0/challenges/new",
    ):
        assert legal.get(url).status_code == 404, url
    for query in (
        "?kind=<script>&state=%00&year=abc",
        "?year=99999999",
        "?year=0",
        "?year=²",
        "?state=new",
        "?kind=litigation&state=voided&year=2026",
    ):
        page = legal.get("/challenges" + query)
        assert page.status_code == 200, query
        assert "<script>" not in page.text


def test_forms_need_csrf_token(db_url, engine, session, users, replied):
    from app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": db_url})
    try:
        client = app.test_client()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").text)
        assert token
        client.post(
            "/login",
            data={"username": "legal", "password": PASSWORD, "csrf_token": token.group(1)},
        )
        form = client.get(f"/requests/{replied.id}/challenges/new")
        assert form.status_code == 200 and 'name="csrf_token"' in form.text
        refused = client.post(f"/requests/{replied.id}/challenges/new", data=LAWSUIT)
        assert refused.status_code == 400 and "安全令牌" in refused.text
        assert count(session, Challenge) == 0
    finally:
        app.extensions["db_engine"].dispose()
