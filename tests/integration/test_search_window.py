"""The list's bounded search: each page view examines at most SEARCH_WINDOW requests.

A search that finds nothing in its window offers to continue after it; following the
links reaches every match exactly once. The CSV export is never windowed.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select

from models import Request, User
from models.db import make_session_factory
from tests.conftest import NOW, make_role_users, make_test_agency
from tests.integration.routes import signed_in
from tests.templates import Templates
from workflow.kernel.actor import Actor
from workflow.requests import operations as ops
from workflow.requests import query as request_query

RARE = "罕见词"
COMMON = "征收"
FIRST_DAY = date(2025, 10, 6)
#: Request ``i`` is received FIRST_DAY + 7·i days (i = 0 … 29, so 2025 and 2026).
COUNT = 30
#: The rare word is in a few old requests' subject (and one applicant's name).
RARE_SUBJECT = {2, 7, 12}
RARE_NAME = {0}
#: These requests are filed by a company (the others by natural persons).
COMPANIES = {0, 5, 7, 20}

LINK = re.compile(r'<a class="[^"]*" href="([^"]+)" rel="next">([^<]+)</a>')
NUMBER = re.compile(r'<a href="/requests/(\d+)">')
COUNTED = re.compile(r"(共|本段找到) (\d+\+?) 件")
NOTE = re.compile(r'<p class="muted search-window">([^<]*)</p>')


def _fill(engine: Engine) -> None:
    """COUNT requests a week apart, registered in the test agency (one user per role)."""
    session = make_session_factory(engine)()
    agency = make_test_agency(session)
    users = make_role_users(session, agency)
    for i in range(COUNT):
        day = FIRST_DAY + timedelta(days=7 * i)
        company = i in COMPANIES
        ops.register(
            session,
            Actor.of(users["registrar"]),
            NOW,
            {
                "applicant_name": f"{RARE}公司" if i in RARE_NAME else f"申请人{i}",
                "applicant_kind": "commercial_enterprise" if company else "natural_person",
                "subject": f"关于{COMMON}补偿{RARE if i in RARE_SUBJECT else ''}的申请 {i}",
                "channel": "in_person",
                "submitted_on": day.isoformat(),
            },
            agency=agency,
        )
        session.commit()
    session.close()


@pytest.fixture(scope="session")
def search_template(templates: Templates) -> Templates:
    """The world of this module, registered once per worker (tests/templates.py)."""
    templates.build("search", _fill, start="empty")
    return templates


@pytest.fixture
def db_url(search_template: Templates, tmp_path) -> str:
    """Each test of this module starts on a fresh copy of that world."""
    return search_template.copy("search", "test", tmp_path)


@pytest.fixture
def world(app, session):
    """The signed-in viewer's client, and the ids of the COUNT requests by index."""
    viewer = session.scalar(select(User).where(User.username == "viewer"))
    ids = list(session.scalars(select(Request.id).order_by(Request.id)))
    assert len(ids) == COUNT
    return signed_in(app, session, viewer), ids


def window(monkeypatch, size: int) -> None:
    monkeypatch.setattr(request_query, "SEARCH_WINDOW", size)


def walk(client, url: str) -> tuple[list[int], list[str]]:
    """Every request id shown, following "下一页" and "继续搜索" links to the end."""
    seen: list[int] = []
    pages: list[str] = []
    for _ in range(100):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.text
        pages.append(page)
        seen += [int(i) for i in NUMBER.findall(page)]
        link = LINK.search(page)
        if not link:
            return seen, pages
        url = link.group(1).replace("&amp;", "&")
    raise AssertionError("the links never end")


def rare_matches(ids: list[int], among: set[int] | None = None) -> list[int]:
    """The ids matching RARE, newest first (optionally only the indexes in ``among``)."""
    wanted = RARE_SUBJECT | RARE_NAME
    return [ids[i] for i in reversed(range(COUNT)) if i in wanted and (among is None or i in among)]


def test_first_page_notes_the_window_and_offers_to_continue(world, monkeypatch) -> None:
    client, _ = world
    window(monkeypatch, 5)
    page = client.get(f"/requests?q={RARE}").text
    newest = FIRST_DAY + timedelta(days=7 * (COUNT - 1))
    oldest = FIRST_DAY + timedelta(days=7 * (COUNT - 5))
    assert NOTE.search(page).group(1) == (
        f"已在 5 件申请中搜索（收到日期 {oldest} 至 {newest}），可继续搜索其余申请。"
    )
    assert COUNTED.search(page).groups() == ("本段找到", "0")
    assert "这一段中没有符合条件的申请" in page
    link, label = LINK.search(page).groups()
    assert label == "继续搜索更早的申请"
    assert f"after={oldest}~" in link


