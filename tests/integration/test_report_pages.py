"""The annual-report editor and downloads, through the test client on the demo data."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from documents.report_pdf import rendered_report
from models import Agency, User
from models.report_draft import ReportDraft
from tests.conftest import NOW, login, make_user
from tests.integration import report_fixtures
from tests.integration.report_fixtures import client_as
from workflow.annual_report.archive import freeze_pdf
from workflow.annual_report.publishing import publish
from workflow.kernel.actor import Actor, local_today
from workflow.statistics.scope import Scope

pytestmark = pytest.mark.demo
demo_agency = report_fixtures.demo_agency

URL = "/reports?agency=nanchang-etdz&year=2019"
SENTENCE = "本年度共收到政府信息公开申请10件，上年结转0件，办结10件"


def form(**fields: str) -> dict[str, str]:
    return {"version": "0", "shown_format": "2019", **fields}


def textarea(page: str, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, name
    return unescape(match.group(1)).strip()


def drafts(session) -> list[ReportDraft]:
    session.expire_all()
    return list(session.scalars(select(ReportDraft).order_by(ReportDraft.year)))


def test_editor_shows_report_checks_tables_and_sentences(app):
    page = client_as(app, "chengban").get(URL)
    assert page.status_code == 200
    body = page.text
    assert "南昌经济技术开发区2019年度政府信息公开工作年度报告" in body
    assert re.search(r"全部 \d+ 项检查通过", body)
    for label in (
        "（本列数据的勾稽关系为",
        "法人或其他组织",
        "未经复议直接起诉",
        "第二十条第（九）项",
    ):
        assert label in body
    assert 'name="t2-rules.new_made"' in body and 'name="overview"' in body
    assert 'value="overview:requests"' in body
    assert SENTENCE in body
    assert "/reports/pdf?agency=nanchang-etdz&amp;year=2019" in body


def test_default_year_is_last_year(app):
    last_year = local_today(datetime.now(UTC)).year - 1
    page = client_as(app, "chengban").get("/reports")
    assert page.status_code == 200
    assert f"南昌经济技术开发区{last_year}年度政府信息公开工作年度报告" in page.text


def test_bad_table2_input_is_shown_inline_and_nothing_saved(app, session):
    client = client_as(app, "chengban")
    page = client.post(
        URL, data=form(**{"t2-rules.new_made": "十二", "t2-procurement.amount": "1.234"})
    )
    assert page.status_code == 400
    assert "请填写非负整数" in page.text and "最多保留2位小数" in page.text
    assert re.search(r'name="t2-rules.new_made"[^>]*value="十二"', page.text)
    assert re.search(r'id="t2-rules.new_made"[^>]*aria-invalid="true"', page.text)
    assert drafts(session) == []


def test_insert_sentence_appends_it_without_saving(app, session):
    client = client_as(app, "chengban")
    page = client.post(URL, data=form(overview="前言。", insert="overview:requests"))
    assert page.status_code == 200
    assert textarea(page.text, "overview").startswith("前言。\n" + SENTENCE)
    assert "已在“一、总体情况”末尾插入统计语句" in page.text
    page = client.post(URL, data=form(insert="other_matters:challenges"))
    assert textarea(page.text, "other_matters").startswith("本年度因政府信息公开被申请行政复议0件")
    assert drafts(session) == []


def test_save_stores_the_draft_and_rule7_flags_a_wrong_number(app, session):
    client = client_as(app, "chengban")
    saved = client.post(
        URL,
        data=form(
            overview="本年度共收到政府信息公开申请12件。",
            problems="人员不足。",
            issuer="南昌经开区党工委管委会办公室",
            issued_on="2020-01-14",
            **{"t2-licensing.change": "减8", "t2-procurement.amount": "3,010,869.24"},
        ),
    )
    assert saved.status_code == 302, saved.text
    (draft,) = drafts(session)
    assert (draft.year, draft.overview, draft.issuer) == (
        2019,
        "本年度共收到政府信息公开申请12件。",
        "南昌经开区党工委管委会办公室",
    )
    assert draft.table2 == {"licensing.change": -8, "procurement.amount": "3010869.24"}
    page = client.get(URL).text
    assert "年度报告已保存" in page
    assert re.search(r'name="t2-licensing.change"[^>]*value="减8"', page)
    assert "规则7" in page and "“收到政府信息公开申请12件”，表中为10件" in page
    assert "2020年1月14日" in page
    pdf = client.get(URL.replace("/reports", "/reports/pdf"))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")


def test_rule6_failure_against_last_year_is_shown(app, session, demo_agency):
    session.add(
        ReportDraft(
            agency_id=demo_agency.id,
            year=2020,
            format="2021",
            table2={"rules.in_force": 10, "normative_documents.in_force": 5},
        )
    )
    session.commit()
    client = client_as(app, "chengban")
    url = "/reports?agency=nanchang-etdz&year=2021"
    values = {"t2-rules.issued": "2", "t2-rules.repealed": "1", "t2-rules.in_force": "20"}
    values |= {"t2-normative_documents.issued": "0", "t2-normative_documents.repealed": "0"}
    values |= {"t2-normative_documents.in_force": "5"}
    saved = client.post(url, data={"version": "0", "shown_format": "2021", **values})
    assert saved.status_code == 302, saved.text
    page = client.get(url).text
    failed = re.search(r"项检查未通过(.*?)</ul>", page, re.S)
    assert failed and "规则6" in failed.group(1) and "上年现行有效(10)" in failed.group(1)
    assert "行政规范性文件" not in failed.group(1)  # 5 + 0 − 0 = 5 holds
    assert 'class="num flagged"' in page


def test_conflicting_saves(app, session):
    first, second = client_as(app, "chengban"), client_as(app, "shenhe")
    assert first.post(URL, data=form(overview="甲")).status_code == 302
    late = second.post(URL, data=form(overview="乙"))
    assert late.status_code == 409 and "已被他人修改" in late.text
    assert drafts(session)[0].overview == "甲"
    assert 'name="version" type="hidden" value="1"' in late.text


def test_roles_and_agencies(app, session, demo_agency):
    registrar = client_as(app, "dengji")
    page = registrar.get(URL)
    assert page.status_code == 200 and 'name="overview"' not in page.text
    assert "只有南昌经济技术开发区的管理员、审核人或承办人可以编辑" in page.text
    assert registrar.post(URL, data=form(overview="x")).status_code == 403
    assert registrar.get(URL.replace("/reports", "/reports/pdf")).status_code == 200
    viewer = client_as(app, "chayue")
    assert viewer.post(URL, data=form(overview="x")).status_code == 403
    assert viewer.get(URL.replace("/reports", "/reports/xlsx")).status_code == 200

    # A superior agency reads its subordinate's report but does not edit it.
    sub = "/reports?agency=nanchang-etdz-zrzy&year=2019"
    handler = client_as(app, "chengban")
    assert handler.get(sub).status_code == 200
    assert handler.post(sub, data=form(overview="x")).status_code == 403

    # Another branch does not even see the agency.
    other = Agency(code="other-county", name="某县人民政府")
    session.add(other)
    session.commit()
    make_user(session, other, "outsider", "handler")
    outsider = app.test_client()
    login(outsider, "outsider")
    assert outsider.get(URL).status_code == 404
    assert outsider.get(URL.replace("/reports", "/reports/pdf")).status_code == 404
    assert outsider.post(URL, data=form(overview="x")).status_code == 404
    assert drafts(session) == []


def test_downloads_have_chinese_filenames(app):
    client = client_as(app, "chayue")
    pdf = client.get("/reports/pdf?agency=nanchang-etdz&year=2019")
    assert pdf.mimetype == "application/pdf"
    title = "南昌经济技术开发区2019年度政府信息公开工作年度报告"
    disposition = pdf.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(title + '.pdf')}" in disposition
    xlsx = client.get("/reports/xlsx?agency=nanchang-etdz&year=2019&subs=1")
    assert xlsx.status_code == 200 and xlsx.data.startswith(b"PK")
    assert "spreadsheetml" in xlsx.mimetype
    assert client.get("/reports/pdf?agency=nanchang-etdz&year=2019&frozen=1").status_code == 404


def test_published_report_offers_the_frozen_pdf_and_flags_changes(app, session, demo_agency):
    approver = session.scalar(select(User).where(User.username == "shenhe"))
    published = publish(session, Actor.of(approver), NOW, Scope.of(demo_agency), 2019)
    frozen = freeze_pdf(session, published, rendered_report)
    session.commit()
    client = client_as(app, "chengban")
    page = client.get(URL).text
    assert "本年度报告已发布" in page and frozen.pdf_hash in page
    assert "与已发布版本完全一致" in page
    download = client.get("/reports/pdf?agency=nanchang-etdz&year=2019&frozen=1")
    assert download.status_code == 200 and download.data == frozen.pdf
    assert client.post(URL, data=form(overview="发布后补充的说明。")).status_code == 302
    page = client.get(URL).text
    assert "按当前数据重新生成的PDF与已发布版本不同" in page
    assert client.get("/reports/pdf?agency=nanchang-etdz&year=2019&frozen=1").data == frozen.pdf
    count = session.scalar(select(func.count()).select_from(ReportDraft))
    assert count == 1
