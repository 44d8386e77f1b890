"""The statistics page: official layout, drill-down, checks, publishing and frozen diffs."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from models import Agency, PublishedReport, Request, RequestFacts, User
from models.report_draft import PublishedReportPdf
from workflow.annual_report.publishing import canonical_hash
from workflow.kernel.actor import Actor
from workflow.requests import operations as ops
from workflow.statistics.layouts import table3_layout
from workflow.statistics.queries import derive
from workflow.statistics.scope import Scope


def demo_client(app, session, username: str = "shenhe"):
    """A client signed in as a demo user, in a test marked ``demo``."""
    client = app.test_client()
    client.post("/login", data={"username": username, "password": "gongkai-demo"})
    return client


@pytest.mark.demo
def test_page_shows_every_official_label_and_spec_numbers(app, session) -> None:
    client = demo_client(app, session, "chayue")
    page = client.get("/statistics?agency=nanchang-etdz&year=2019")
    assert page.status_code == 200
    for row in table3_layout("2019").rows:
        assert row.label in page.text
    # Every check of that year is listed as passed: the number of checks, not any number.
    agency = session.scalar(select(Agency).where(Agency.code == "nanchang-etdz"))
    result = derive(session, Scope.of(agency), 2019)
    assert result.checks and all(c.ok for c in result.checks)
    assert f'<span class="count">全部 {len(result.checks)} 项通过</span>' in page.text
    assert "未经复议直接起诉" in page.text and "复议后起诉" in page.text
    assert "发布2019年度统计" not in page.text  # viewers cannot publish


@pytest.mark.demo
def test_every_number_links_to_exactly_that_many_requests(app, session) -> None:
    client = demo_client(app, session)
    page = client.get("/statistics?agency=nanchang-etdz&year=2019").text
    links = re.findall(r'<a href="(/statistics/drill\?[^"]+)"[^>]*>(\d*)</a>', page)
    assert len(links) > 100
    layout = table3_layout("2019")
    checked = 0
    for url, value in links:
        if "table=3" in url and url.endswith(".natural_person") and value and int(value):
            drill = client.get(url.replace("&amp;", "&"))
            assert drill.status_code == 200
            assert drill.text.count("/requests/") >= int(value)
            # Exactly that many requests, each one counted in that cell.
            listed = {int(i) for i in re.findall(r'href="/requests/(\d+)"', drill.text)}
            assert len(listed) == int(value), url
            row = url.rsplit("cell=", 1)[1].removesuffix(".natural_person")
            for facts in (session.get(RequestFacts, i) for i in listed):
                assert facts.applicant_kind == "natural_person" and not facts.voided
                if row == "new_received":
                    assert facts.received_on.year == 2019, url
                else:
                    assert facts.concluded_on is not None and facts.concluded_on.year == 2019
                if row in {r.key for r in layout.outcome_rows}:
                    assert facts.outcome in layout.row(row).outcome_codes, url
            checked += 1
    assert checked >= 6
    lawsuits = client.get(
        "/statistics/drill?agency=nanchang-etdz&year=2019&table=4&cell=litigation_direct.upheld"
    )
    assert "（2019）赣7101行初112号" in lawsuits.text and "（2019）赣7101行初135号" in lawsuits.text


@pytest.mark.demo
def test_publish_freezes_numbers_and_later_corrections_show_as_differences(app, session) -> None:
    client = demo_client(app, session)
    done = client.post(
        "/statistics/publish?agency=nanchang-etdz&year=2019",
        data={"confirmed": "1"},
        follow_redirects=True,
    )
    assert "已发布" in done.text
    report = session.scalar(select(PublishedReport))
    assert report is not None and report.content_hash == canonical_hash(report.numbers)
    assert report.numbers["table3"]["partially_disclosed"]["natural_person"] == 4
    frozen = session.scalar(select(PublishedReportPdf))
    assert frozen is not None and frozen.pdf.startswith(b"%PDF")
    assert frozen.pdf_hash == hashlib.sha256(frozen.pdf).hexdigest()
    assert "完全一致" in done.text
    again = client.post(
        "/statistics/publish?agency=nanchang-etdz&year=2019",
        data={"confirmed": "1"},
        follow_redirects=True,
    )
    assert "已发布，发布后不能更改" in again.text
    # A late correction: a 2019 request turns out to have been registered in error.
    req = session.scalars(select(Request).where(Request.year == 2019).order_by(Request.id)).first()
    admin = session.scalar(select(User).where(User.username == "admin"))
    ops.fire(
        session,
        req,
        "void",
        Actor.of(admin),
        datetime.now(UTC),
        {"effective_date": "2020-01-10", "reason": "登记错误"},
    )
    session.commit()
    page = client.get("/statistics?agency=nanchang-etdz&year=2019").text
    assert "处不同" in page and report.content_hash in page
    session.refresh(report)
    assert report.numbers["table3"]["new_received"]["total"] == 10  # frozen


@pytest.mark.demo
def test_current_year_cannot_be_published_and_viewers_cannot_publish(app, session) -> None:
    client = demo_client(app, session)
    year = datetime.now(UTC).year
    page = client.post(
        f"/statistics/publish?agency=nanchang-etdz&year={year}",
        data={"confirmed": "1"},
        follow_redirects=True,
    )
    assert "尚未结束" in page.text
    viewer = app.test_client()
    viewer.post("/login", data={"username": "chayue", "password": "gongkai-demo"})
    refused = viewer.post("/statistics/publish?agency=nanchang-etdz&year=2019")
    assert refused.status_code in (302, 403)
    assert session.scalar(select(PublishedReport)) is None


@pytest.mark.demo
def test_bad_parameters_are_404_not_500(app, session) -> None:
    client = demo_client(app, session)
    assert client.get("/statistics?agency=nope").status_code == 404
    assert client.get("/statistics?agency=nanchang-etdz&year=abc").status_code == 200
    assert (
        client.get("/statistics/drill?agency=nanchang-etdz&year=2019&table=3&cell=x.y").status_code
        == 404
    )
    assert (
        client.get(
            "/statistics/drill?agency=nanchang-etdz&year=2019&table=4&cell=nodot"
        ).status_code
        == 404
    )
