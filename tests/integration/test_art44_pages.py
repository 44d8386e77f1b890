"""条例 Art. 44 on the pages: the agency's list of information asked for by several
different applicants (a candidate for 主动公开) and the flag on the request page."""

from __future__ import annotations

from datetime import timedelta

from models import Agency, Request
from tests.conftest import make_user
from tests.integration.test_office_pages import client_for, days_ago
from views.common import utc_now
from workflow.kernel.actor import Actor, local_today
from workflow.requests import operations as ops

SUBJECT = "本县2025年度城市供水价格调整听证材料"


def _register(session, agency, clerk, name: str, subject: str, ago: int, **more) -> Request:
    raw = {
        "applicant_name": name,
        "applicant_kind": "natural_person",
        "subject": subject,
        "channel": "in_person",
        "submitted_on": days_ago(ago),
        **more,
    }
    req = ops.register(session, Actor.of(clerk), utc_now(), raw, agency=agency)
    session.commit()
    return req


def test_the_list_shows_information_asked_by_enough_different_applicants(
    app, session, agency, users
) -> None:
    clerk = users["registrar"]
    first = _register(session, agency, clerk, "甲", SUBJECT, 30, phone="13800000001")
    _register(session, agency, clerk, "甲", SUBJECT + "（补充）", 20, phone="13800000001")
    second = _register(session, agency, clerk, "乙", "2025年度本县城市供水价格调整的听证材料", 10)
    viewer = client_for(app, "viewer")
    page = viewer.get("/requests/publication-candidates")
    assert page.status_code == 200 and "第四十四条" in page.text
    assert first.tracking_no not in page.text  # two applicants: below the default of 3
    assert "没有由 3 位以上不同申请人申请的相同信息" in page.text
    # The request page lists the others but is not yet a candidate.
    detail = viewer.get(f"/requests/{first.id}").text
    assert second.tracking_no in detail and "主动公开候选：" not in detail

    third = _register(session, agency, clerk, "丙", "本县2025年度城市供水价格调整听证会材料", 5)
    page = viewer.get("/requests/publication-candidates").text
    assert all(r.tracking_no in page for r in (first, second, third))
    assert '<td data-label="申请人数">3</td>' in page
    assert '<td data-label="申请件数">4</td>' in page
    detail = viewer.get(f"/requests/{third.id}").text
    assert "主动公开候选：</strong>共 3 位不同的申请人" in detail
    assert "/requests/publication-candidates?agency=test-agency" in detail

    # The threshold and the period are the reader's to choose, within bounds.
    two = viewer.get("/requests/publication-candidates?min=2&start=" + days_ago(12)).text
    assert third.tracking_no in two and first.tracking_no not in two
    bad = viewer.get("/requests/publication-candidates?min=1").text
    assert "申请人数应为 2–50 的整数，已按 3 人列出" in bad and first.tracking_no in bad
    wrong = viewer.get("/requests/publication-candidates?start=2026-02-30")
    assert wrong.status_code == 200 and "开始日期" in wrong.text
    reversed_period = viewer.get(
        "/requests/publication-candidates?start="
        + (local_today(utc_now()) - timedelta(days=1)).isoformat()
        + "&end="
        + days_ago(40)
    )
    assert "结束日期不能早于开始日期" in reversed_period.text


def test_another_agency_sees_only_its_own_candidates(app, session, agency, users) -> None:
    for name in ("甲", "乙", "丙"):
        _register(session, agency, users["registrar"], name, SUBJECT, 3)
    other = Agency(code="elsewhere", name="别处")
    session.add(other)
    session.commit()
    make_user(session, other, "outsider", "viewer")
    outsider = client_for(app, "outsider")
    assert outsider.get("/requests/publication-candidates?agency=test-agency").status_code == 404
    own = outsider.get("/requests/publication-candidates")
    assert own.status_code == 200 and SUBJECT not in own.text
    assert SUBJECT in client_for(app, "viewer").get("/requests/publication-candidates").text