def test_continuing_reaches_every_match_exactly_once(world, monkeypatch) -> None:
    client, ids = world
    window(monkeypatch, 5)
    seen, pages = walk(client, f"/requests?q={RARE}")
    assert seen == rare_matches(ids)
    # Six windows of five; each counts what it found, together every match once.
    assert len(pages) == COUNT // 5
    counts = [COUNTED.search(p).groups() for p in pages]
    assert {label for label, _ in counts} == {"本段找到"}
    assert sum(int(n) for _, n in counts) == len(seen)
    assert "已搜索到列表末尾" in pages[-1] and "继续搜索" not in pages[-1]


@pytest.mark.parametrize("size", [1, 2, 50])
@pytest.mark.parametrize("span", [3, 5, 7, 29, 30])
def test_any_page_and_window_size_finds_each_match_once(world, monkeypatch, size, span) -> None:
    import views.requests as list_view

    client, ids = world
    window(monkeypatch, span)
    monkeypatch.setattr(list_view, "PAGE_SIZE", size)
    seen, _ = walk(client, f"/requests?q={RARE}")
    assert seen == rare_matches(ids)


def test_a_full_page_continues_with_the_next_page(world, monkeypatch) -> None:
    import views.requests as list_view

    client, ids = world
    window(monkeypatch, 5)
    monkeypatch.setattr(list_view, "PAGE_SIZE", 2)
    page = client.get(f"/requests?q={COMMON}").text
    assert LINK.search(page).group(2) == "下一页"
    assert "继续搜索" not in page
    assert COUNTED.search(page).groups() == ("本段找到", "5")  # the window's five all match
    seen, pages = walk(client, f"/requests?q={COMMON}")
    assert seen == list(reversed(ids))
    assert all("继续搜索" not in p for p in pages)


def test_other_filters_bound_the_window_too(world, monkeypatch) -> None:
    client, ids = world
    window(monkeypatch, 2)
    seen, pages = walk(client, f"/requests?q={RARE}&kind=commercial_enterprise")
    assert seen == rare_matches(ids, among=COMPANIES)
    # The window counts only companies: the first one spans requests 20 and 7.
    assert (
        f"收到日期 {FIRST_DAY + timedelta(days=49)} 至 {FIRST_DAY + timedelta(days=140)}"
        in (pages[0])
    )
    in_2025 = {i for i in range(COUNT) if (FIRST_DAY + timedelta(days=7 * i)).year == 2025}
    seen, _ = walk(client, f"/requests?q={RARE}&year=2025")
    assert seen == rare_matches(ids, among=in_2025)
    seen, _ = walk(client, f"/requests?q={RARE}&year=2025&kind=natural_person")
    assert seen == rare_matches(ids, among=in_2025 - COMPANIES)


@pytest.mark.parametrize(
    ("sort", "label"),
    [
        ("received_asc", "继续搜索更晚的申请"),
        ("tracking_desc", "继续搜索编号更小的申请"),
        ("tracking_asc", "继续搜索编号更大的申请"),
    ],
)
def test_other_sort_orders(world, monkeypatch, sort, label) -> None:
    client, ids = world
    window(monkeypatch, 4)
    url = f"/requests?q={RARE}&sort={sort}"
    page = client.get(url).text
    assert LINK.search(page).group(2) == label
    seen, _ = walk(client, url)
    assert sorted(seen) == sorted(rare_matches(ids)) and len(seen) == len(set(seen))
    if sort == "received_asc":
        assert seen == list(reversed(rare_matches(ids)))


def test_a_list_within_one_window_is_searched_and_counted_whole(world, monkeypatch) -> None:
    import views.requests as list_view

    client, ids = world
    window(monkeypatch, COUNT)
    monkeypatch.setattr(list_view, "PAGE_SIZE", 2)
    seen, pages = walk(client, f"/requests?q={RARE}")
    assert seen == rare_matches(ids)
    assert all(COUNTED.search(p).groups() == ("共", "4") for p in pages)
    assert all("search-window" not in p and "继续搜索" not in p for p in pages)


def test_the_export_is_never_windowed(world, monkeypatch) -> None:
    client, ids = world
    window(monkeypatch, 3)
    export = client.get(f"/requests/export.csv?q={RARE}")
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig"))))
    assert len(rows) == 1 + len(rare_matches(ids))
    # The matching requests themselves (by applicant), from every window, none other.
    expected = [f"{RARE}公司" if i in RARE_NAME else f"申请人{i}" for i in RARE_SUBJECT | RARE_NAME]
    assert sorted(row[1] for row in rows[1:]) == sorted(expected)


@pytest.mark.parametrize("sort", ["received_desc", "tracking_asc"])
@pytest.mark.parametrize(
    "after",
    [
        "zzz~1",
        "~",
        "~~",
        "2026-13-01~1",
        "2026-01-01~-1",
        "2026-01-01~99999999999999999999999",
        "2026-01-01~１",
        "2099-01-01~1",
        "1900-01-01~1",
        "x" * 200,
    ],
)
def test_bad_cursors_never_break_the_search(world, monkeypatch, sort, after) -> None:
    client, _ = world
    window(monkeypatch, 5)
    for q in (RARE, ""):
        response = client.get("/requests", query_string={"q": q, "sort": sort, "after": after})
        assert response.status_code == 200, (q, after)
