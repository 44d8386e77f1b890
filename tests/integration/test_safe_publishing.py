"""Safe publishing (issue 15 item 9): a confirmation showing what is missing first; a
published year corrected only as a numbered, frozen, hashed version with a reason; the
differences in the table's own labels, linked to the requests and events behind them;
a renamed agency's published history keeps its old name (item 10)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from documents.report_pdf import rendered_report
from models import Agency, PublishedReport, ReportCorrection, Request, User
from tests.integration.test_statistics_pages import demo_client
from workflow.annual_report.publishing import canonical_hash, republish, versions
from workflow.kernel.actor import Actor
from workflow.kernel.errors import DomainError, PermissionDenied, ValidationError
from workflow.requests import operations as ops
from workflow.statistics.scope import Scope

YEAR = "agency=nanchang-etdz&year=2019"


def _publish(client):
    return client.post(
        f"/statistics/publish?{YEAR}", data={"confirmed": "1"}, follow_redirects=True
    )


def _void_a_2019_request(session) -> Request:
    req = session.scalars(select(Request).where(Request.year == 2019).order_by(Request.id)).first()
    admin = session.scalar(select(User).where(User.username == "admin"))
    ops.fire(
        session,
        req,
        "void",
        Actor.of(admin),
        datetime.now(UTC) + timedelta(seconds=5),
        {"effective_date": "2020-01-10", "reason": "登记错误"},
    )
    session.commit()
    return req


@pytest.mark.demo
def test_confirmation_shows_what_is_missing_and_nothing_is_frozen_without_it(app, session):
    client = demo_client(app, session)
    page = client.get(f"/statistics/publish/confirm?{YEAR}")
    assert page.status_code == 200
    body = page.text
    assert "发布前检查" in body and "全部检查通过" in body
    assert "收费情况" in body and "本年度发出收费通知" in body
    # The demo's 2019 draft: whatever table 二 lacks is listed cell by cell.
    assert ("尚未填写" in body) or ("表二各单元格均已填写" in body)
    assert 'name="confirmed"' in body
    # The statistics page only links to the confirmation; a POST without it freezes nothing.
    assert "发布2019年度统计…" in client.get(f"/statistics?{YEAR}").text
    bare = client.post(f"/statistics/publish?{YEAR}", follow_redirects=True)
    assert "请先核对发布前检查的内容" in bare.text
    assert session.scalar(select(func.count()).select_from(PublishedReport)) == 0
    # A viewer may not even open the confirmation.
    assert (
        demo_client(app, session, "chayue").get(f"/statistics/publish/confirm?{YEAR}").status_code
        == 403
    )


@pytest.mark.demo
def test_missing_table2_and_narrative_are_listed(app, session) -> None:
    from models import ReportDraft

    agency = session.scalar(select(Agency).where(Agency.code == "nanchang-etdz"))
    draft = session.scalar(
        select(ReportDraft).where(ReportDraft.agency_id == agency.id, ReportDraft.year == 2019)
    )
    if draft is None:
        draft = ReportDraft(agency_id=agency.id, year=2019)
        session.add(draft)
    draft.overview = ""
    draft.table2 = {}
    session.commit()
    body = demo_client(app, session).get(f"/statistics/publish/confirm?{YEAR}").text
    assert "以下部分尚未填写：一、总体情况" in body
    from workflow.annual_report.table2_values import missing
    from workflow.statistics.layouts import format_for_year

    labels = missing(format_for_year(2019), {})
    assert f"有 {len(labels)} 个单元格尚未填写" in body
    assert all(label in body for label in labels)


@pytest.mark.demo
def test_correction_is_a_numbered_version_with_reason_and_labelled_diff(app, session) -> None:
    client = demo_client(app, session)
    assert "2019年度统计已发布" in _publish(client).text
    original = session.scalar(select(PublishedReport))
    first_hash = original.content_hash
    # Nothing changed yet: there is nothing to correct.
    same = client.post(
        f"/statistics/republish?{YEAR}",
        data={"confirmed": "1", "reason": "核对后重新发布"},
        follow_redirects=True,
    )
    assert "没有需要更正的内容" in same.text
    assert session.scalar(select(func.count()).select_from(ReportCorrection)) == 0

    voided = _void_a_2019_request(session)
    page = client.get(f"/statistics?{YEAR}").text
    # The difference in the table's own words, the request and the event behind it.
    assert "一、本年新收政府信息公开申请数量" in page and "自然人" in page
    assert f'href="/requests/{voided.id}"' in page and voided.tracking_no in page
    assert "移出" in page and "作废" in page
    assert "更正发布2019年度报告…" in page

    confirm = client.get(f"/statistics/publish/confirm?{YEAR}").text
    assert "更正发布前检查" in confirm and 'name="reason"' in confirm
    assert "与最新发布版本相比" in confirm
    short = client.post(
        f"/statistics/republish?{YEAR}",
        data={"confirmed": "1", "reason": "改"},
        follow_redirects=True,
    )
    assert "请说明更正的原因" in short.text
    done = client.post(
        f"/statistics/republish?{YEAR}",
        data={"confirmed": "1", "reason": "一件申请系登记错误，已作废"},
        follow_redirects=True,
    )
    assert "已更正发布（第1次更正）" in done.text
    correction = session.scalar(select(ReportCorrection))
    assert correction.number == 1 and correction.reason == "一件申请系登记错误，已作废"
    assert correction.content_hash == canonical_hash(correction.numbers) != first_hash
    assert (
        correction.pdf.startswith(b"%PDF")
        and correction.pdf_hash == hashlib.sha256(correction.pdf).hexdigest()
    )
    assert correction.numbers["table3"]["new_received"]["total"] == 9
    # Every version is kept, unchanged; the page lists both and compares with the latest.
    session.refresh(original)
    assert original.content_hash == first_hash
    assert original.numbers["table3"]["new_received"]["total"] == 10
    page = client.get(f"/statistics?{YEAR}").text
    assert "首次发布" in page and "更正发布（第1次更正）" in page
    assert "一件申请系登记错误，已作废" in page
    assert "完全一致" in page
    first_pdf = client.get(f"/reports/pdf?{YEAR}&frozen=1&version=1")
    second_pdf = client.get(f"/reports/pdf?{YEAR}&frozen=1&version=2")
    assert first_pdf.status_code == second_pdf.status_code == 200
    assert second_pdf.data == correction.pdf and first_pdf.data != second_pdf.data
    assert client.get(f"/reports/pdf?{YEAR}&frozen=1&version=3").status_code == 404
    # Frozen in the database too: no UPDATE gets through.
    with pytest.raises(DBAPIError):
        session.execute(text("UPDATE report_corrections SET reason = 'x'"))
    session.rollback()


@pytest.mark.demo
def test_republish_rules(session) -> None:
    agency = session.scalar(select(Agency).where(Agency.code == "nanchang-etdz"))
    scope = Scope.of(agency)
    approver = session.scalar(select(User).where(User.username == "shenhe"))
    viewer = session.scalar(select(User).where(User.username == "chayue"))
    now = datetime.now(UTC)
    with pytest.raises(DomainError, match="尚未发布"):
        republish(
            session, Actor.of(approver), now, scope, 2019, "理由充分的更正", render=rendered_report
        )
    with pytest.raises(PermissionDenied):
        republish(
            session, Actor.of(viewer), now, scope, 2019, "理由充分的更正", render=rendered_report
        )
    from workflow.annual_report.publishing import publish

    original = publish(session, Actor.of(approver), now, scope, 2019, render=rendered_report)
    session.commit()
    with pytest.raises(ValidationError):
        republish(session, Actor.of(approver), now, scope, 2019, "  ", render=rendered_report)
    _void_a_2019_request(session)
    first = republish(
        session, Actor.of(approver), now, scope, 2019, "第一次更正原因", render=rendered_report
    )
    session.commit()
    assert [v.number for v in versions(session, original)] == [1, 2]
    assert all(v.intact for v in versions(session, original))
    assert first.number == 1


@pytest.mark.demo
def test_a_renamed_agency_keeps_its_name_on_published_reports(app, session) -> None:
    client = demo_client(app, session)
    _publish(client)
    agency = session.scalar(select(Agency).where(Agency.code == "nanchang-etdz"))
    old_name = agency.name
    original = session.scalar(select(PublishedReport))
    assert original.agency_name == old_name
    admin = demo_client(app, session, "admin")
    renamed = admin.post(
        f"/admin/agencies/{agency.id}",
        data={"name": "新名称管理委员会", "report_level": "government", "reason": "机构改革更名"},
        follow_redirects=True,
    )
    assert renamed.status_code == 200 and "新名称管理委员会" in renamed.text
    page = client.get(f"/statistics?{YEAR}").text
    assert old_name in page  # the version's agency name column
    pdf = client.get(f"/reports/pdf?{YEAR}&frozen=1&version=1")
    assert old_name in pdf.headers["Content-Disposition"] or pdf.status_code == 200


@pytest.mark.demo
def test_a_changed_table4_cell_links_to_the_cases_and_events_behind_it(app, session) -> None:
    """Table 四 like table 三: a case recorded after publication that counts in the
    published year is named, linked, with the event that moved it."""
    from workflow.challenges import operations as cops

    client = demo_client(app, session)
    _publish(client)
    req = session.scalars(
        select(Request)
        .where(Request.year == 2019, Request.state == "concluded")
        .order_by(Request.id)
    ).first()
    legal = session.scalar(select(User).where(User.username == "fazhi"))
    case = cops.file_challenge(
        session,
        Actor.of(legal),
        datetime.now(UTC) + timedelta(seconds=5),
        req,
        {
            "effective_date": "2019-12-20",
            "kind": "reconsideration",
            "body": "南昌市人民政府",
            "case_no": "洪府复〔2019〕补1号",
        },
    )
    session.commit()
    page = client.get(f"/statistics?{YEAR}").text
    assert "表四" in page and "行政复议" in page and "尚未审结" in page
    assert f'href="/challenges/{case.id}"' in page and "洪府复〔2019〕补1号" in page
    assert "计入" in page and "2019-12-20 登记案件" in page
