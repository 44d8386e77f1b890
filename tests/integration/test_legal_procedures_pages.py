"""The register page's 当场答复 button and the 补正 it proposes for an incomplete application."""

from __future__ import annotations

import re

from models import Request
from tests.integration.test_pages import client_for, intake, reload, today


def _id(page) -> int:
    assert page.status_code == 302, page.text
    match = re.search(r"/requests/(\d+)$", page.headers["Location"])
    assert match
    return int(match.group(1))


def test_register_and_answer_on_the_spot_from_the_register_form(app, session, users) -> None:
    client = client_for(app, "handler")
    form = client.get("/requests/new")
    assert "登记并当场答复" in form.text and "第三十三条第一款" in form.text
    data = intake(submitted_on=today().isoformat(), id_type="passport", id_number="E1")
    page = client.post("/requests/new", data={**data, "on_the_spot": "1", "outcome": "disclosed"})
    req = reload(session, _id(page))
    assert req.state == "concluded"
    assert req.received_on == today()


def test_an_answer_on_the_spot_refused_registers_nothing(app, session, users) -> None:
    client = client_for(app, "handler")
    before = session.query(Request).count()
    page = client.post(
        "/requests/new",
        data={**intake(), "on_the_spot": "1", "outcome": "not_processed.petition"},
    )  # a (五)1 answer must name where the applicant was referred
    assert page.status_code == 400
    assert "须写明已告知申请人的信访、投诉、举报渠道" in page.text
    session.expire_all()
    assert session.query(Request).count() == before


def test_registrar_sees_no_on_the_spot_button(app, users) -> None:
    assert "登记并当场答复" not in client_for(app, "registrar").get("/requests/new").text


def test_missing_proof_of_identity_is_proposed_as_a_supplement(app, session, users) -> None:
    client = client_for(app, "registrar")
    page = client.post("/requests/new", data=intake(), follow_redirects=False)
    request_id = _id(page)
    detail = client.get(f"/requests/{request_id}")
    assert "申请要素不全（建议告知补正）" in detail.text
    assert "申请人的身份证明" in detail.text
    form = client.get(f"/requests/{request_id}/act/request_supplement")
    assert "请补充：申请人的身份证明" in form.text
