"""The pages, driven through the Flask test client on the fixtures' real (migrated) database.

The app uses the real clock (``datetime.now(UTC)``), so dates here are relative to the
agency-local today: a request "received 30 days ago" keeps every effective date in the
past and after the receipt date, whatever day the suite runs.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from models import Agency, Event, Request
from tests.conftest import PASSWORD, login, make_user
from workflow.kernel.actor import Actor, local_today
from workflow.requests.operations import register


def today() -> date:
    """The agency-local date now, read at call time so a run crossing midnight stays consistent."""
    return local_today(datetime.now(UTC))


def days_ago(n: int) -> str:
    return (today() - timedelta(days=n)).isoformat()


def intake(**overrides: str) -> dict[str, str]:
    data = {
        "applicant_name": "张三",
        "applicant_kind": "natural_person",
        "subject": "2025年本区老旧小区改造项目的资金使用情况",
        "channel": "in_person",
        "submitted_on": days_ago(30),
        "received_on": "",
        "phone": "13800000000",
    }
    data.update(overrides)
    return data


def client_for(app, username: str):
    client = app.test_client()
    page = login(client, username)
    assert page.status_code == 200, page.text
    return client


def count(session, model, **where) -> int:
    session.expire_all()
    stmt = select(func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return session.scalar(stmt)


def reload(session, request_id: int) -> Request:
    session.expire_all()
    return session.get(Request, request_id)


def register_via_page(client, **overrides: str) -> int:
    page = client.post("/requests/new", data=intake(**overrides))
    assert page.status_code == 302, page.text
    match = re.search(r"/requests/(\d+)$", page.headers["Location"])
    assert match
    return int(match.group(1))


def act(client, request_id: int, trigger: str, version: int, **data: str):
    return client.post(
        f"/requests/{request_id}/act/{trigger}", data={"expected_version": str(version), **data}
    )


def act_ok(client, session, request_id: int, trigger: str, **data: str) -> Request:
    version = reload(session, request_id).version
    page = act(client, request_id, trigger, version, **data)
    assert page.status_code == 302, page.text
    return reload(session, request_id)


# --------------------------------------------------------------------------- auth


def test_login_page_and_bad_password(client, users):
    page = client.get("/login")
    assert page.status_code == 200
    assert 'lang="zh-CN"' in page.text
    assert "依申请公开办理系统" in page.text

    bad = client.post("/login", data={"username": "handler", "password": "wrong"})
    assert bad.status_code == 401
    assert "用户名或密码错误" in bad.text
    unknown = client.post("/login", data={"username": "nobody", "password": "wrong"})
    assert "用户名或密码错误" in unknown.text
    empty = client.post("/login", data={"username": "", "password": ""})
    assert empty.status_code == 400
    assert "请填写用户名" in empty.text
    assert client.get("/requests").status_code == 302


def test_login_logout_and_redirects(client, users):
    assert client.get("/requests").headers["Location"].startswith("/login?next=")
    page = client.post(
        "/login?next=/requests/new", data={"username": "handler", "password": PASSWORD}
    )
    assert page.headers["Location"] == "/requests/new"

    page = client.get("/requests")
    assert page.status_code == 200
    assert "handler" in page.text and "测试机关" in page.text
    assert "退出登录" in page.text

    assert client.get("/logout").status_code == 405  # logging out is a POST only
    out = client.post("/logout", follow_redirects=True)
    assert "您已退出登录" in out.text
    assert client.get("/requests").status_code == 302


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_login_refuses_open_redirect(client, users, target):
    page = client.post(
        "/login", query_string={"next": target}, data={"username": "viewer", "password": PASSWORD}
    )
    assert page.status_code == 302
    assert page.headers["Location"] == "/dashboard"


def test_logout_needs_csrf_token(db_url, engine, users):
    from app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": db_url})
    try:
        client = app.test_client()
        login_page = client.get("/login")
        assert 'name="csrf_token"' in login_page.text
        refused = client.post("/logout")
        assert refused.status_code == 400
        assert "安全令牌" in refused.text
    finally:
        app.extensions["db_engine"].dispose()


# --------------------------------------------------------------------------- register


def test_register_form_shows_rules_and_defaults(app, users):
    client = client_for(app, "registrar")
    page = client.get("/requests/new")
    assert page.status_code == 200
    assert "以邮寄方式提交的，以行政机关签收之日为收到申请之日" in page.text
    assert "第三十一条" in page.text
    assert f'value="{today().isoformat()}"' in page.text
    assert 'type="date"' in page.text


def test_register_bad_input_shows_inline_errors_and_saves_nothing(app, session, users):
    client = client_for(app, "registrar")
    page = client.post(
        "/requests/new",
        data=intake(
            applicant_name="",
            applicant_kind="martian",
            submitted_on="2026-02-30",
            email="not-an-email",
            subject="字" * 5000,
        ),
    )
    assert page.status_code == 400
    assert "请更正标出的内容" in page.text
    assert "请填写申请人姓名或名称" in page.text
    assert "请从列表中选择" in page.text
    assert "不是有效日期" in page.text
    assert "电子邮箱格式不正确" in page.text
    assert "不能超过4000个字符" in page.text
    assert 'class="field-error"' in page.text
    assert 'value="2026-02-30"' in page.text  # what was typed is kept for correction
    assert count(session, Request) == 0
    assert count(session, Event) == 0


def test_register_success_redirects_with_tracking_number(app, session, users):
    client = client_for(app, "registrar")
    page = client.post("/requests/new", data=intake(), follow_redirects=True)
    assert page.status_code == 200
    req = session.scalars(select(Request)).one()
    assert f"已登记，编号 {req.tracking_no}" in page.text
    assert req.state == "registered"
    assert req.received_on == today() - timedelta(days=30)
    assert "当面提交的，以提交之日为收到申请之日" in page.text  # register payload, in words


def test_register_needs_a_caseworker_role(app, users):
    for username in ("viewer", "legal", "admin"):
        client = client_for(app, username)
        assert client.get("/requests/new").status_code == 403
        assert client.post("/requests/new", data=intake()).status_code == 403
        assert "登记申请" not in client.get("/requests").text


# --------------------------------------------------------------------------- the full flow


def test_full_flow_to_partial_disclosure(app, session, users):
    registrar = client_for(app, "registrar")
    handler = client_for(app, "handler")

    rid = register_via_page(registrar)
    req = act_ok(
        registrar,
        session,
        rid,
        "request_supplement",
        effective_date=days_ago(29),
        items="请写明所需信息的文号",
        due_on=days_ago(24),
    )
    assert req.state == "supplement_requested"
    detail = registrar.get(f"/requests/{rid}").text
    assert "待补正，收到补正材料后重新计算" in detail

    req = act_ok(registrar, session, rid, "receive_supplement", effective_date=days_ago(27))
    assert req.state == "in_review"

    # The extension is the approver's own act (Art. 33 para 2); the only name offered
    # is their own. A handler proposes it instead (tests/integration/test_office_workflow.py).
    approver = client_for(app, "approver")
    form = approver.get(f"/requests/{rid}/act/extend").text
    assert "第三十三条" in form and "批准人（审核人）" in form
    assert '<option value="approver">' in form
    assert "只有审核人可以进行此操作" in handler.get(f"/requests/{rid}/act/extend").text
    req = act_ok(
        approver,
        session,
        rid,
        "extend",
        effective_date=days_ago(25),
        days="10",
        reason="涉及多个科室，需要调取档案",
        approver="approver",
    )
    assert req.state == "in_review"

    req = act_ok(
        handler,
        session,
        rid,
        "consult_third_party",
        effective_date=days_ago(24),
        party="某某建设有限公司",
        matter="合同价款",
    )
    assert req.state == "third_party_consultation"
    paused = handler.get(f"/requests/{rid}").text
    # Sent 24 days ago: the party's 15 wd have run out and the reply clock runs again.
    assert "征求意见期限" in paused and "已届满，请记录意见或逾期未答复" in paused
    assert "期限如何计算" in paused and "暂停至此为止" not in paused

    req = act_ok(
        handler,
        session,
        rid,
        "third_party_replied",
        effective_date=days_ago(20),
        opinion="object",
        note="涉及商业秘密",
    )
    assert req.state == "in_review"

    decide_form = handler.get(f"/requests/{rid}/act/decide").text
    assert "<optgroup" in decide_form and "4.保护第三方合法权益（第十五条）" in decide_form
    req = act_ok(
        handler,
        session,
        rid,
        "decide",
        effective_date=days_ago(1),
        outcome="partially_disclosed",
        grounds="合同价款部分涉及商业秘密，不予公开",
        delivery="post",
    )
    assert req.state == "concluded"
    assert count(session, Event, request_id=rid) == 7

    page = handler.get(f"/requests/{rid}")
    assert page.status_code == 200
    text = page.text
    for expected in (
        "办理记录",
        "告知补正",
        "收到补正材料",
        "延期答复",
        "征求第三方意见",
        "第三方回复",
        "作出答复",
        "（二）部分公开",
        "第三十七条",
        "10 个工作日",
        "批准人（审核人）",
        "不同意公开",  # choice label, not the code
        "邮寄",
        "补正告知期限",
        "答复期限",
        "缴费期限",
        "已办结",
        "registrar",  # who did it
    ):
        assert expected in text, expected
    assert "object" not in re.sub(r"<[^>]+>", "", text)
    assert text.count('class="nowrap">' + days_ago(29)) >= 1
    assert f'href="/requests/{rid}/act/' not in text  # reopen / void are not a handler's
    assert "只有审核人、法制员可以进行此操作" in text  # … and the page says whose they are
    approver_page = client_for(app, "approver").get(f"/requests/{rid}").text
    assert f'href="/requests/{rid}/act/reopen"' in approver_page

    listing = handler.get("/requests").text
    assert req.tracking_no in listing and "已办结" in listing


def test_late_decision_is_flagged_and_overdue_shown(app, session, users):
    handler = client_for(app, "handler")
    rid = register_via_page(handler, submitted_on=days_ago(45))
    act_ok(handler, session, rid, "accept", effective_date=days_ago(44))
    listing = handler.get("/requests").text
    assert "已逾期" in listing and "个工作日" in listing
    assert "已逾期" in handler.get(f"/requests/{rid}").text

    page = act(
        handler,
        rid,
        "decide",
        reload(session, rid).version,
        effective_date=today().isoformat(),
        outcome="disclosed",
        delivery="email",
    )
    assert page.status_code == 302
    detail = handler.get(f"/requests/{rid}").text
    assert "已标记逾期办理" in detail  # the flash
    assert "逾期办理" in detail and "答复晚于法定期限" in detail
    assert 'class="late-note"' in detail


# --------------------------------------------------------------------------- refusals


def test_blocked_action_form_shows_the_reason(app, session, users):
    handler = client_for(app, "handler")
    rid = register_via_page(handler)
    page = handler.get(f"/requests/{rid}/act/receive_supplement")
    assert page.status_code == 200
    assert "此操作目前不能进行" in page.text
    assert "当前状态下不能进行“收到补正材料”" in page.text
    assert "disabled" in page.text

    act_ok(handler, session, rid, "accept", effective_date=days_ago(29))
    act_ok(
        client_for(app, "approver"),
        session,
        rid,
        "extend",
        effective_date=days_ago(28),
        days="5",
        reason="需要调档",
        approver="approver",
    )
    again = handler.get(f"/requests/{rid}/act/extend").text
    assert "延期答复只能一次，本申请已延期" in again
    detail = handler.get(f"/requests/{rid}").text
    assert "延期答复只能一次" in detail  # greyed on the detail page with its reason
    assert 'aria-disabled="true"' in detail


def test_every_action_form_renders(app, session, users):
    from workflow.requests.spec import TRANSITIONS

    handler = client_for(app, "handler")
    rid = register_via_page(handler)
    for spec in TRANSITIONS:
        if spec.trigger == "register":
            continue
        page = handler.get(f"/requests/{rid}/act/{spec.trigger}")
        assert page.status_code == 200, spec.trigger
        assert spec.label in page.text and spec.date_label in page.text


def test_registrar_cannot_decide(app, session, users):
    registrar = client_for(app, "registrar")
    rid = register_via_page(registrar)
    act_ok(registrar, session, rid, "accept", effective_date=days_ago(29))
    before = count(session, Event)

    form = registrar.get(f"/requests/{rid}/act/decide")
    assert "只有审核人、承办人可以进行此操作" in form.text
    page = act(
        registrar,
        rid,
        "decide",
        reload(session, rid).version,
        effective_date=days_ago(1),
        outcome="disclosed",
        delivery="post",
    )
    assert page.status_code in (400, 403)
    assert "只有审核人、承办人可以进行此操作" in page.text
    assert count(session, Event) == before
    assert reload(session, rid).state == "in_review"


def test_stale_version_is_a_conflict_and_saves_nothing(app, session, users):
    handler = client_for(app, "handler")
    rid = register_via_page(handler)
    stale = reload(session, rid).version
    act_ok(handler, session, rid, "accept", effective_date=days_ago(29))
    before = count(session, Event)

    page = act(handler, rid, "consult_agency", stale, effective_date=days_ago(2), party="市财政局")
    assert page.status_code == 409
    assert "刚刚已被他人更新" in page.text and "您的操作没有保存" in page.text
    assert "市财政局" in page.text  # the typed input survives
    assert count(session, Event) == before
    current = reload(session, rid)
    assert current.state == "in_review"
    assert f'value="{current.version}"' in page.text  # a deliberate resubmit may proceed


def test_viewer_sees_but_cannot_act(app, session, users):
    rid = register_via_page(client_for(app, "registrar"))
    viewer = client_for(app, "viewer")
    page = viewer.get(f"/requests/{rid}")
    assert page.status_code == 200
    assert "张三" in page.text
    assert "/act/" not in page.text
    assert "只读" in page.text

    refused = act(viewer, rid, "accept", reload(session, rid).version, effective_date=days_ago(29))
    assert refused.status_code in (400, 403)
    assert count(session, Event, request_id=rid) == 1


@pytest.fixture
def other_agency(session, agency):
    other = Agency(code="other-agency", name="其他机关")
    session.add(other)
    session.commit()
    clerk = make_user(session, other, "other-clerk", "registrar")
    req = register(
        session,
        Actor.of(clerk),
        datetime.now(UTC),
        intake(applicant_name="李四"),
        agency=other,
    )
    session.commit()
    return other, req


def test_other_agency_request_is_not_found(app, users, other_agency):
    _, req = other_agency
    handler = client_for(app, "handler")
    assert handler.get(f"/requests/{req.id}").status_code == 404
    assert handler.get(f"/requests/{req.id}/act/accept").status_code == 404
    assert handler.post(f"/requests/{req.id}/act/accept", data={}).status_code == 404
    assert "李四" not in handler.get("/requests").text


def test_superior_agency_reads_but_cannot_change(app, session, agency, users, other_agency):
    other, req = other_agency
    other.parent_id = agency.id
    session.commit()
    handler = client_for(app, "handler")
    listing = handler.get("/requests").text
    assert "李四" in listing and "其他机关" in listing
    page = handler.get(f"/requests/{req.id}")
    assert page.status_code == 200
    assert "只能查阅" in page.text and "/act/" not in page.text
    refused = act(handler, req.id, "accept", req.version, effective_date=days_ago(29))
    assert refused.status_code == 403
    assert count(session, Event, request_id=req.id) == 1


# --------------------------------------------------------------------------- garbage


def test_garbage_never_yields_a_server_error(app, session, users):
    handler = client_for(app, "handler")
    rid = register_via_page(handler)
    act_ok(handler, session, rid, "accept", effective_date=days_ago(29))
    version = reload(session, rid).version
    events = count(session, Event)

    cases = [
        ("decide", {"effective_date": "2026-02-30", "outcome": "disclosed", "delivery": "post"}),
        ("decide", {"effective_date": "x" * 100_000, "outcome": "no.such", "delivery": "??"}),
        ("decide", {"effective_date": days_ago(1), "outcome": "other.supplement_lapsed"}),
        ("decide", {"effective_date": days_ago(1), "outcome": "\x00", "delivery": "post"}),
        ("extend", {"effective_date": days_ago(1), "days": "abc", "reason": "r"}),
        ("extend", {"effective_date": days_ago(1), "days": "9" * 5000, "approver": "x"}),
        ("extend", {"effective_date": days_ago(1), "days": "-3", "approver": "handler"}),
        ("consult_agency", {"effective_date": days_ago(1), "party": "名" * 100_000}),
        ("consult_agency", {"effective_date": "9999-12-31", "party": "市局"}),
        ("consult_agency", {"effective_date": "1900-01-01", "party": "市局"}),
        ("issue_fee_notice", {"effective_date": days_ago(1), "method": "x", "amount": "1e9"}),
        ("withdraw", {}),
    ]
    for trigger, data in cases:
        page = act(handler, rid, trigger, version, **data)
        assert page.status_code == 400, (trigger, data, page.status_code)
        assert 'class="box box-error"' in page.text
    outcome = act(handler, rid, "decide", version, effective_date=days_ago(1), outcome="no.such")
    assert "请从列表中选择处理结果" in outcome.text
    bad_int = act(handler, rid, "extend", version, effective_date=days_ago(1), days="abc")
    assert "请填写整数" in bad_int.text
    bad_date = act(handler, rid, "decide", version, effective_date="2026-02-30")
    assert "不是有效日期" in bad_date.text
    lapsed = act(
        handler,
        rid,
        "decide",
        version,
        effective_date=days_ago(1),
        outcome="other.supplement_lapsed",
        delivery="post",
    )
    assert "不能在作出答复时选择" in lapsed.text

    for garbage in ("abc", "²", "", "1" * 40):
        page = handler.post(f"/requests/{rid}/act/accept", data={"expected_version": garbage})
        assert page.status_code == 400, garbage
        assert "表单缺少版本信息" in page.text
    assert handler.get(f"/requests/{rid}/act/no_such_trigger").status_code == 404
    assert handler.post(f"/requests/{rid}/act/register", data={}).status_code == 404
    assert handler.get("/requests/99999999999999999999999").status_code == 404
    assert handler.get("/requests/2147483647").status_code == 404
    assert handler.get("/requests/abc").status_code == 404
    queries = ("?page=abc", "?page=²", "?page=999999999999", "?state=bogus&year=x", "?year=٣")
    for query in queries:
        assert handler.get("/requests" + query).status_code == 200, query
    huge = handler.post("/requests/new", data=intake(applicant_name="名" * 100_000))
    assert huge.status_code == 400 and "不能超过200个字符" in huge.text
    assert count(session, Event) == events
    assert reload(session, rid).state == "in_review"


def test_static_stylesheet_is_served(client):
    page = client.get("/static/app.css")
    assert page.status_code == 200
    assert "Microsoft YaHei" in page.text
    page.close()


def test_root_redirects_to_the_workbench(app, users):
    client = client_for(app, "viewer")
    assert client.get("/").headers["Location"] == "/dashboard"
