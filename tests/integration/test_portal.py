"""The applicant portal: apply, follow with the 查询码, staff confirm receipt (Art. 31(3))."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from models import Agency, Event, PortalSubmission, Request
from tests.conftest import make_user
from tests.integration.routes import signed_in
from workflow.kernel.actor import local_today

NUMBER = re.compile(r"申请编号：<strong class=\"mono\">(WS\d{12})</strong>")
CODE = re.compile(r"查询码：<strong class=\"mono\">([2-9A-Z]{10})</strong>")


def application(**extra) -> dict[str, str]:
    return {
        "applicant_name": "王网民",
        "applicant_kind": "natural_person",
        "subject": "某小区规划许可证及附图",
        "phone": "13800000000",
        "delivery_wanted": "online",
        **extra,
    }


def apply(client, **extra):
    return client.post("/apply/test-agency", data=application(**extra))


def number_and_code(page) -> tuple[str, str]:
    text = page.get_data(as_text=True)
    return NUMBER.search(text).group(1), CODE.search(text).group(1)


def lookup(client, number: str, code: str):
    return client.post("/apply/status", data={"number": number, "code": code})


def stored(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_an_application_gets_a_number_and_a_code_shown_once(client, session, agency) -> None:
    assert "测试机关" in client.get("/apply").get_data(as_text=True)
    page = apply(client)
    assert page.status_code == 200
    number, code = number_and_code(page)
    row = session.scalar(select(PortalSubmission))
    assert row.number == number and code not in row.code_hash and row.code_hash.startswith("scrypt")
    assert row.values["subject"] == "某小区规划许可证及附图" and "channel" not in row.values
    assert stored(session, Request) == 0  # not received until staff confirm
    found = lookup(client, number, code.lower())
    assert found.status_code == 200 and "待确认收到" in found.get_data(as_text=True)


def test_the_status_page_never_tells_whether_a_number_exists(client, session, agency) -> None:
    number, _code = number_and_code(apply(client))
    wrong = lookup(client, number, "2222222222")
    unknown = lookup(client, "WS000000000000", "2222222222")
    for answer in (wrong, unknown):
        assert answer.status_code == 400
        text = answer.get_data(as_text=True)
        assert "编号或查询码不正确" in text and "待确认收到" not in text
    assert wrong.get_data(as_text=True).replace(number, "") == unknown.get_data(
        as_text=True
    ).replace("WS000000000000", "")


def test_the_staff_form_checks_and_the_portal_rules_apply(client, session, agency) -> None:
    cases = [
        ({"phone": ""}, "请至少填写一种联系方式"),
        ({"delivery_wanted": "email"}, "选择电子邮件送达的，请填写电子邮箱"),
        ({"delivery_wanted": "post"}, "选择邮寄送达的，请填写通信地址"),
        ({"id_type": "resident_id", "id_number": "110101199003071234"}, "校验位不正确"),
        ({"subject": ""}, "请填写所需信息的内容描述"),
        ({"applicant_name": "<script>alert(1)</script>", "email": "x"}, "电子邮箱格式不正确"),
    ]
    for extra, message in cases:
        page = apply(client, **extra)
        text = page.get_data(as_text=True)
        assert page.status_code == 400 and message in text, extra
        assert "<script>alert(1)</script>" not in text
    assert stored(session, PortalSubmission) == 0


def test_a_filled_honeypot_is_refused(client, session, agency) -> None:
    page = apply(client, website="http://spam.example")
    assert page.status_code == 400 and "提交未被接受" in page.get_data(as_text=True)
    assert stored(session, PortalSubmission) == 0


def test_submissions_and_failed_lookups_are_rate_limited(app, client, session, agency) -> None:
    app.config.update(PORTAL_MAX_SUBMISSIONS=2, PORTAL_MAX_LOOKUPS=3)
    number, code = number_and_code(apply(client))
    assert apply(client).status_code == 200
    third = apply(client)
    assert third.status_code == 429 and "提交过于频繁" in third.get_data(as_text=True)
    assert stored(session, PortalSubmission) == 2
    for _ in range(3):
        assert lookup(client, number, "2222222222").status_code == 400
    blocked = lookup(client, number, code)  # even the right code waits now
    assert blocked.status_code == 429 and "查询过于频繁" in blocked.get_data(as_text=True)


def test_staff_confirm_receipt_and_the_request_is_registered(app, client, session, agency, users):
    number, code = number_and_code(apply(client, email="wang@example.cn"))
    clerk = signed_in(app, session, users["registrar"])
    queue = clerk.get("/portal/queue").get_data(as_text=True)
    assert number in queue and "王网民" in queue
    row = session.scalar(select(PortalSubmission))
    today = local_today(datetime.now(UTC))
    early = clerk.post(f"/portal/queue/{row.id}/confirm", data={"received_on": "2010-01-01"})
    assert early.status_code == 303
    assert "收到申请日期不能早于提交日期" in clerk.get("/portal/queue").get_data(as_text=True)
    done = clerk.post(f"/portal/queue/{row.id}/confirm", data={"received_on": today.isoformat()})
    assert done.status_code == 303
    session.expire_all()
    req = session.scalar(select(Request))
    assert req.channel == "portal" and req.received_on == today and req.email == "wang@example.cn"
    register_event = session.scalar(select(Event).where(Event.request_id == req.id))
    assert "工作人员确认收到之日" in register_event.payload["receipt_rule"]
    assert session.get(PortalSubmission, row.id).confirmed_by_id == users["registrar"].id
    page = lookup(client, number, code).get_data(as_text=True)
    assert req.tracking_no in page and "已登记" in page and "答复期限" in page
    again = clerk.post(f"/portal/queue/{row.id}/confirm", data={"received_on": today.isoformat()})
    assert again.status_code == 303 and stored(session, Request) == 1
    assert number not in clerk.get("/portal/queue").get_data(as_text=True)


@pytest.fixture
def foreign_clerk(session):
    other = Agency(code="portal-other", name="别的机关")
    session.add(other)
    session.commit()
    return make_user(session, other, "foreign-clerk", "registrar")


def test_another_agencys_clerk_cannot_see_or_confirm(app, client, session, agency, foreign_clerk):
    number, _ = number_and_code(apply(client))
    row = session.scalar(select(PortalSubmission))
    clerk = signed_in(app, session, foreign_clerk)
    assert number not in clerk.get("/portal/queue").get_data(as_text=True)
    refused = clerk.post(f"/portal/queue/{row.id}/confirm", data={"received_on": "2026-12-01"})
    assert refused.status_code == 404 and stored(session, Request) == 0
