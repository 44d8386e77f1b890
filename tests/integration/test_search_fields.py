"""Search finds what clerks type (issue 15 item 6): ID number, phone, ledger ref, 文书号,
and a tracking number shared by sub-agencies, one request per agency, labelled."""

from __future__ import annotations

import re

from documents.notices_pdf import render_notice
from models import Agency
from tests.conftest import NOW, login, make_user
from tests.integration.world import intake
from workflow.kernel.actor import Actor
from workflow.notices import operations as nops
from workflow.requests import operations as ops

NUMBER = re.compile(r'<a href="/requests/(\d+)">')


def _register(session, agency, clerk, name: str, **extra: str):
    req = ops.register(session, Actor.of(clerk), NOW, {**intake(name), **extra}, agency=agency)
    session.commit()
    return req


def _found(client, q: str) -> set[int]:
    page = client.get("/requests", query_string={"q": q})
    assert page.status_code == 200
    return {int(i) for i in NUMBER.findall(page.text)}


def test_search_by_id_number_phone_ledger_ref_and_notice_number(
    session, agency, users, client
) -> None:
    clerk = users["registrar"]
    wanted = _register(
        session,
        agency,
        clerk,
        "赵六",
        id_type="other",
        id_number="36010219850312001X",
        phone="13800000001",
    )
    other = _register(session, agency, clerk, "钱七", phone="13900000002")
    wanted.external_ref = "TZ-2026-117"
    session.commit()
    notice = nops.issue_notice(
        session, Actor.of(clerk), NOW, wanted, "receipt", render=render_notice
    )
    session.commit()
    login(client, "registrar")
    assert _found(client, "36010219850312001x") == {wanted.id}  # the X in either case
    assert _found(client, "13800000001") == {wanted.id}
    assert _found(client, "TZ-2026-117") == {wanted.id}
    serial_part = notice.number[notice.number.index("〔") :]
    assert _found(client, serial_part) == {wanted.id}
    assert _found(client, "1390000") == {other.id}
    # The hint names what the box searches.
    assert "证件号码" in client.get("/requests").text


def test_a_tracking_number_finds_one_request_per_agency_labelled(
    session, agency, users, client
) -> None:
    child = Agency(code="child", name="测试机关下属局", parent=agency)
    session.add(child)
    session.commit()
    child_clerk = make_user(session, child, "child-clerk", "registrar")
    mine = _register(session, agency, users["registrar"], "甲")
    theirs = _register(session, child, child_clerk, "乙")
    assert mine.tracking_no == theirs.tracking_no  # each agency numbers its own
    login(client, "viewer")
    page = client.get("/requests", query_string={"q": mine.tracking_no}).text
    assert {int(i) for i in NUMBER.findall(page)} == {mine.id, theirs.id}
    assert "（测试机关）" in page and "（测试机关下属局）" in page
    assert "在多个机关各有一件申请" in page
    # The sub-agency's own clerk sees only their own request, without the note.
    client.post("/logout")
    login(client, "child-clerk")
    page = client.get("/requests", query_string={"q": mine.tracking_no}).text
    assert {int(i) for i in NUMBER.findall(page)} == {theirs.id}
    assert "在多个机关各有一件申请" not in page
