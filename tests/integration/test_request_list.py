"""The request list: filters, search, sorting, keyset pages and the CSV export."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from models import Request, RequestFacts
from tests.conftest import NOW, login
from workflow.requests import operations as ops

NUMBER = re.compile(r'<a href="/requests/(\d+)">')


def demo(app, session, user: str = "chayue"):
    """A client signed in as a demo user, in a test marked ``demo``."""
    client = app.test_client()
    client.post("/login", data={"username": user, "password": "gongkai-demo"})
    return client


def ids_on(page: str) -> list[int]:
    return [int(i) for i in NUMBER.findall(page)]


@pytest.mark.demo
def test_keyset_pages_cover_every_request_exactly_once(app, session) -> None:
    client = demo(app, session)
    seen: list[int] = []
    url = "/requests?sort=received_asc"
    for _ in range(20):
        page = client.get(url).text
        seen += ids_on(page)
        found = re.search(r'href="(/requests\?[^"]*n=\d+[^"]*)" rel="next"', page)
        if not found:
            break
        url = found.group(1).replace("&amp;", "&")
    # 10 (2019) + 150 + 1 voided + 4 special-procedure demo requests
    assert len(seen) == len(set(seen)) == 165
    received = [ops.history(session, session.get(Request, i))[0].effective_date for i in seen]
    assert received == sorted(received)


@pytest.mark.demo
def test_filters_and_search(app, session) -> None:
    client = demo(app, session)
    page = client.get("/requests?year=2019&outcome=partially_disclosed").text
    assert "共 4 件" in page
    assert "共 1 件" in client.get("/requests?year=2019&outcome=withheld").text
    assert "共 10 件" in client.get("/requests?year=2019&kind=natural_person").text
    assert "共 1 件" in client.get("/requests?q=2019-0001").text
    # The very requests, not just how many: each filter lists exactly its matches.
    of_2019 = select(Request.id).join(RequestFacts).where(Request.year == 2019)
    partly = of_2019.where(RequestFacts.outcome == "partially_disclosed")
    withheld = of_2019.where(RequestFacts.outcome.like("withheld.%"))
    natural = of_2019.where(RequestFacts.applicant_kind == "natural_person")
    numbered = select(Request.id).where(Request.tracking_no == "2019-0001")
    for query, expected in (
        ("year=2019&outcome=partially_disclosed", partly),
        ("year=2019&outcome=withheld", withheld),
        ("year=2019&kind=natural_person", natural),
        ("q=2019-0001", numbered),
    ):
        assert sorted(ids_on(client.get(f"/requests?{query}").text)) == sorted(
            session.scalars(expected)
        ), query
    assert "共 0 件" in client.get("/requests?q=%25_%25").text  # LIKE wildcards are literal
    assert "共 0 件" in client.get("/requests?year=2019&overdue=1").text
    overdue = client.get("/requests?overdue=1").text
    assert "已逾期" in overdue
    # Garbage never breaks the page.
    for junk in (
        "state=x",
        "year=abc",
        "handler=-1",
        "sort=drop",
        "after=zzz~1",
        "after=~",
        "kind=%00",
    ):
        assert client.get(f"/requests?{junk}").status_code == 200


def test_csv_export_matches_the_filter_and_neutralises_formulas(app, session, users) -> None:
    login_client = app.test_client()
    login(login_client, "registrar")
    today = NOW.date().isoformat()
    for name in ('=HYPERLINK("http://x")', "正常申请人"):
        login_client.post(
            "/requests/new",
            data={
                "applicant_name": name,
                "applicant_kind": "natural_person",
                "subject": f"{name}的申请",
                "channel": "in_person",
                "submitted_on": today,
            },
        )
    export = login_client.get("/requests/export.csv?q=HYPERLINK")
    assert export.status_code == 200 and export.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "申请人", "申请人类型"]
    assert len(rows) == 2 and rows[1][1].startswith("'=")


@pytest.mark.demo
def test_count_stops_at_the_cap(app, session, monkeypatch) -> None:
    import views.requests as list_view

    client = demo(app, session)
    monkeypatch.setattr(list_view, "COUNT_CAP", 100)
    assert "共 100+ 件" in client.get("/requests").text
    assert "共 10 件" in client.get("/requests?year=2019").text
