"""The supervisor's view against a hand-built province (tests/integration/supervision_world.py).

Every figure is checked against the numbers counted by hand from the fixture's story; the
pages are checked for scoping (a subordinate never sees its superior's or a sibling's
view, a supervisor never writes to a subordinate's request), the links behind the numbers
(they list exactly the requests counted), the XLSX export and the SVG charts.
"""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Agency, Request, RequestFacts, User
from models.agency import subtree_ids
from tests.conftest import make_user
from tests.integration.routes import signed_in
from tests.integration.supervision_world import TODAY, Province, build_province
from workflow.annual_report.tracker import consolidated, deadline_of, report_tracker
from workflow.kernel.calendar import DEFAULT_CALENDAR
from workflow.kernel.errors import ValidationError
from workflow.requests.clocks import refresh_reply_days
from workflow.statistics.queries import derive
from workflow.statistics.scope import Scope
from workflow.statistics.supervision import (
    Period,
    median,
    sorted_rows,
    supervision_table,
    trends,
)
from workflow.store.calendar import load_calendar

YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))


@pytest.fixture
def province(session: Session, agency: Agency) -> Province:
    supervisor = make_user(session, agency, "supervisor", "viewer")
    return build_province(session, agency, supervisor)


def _table(session: Session, p: Province, period: Period = YEAR):
    ids = subtree_ids(session, p.root.id)
    return supervision_table(session, p.root, ids, period, load_calendar(session), TODAY)


def _rows(session: Session, p: Province, period: Period = YEAR):
    table = _table(session, p, period)
    return {row.code: row for row in table.rows}, table.total


# ------------------------------------------------------------------ the figures


def test_reply_facts_in_the_projection(session: Session, province: Province) -> None:
    r = province.requests
    facts = {k: session.get(RequestFacts, req.id) for k, req in r.items()}
    assert (facts["r1"].reply_days, facts["r1"].replied_late) == (6, False)
    assert (facts["r2"].reply_days, facts["r2"].replied_late) == (21, True)
    assert facts["r4"].reply_days is None  # a withdrawal is no reply
    assert facts["r3"].reply_days is None  # still open
    assert facts["r10"].reply_days == 1


def test_every_figure_of_every_agency(session: Session, province: Province) -> None:
    rows, total = _rows(session, province)
    assert list(rows) == ["test-agency", "a-bureau", "a1-office", "b-bureau"]
    a, a1, b, root = rows["a-bureau"], rows["a1-office"], rows["b-bureau"], rows["test-agency"]
    expected = {
        "a-bureau": dict(received=3, concluded=3, open=1, replied=2, late=1),
        "a1-office": dict(received=1, concluded=1, open=0, replied=1, late=0),
        "b-bureau": dict(received=3, concluded=1, open=2, replied=1, late=0),
        "test-agency": dict(received=1, concluded=1, open=0, replied=1, late=0),
    }
    for code, figures in expected.items():
        assert {m: rows[code].count(m) for m in figures} == figures, code
    assert (a.overdue, a1.overdue, b.overdue, root.overdue) == (1, 0, 1, 0)
    assert a.late_share == 0.5 and b.late_share == 0.0
    assert (a.median_days, a1.median_days, b.median_days, root.median_days) == (13.5, 2, 4, 1)
    assert a.outcome_share("disclosed") == pytest.approx(1 / 3)
    assert a.outcome_share("withheld") == pytest.approx(1 / 3)
    assert a.outcome_share("other") == pytest.approx(1 / 3)  # the withdrawal
    assert b.outcome_share("partially_disclosed") == 1.0
    assert (a.count("challenged"), a.count("challenge_concluded"), a.count("corrected")) == (
        2,
        2,
        1,
    )
    assert a.correction_rate == 0.5
    assert (b.count("challenged"), b.count("challenge_concluded")) == (1, 0)
    assert b.correction_rate is None  # nothing concluded: no rate, not 0 %
    assert total.count("received") == 8 and total.count("concluded") == 6
    assert total.overdue == 2 and total.count("late") == 1
    assert total.median_days == 4  # of 1, 2, 4, 6, 21


def test_the_period_decides_what_counts(session: Session, province: Province) -> None:
    spring = Period(date(2026, 3, 1), date(2026, 3, 31))
    rows, total = _rows(session, province, spring)
    a = rows["a-bureau"]
    assert (a.count("received"), a.count("concluded"), a.count("open")) == (2, 2, 0)
    assert a.count("challenged") == 0  # both cases were filed later
    assert rows["b-bureau"].count("challenged") == 1  # filed 2 March
    # Received in March, decided on the last day: open at the end of 10 March.
    early = Period(date(2026, 3, 1), date(2026, 3, 10))
    assert _rows(session, province, early)[0]["a-bureau"].count("open") == 1
    # Overdue is now, whatever the period.
    assert total.overdue == 2


def test_a_calendar_change_recounts_the_reply_days(session: Session, province: Province) -> None:
    from workflow.admin.operations import add_calendar_override

    add_calendar_override(session, "2026-03-05", False, "测试调休")  # as the CLI does
    session.commit()
    r1 = session.get(RequestFacts, province.requests["r1"].id)
    session.refresh(r1)
    assert r1.reply_days == 5
    assert refresh_reply_days(session, load_calendar(session)) == 0  # already current


def test_sorting_puts_empty_values_last(session: Session, province: Province) -> None:
    table = _table(session, province)
    by_rate = sorted_rows(table.rows, "correction_rate", descending=True)
    assert [r.code for r in by_rate][:1] == ["a-bureau"]
    assert by_rate[-1].correction_rate is None
    by_received = sorted_rows(table.rows, "received", descending=False)
    assert [r.count("received") for r in by_received] == [1, 1, 3, 3]


def test_median_of_histograms() -> None:
    assert median({}) is None
    assert median({5: 1}) == 5
    assert median({1: 1, 3: 1}) == 2
    assert median({1: 2, 9: 1}) == 1
    assert median({2: 1, 4: 2, 10: 1}) == 4


def test_period_input_is_checked() -> None:
    with pytest.raises(ValidationError, match="结束日期不能早于开始日期"):
        Period.parse("2026-05-01", "2026-04-01", TODAY)
    with pytest.raises(ValidationError, match="格式"):
        Period.parse("2026-13-01", "", TODAY)
    assert Period.parse("", "", TODAY) == Period(date(2026, 1, 1), TODAY)


# ------------------------------------------------------------------ tracker, consolidated


def test_report_deadlines_by_level() -> None:
    assert deadline_of("department", 2025) == date(2026, 1, 31)
    assert deadline_of("government", 2025) == date(2026, 3, 31)
    assert deadline_of(None, 2025) == date(2026, 3, 31)


def test_report_tracker_statuses(session: Session, province: Province) -> None:
    from models import PublishedReport, ReportDraft

    province.a.report_level = "department"
    session.add(ReportDraft(agency_id=province.b.id, year=2025))
    session.add_all(
        [
            PublishedReport(
                agency_id=province.a1.id,
                year=2025,
                format="2021",
                numbers={},
                content_hash="0" * 64,
                published_at=__import__("datetime").datetime(2026, 1, 10, 2),
            ),
            PublishedReport(
                agency_id=province.root.id,
                year=2025,
                format="2021",
                numbers={},
                content_hash="1" * 64,
                published_at=__import__("datetime").datetime(2026, 4, 2, 2),
            ),
        ]
    )
    session.commit()
    ids = subtree_ids(session, province.root.id)
    lines = {line.agency.code: line for line in report_tracker(session, ids, 2025, TODAY)}
    assert lines["a1-office"].status == "published"
    assert lines["test-agency"].status == "published_late"  # 2 April > 31 March
    assert lines["b-bureau"].status == "draft" and lines["b-bureau"].overdue
    assert lines["a-bureau"].status == "not_started"
    assert lines["a-bureau"].deadline == date(2026, 1, 31)
    assert not lines["a1-office"].has_pdf


def test_tracker_carries_each_agencys_checks(session: Session, province: Province) -> None:
    ids = subtree_ids(session, province.root.id)
    lines = {line.agency.code: line for line in report_tracker(session, ids, 2026, TODAY)}
    for code, line in lines.items():
        own = derive(session, Scope.of(line.agency), 2026)
        # Rules 1–5 come first; rules 6–8 and the fold check: test_tracker_checks.py.
        assert [(c.rule, c.ok, c.detail) for c in line.checks[: len(own.checks)]] == [
            (c.rule, c.ok, c.detail) for c in own.checks
        ], code


def test_consolidated_equals_the_statistics_page_and_sums_its_breakdown(
    session: Session, province: Province
) -> None:
    ids = subtree_ids(session, province.root.id)
    found = consolidated(session, province.root, ids, 2026)
    page = derive(session, Scope.of(province.root, with_subordinates=True), 2026)
    assert found.table3 == page.table3
    assert found.table4 == page.table4
    for row, columns in found.table3.items():
        for column, n in columns.items():
            assert n == sum(t[row][column] for t in found.table3_by_agency.values())
    for group, columns in found.table4.items():
        for column, n in columns.items():
            assert n == sum(t[group][column] for t in found.table4_by_agency.values())
    assert found.table3_by_agency[province.a.id]["new_received"]["total"] == 3


# ------------------------------------------------------------------ pages and scoping


def _cells(html: str, agency: str) -> dict[str, str]:
    row = re.search(rf'<tr data-agency="{agency}">(.*?)</tr>', html, re.S)
    assert row, agency
    return {
        key: re.sub(r"<[^>]+>", "", text).strip()
        for key, text in re.findall(r'data-column="([^"]+)">(.*?)</td>', row.group(1), re.S)
    }


def _links(html: str, agency: str) -> dict[str, str]:
    row = re.search(rf'<tr data-agency="{agency}">(.*?)</tr>', html, re.S)
    assert row
    return dict(re.findall(r'data-column="([^"]+)"><a href="([^"]+)"', row.group(1)))


def test_supervisor_page_shows_the_figures(app, session: Session, province: Province) -> None:
    client = signed_in(app, session, province.supervisor)
    html = client.get("/supervision?start=2026-01-01&end=2026-12-31").get_data(as_text=True)
    cells = _cells(html, "a-bureau")
    assert cells["received"] == "3" and cells["late_share"] == "50.0%"
    assert cells["median_days"] == "13.5" and cells["correction_rate"] == "50.0%"
    assert _cells(html, "b-bureau")["correction_rate"] == "—"
    assert "另一机关" not in html
    sorted_html = client.get("/supervision?start=2026-01-01&end=2026-12-31&sort=open&desc=1")
    order = re.findall(r'<tr data-agency="([^"]+)">', sorted_html.get_data(as_text=True))
    assert order[0] == "b-bureau"


def test_each_number_links_to_exactly_its_requests(
    app, session: Session, province: Province
) -> None:
    client = signed_in(app, session, province.supervisor)
    html = client.get("/supervision?start=2026-01-01&end=2026-12-31").get_data(as_text=True)
    r = province.requests
    want = {
        ("a-bureau", "received"): {"r1", "r2", "r3"},
        ("a-bureau", "concluded"): {"r1", "r2", "r4"},
        ("a-bureau", "open"): {"r3"},
        ("a-bureau", "overdue"): {"r3"},
        ("a-bureau", "late"): {"r2"},
        ("a-bureau", "outcome:withheld"): {"r2"},
        ("a-bureau", "challenged"): {"r1", "r2"},
        ("a-bureau", "correction_rate"): {"r2"},
        ("b-bureau", "open"): {"r7", "r8"},
        ("a1-office", "replied"): {"r6"},
    }
    for (agency, column), keys in want.items():
        url = _links(html, agency)[column].replace("&amp;", "&")
        listed = client.get(url).get_data(as_text=True)
        numbers = set(re.findall(r"\d{4}-\d{4}", listed))
        tracking = {k: session.get(Request, r[k].id).tracking_no for k in r}
        # Tracking numbers repeat across agencies: the agency's own requests listed.
        agency_id = session.scalar(select(Agency.id).where(Agency.code == agency))
        shown = {k for k, t in tracking.items() if t in numbers and r[k].agency_id == agency_id}
        assert f"共 {len(keys)} 件" in listed, (agency, column)
        assert shown == keys, (agency, column, url)


def test_subordinate_sees_neither_superior_nor_sibling(
    app, session: Session, province: Province
) -> None:
    a_clerk = signed_in(app, session, province.clerk_a)
    assert a_clerk.get("/supervision").status_code == 200  # 甲局 supervises its office
    assert a_clerk.get("/supervision?agency=test-agency").status_code == 404
    assert a_clerk.get("/supervision?agency=b-bureau").status_code == 404
    assert "乙局" not in a_clerk.get("/supervision").get_data(as_text=True)
    b_clerk = signed_in(app, session, province.clerk_b)
    assert b_clerk.get("/supervision").status_code == 403  # nobody below 乙局
    assert b_clerk.get("/supervision/export.xlsx?agency=test-agency").status_code == 403
    outsider = signed_in(app, session, province.outsider)
    assert outsider.get("/supervision?agency=test-agency").status_code == 403
    # A subordinate's list never shows the superior's requests through the filter.
    listed = a_clerk.get(f"/requests?agency={province.root.id}").get_data(as_text=True)
    assert session.get(Request, province.requests["r10"].id).subject not in listed


def test_supervisor_cannot_write_to_subordinate_requests(
    app, session: Session, province: Province
) -> None:
    boss = make_user(session, province.root, "boss", "registrar", "handler", "approver")
    client = signed_in(app, session, boss)
    r3 = province.requests["r3"]
    version = session.get(Request, r3.id).version
    assert client.get(f"/requests/{r3.id}").status_code == 200  # may read
    response = client.post(
        f"/requests/{r3.id}/act/decide",
        data={
            "expected_version": str(version),
            "effective_date": "2026-11-19",
            "outcome": "disclosed",
            "delivery": "post",
        },
    )
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Request, r3.id).state == "in_review"


def test_xlsx_export_content(app, session: Session, province: Province) -> None:
    province.a.name = '=HYPERLINK("http://x")'
    session.commit()
    client = signed_in(app, session, province.supervisor)
    response = client.get("/supervision/export.xlsx?start=2026-01-01&end=2026-12-31")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    lines = list(sheet.iter_rows(min_row=5))
    rows = {row[0].value: row for row in lines[:-1]}
    header = [c.value for c in sheet[4]]
    total = lines[-1]
    assert total[1].value == "合计" and total[header.index("收到")].value == 8
    a = rows["a-bureau"]
    assert a[1].data_type == "s" and a[1].value.strip() == '=HYPERLINK("http://x")'
    assert a[header.index("收到")].value == 3
    assert a[header.index("逾期答复率")].value == 0.5
    assert a[header.index("逾期答复率")].number_format == "0.0%"
    assert a[header.index("答复用时中位数（工作日）")].value == 13.5
    assert rows["b-bureau"][header.index("纠正率")].value == "—"
    assert rows["a1-office"][1].value == "　　甲局下属所"  # indented by depth, as text


def test_trends_count_what_the_projection_rows_say(session: Session, province: Province) -> None:
    """Year over year and month by month, from the month counts: the subtree's rows
    counted one by one (voided left out, the first conclusion's date), and nothing of the
    agency outside the subtree."""
    ids = subtree_ids(session, province.root.id)
    rows = session.scalars(
        select(RequestFacts).where(RequestFacts.agency_id.in_(ids), RequestFacts.voided.is_(False))
    ).all()
    got = trends(session, sorted(ids), 2026, 2024)
    assert got.years == [2024, 2025, 2026]
    assert got.received_by_year == [sum(r.received_on.year == y for r in rows) for y in got.years]
    assert got.concluded_by_year == [
        sum(r.concluded_on is not None and r.concluded_on.year == y for r in rows)
        for y in got.years
    ]
    assert got.received_by_month == [
        sum(r.received_on.year == 2026 and r.received_on.month == m for r in rows)
        for m in range(1, 13)
    ]
    assert got.concluded_by_month == [
        sum(
            r.concluded_on is not None and r.concluded_on.year == 2026 and r.concluded_on.month == m
            for r in rows
        )
        for m in range(1, 13)
    ]
    assert sum(got.received_by_year) > 0 and sum(got.concluded_by_month) > 0
    everyone = trends(session, sorted({*ids, province.other.id}), 2026, 2024)
    assert sum(everyone.received_by_year) > sum(got.received_by_year)  # the other agency's


def test_trends_are_svg(app, session: Session, province: Province) -> None:
    client = signed_in(app, session, province.supervisor)
    html = client.get("/supervision/trends").get_data(as_text=True)
    assert html.count("<svg") == 2
    assert "收到和办结申请数" in html


def test_tracker_and_consolidated_pages(app, session: Session, province: Province) -> None:
    client = signed_in(app, session, province.supervisor)
    tracker = client.get("/supervision/reports?year=2025").get_data(as_text=True)
    assert "甲局下属所" in tracker and "逾期未发布" in tracker
    page = client.get("/supervision/consolidated?year=2026").get_data(as_text=True)
    assert "合并报表" in page
    breakdown = client.get(
        "/supervision/breakdown?year=2026&table=3&cell=new_received.total"
    ).get_data(as_text=True)
    values = dict(
        re.findall(
            r'<tr data-agency="([^"]+)">.*?<td class="num">(?:<a[^>]*>)?(\d+)', breakdown, re.S
        )
    )
    assert values == {"test-agency": "1", "a-bureau": "3", "a1-office": "1", "b-bureau": "3"}
    assert client.get("/supervision/breakdown?year=2026&table=3&cell=nope.total").status_code == 404


def test_the_fixture_is_what_its_story_says(session: Session, province: Province) -> None:
    """The hand counts rest on these: the subtree is the four agencies, not the other one,
    and March 2026 has no holiday (2 → 31 March is 21 working days)."""
    ids = subtree_ids(session, province.root.id)
    assert province.other.id not in ids
    assert session.scalar(select(User.id).where(User.username == "outsider-clerk"))
    assert DEFAULT_CALENDAR.working_days_between(date(2026, 3, 2), date(2026, 3, 31)) == 21


def test_the_total_links_to_the_chosen_subtree_only(
    app, session: Session, province: Province
) -> None:
    client = signed_in(app, session, province.supervisor)
    html = client.get("/supervision?agency=a-bureau&start=2026-01-01&end=2026-12-31")
    links = _links(html.get_data(as_text=True), "total")
    listed = client.get(links["received"].replace("&amp;", "&")).get_data(as_text=True)
    subjects = {session.get(Request, req.id).subject for req in province.requests.values()}
    shown = {s for s in subjects if s in listed}
    # r1, r2 (甲局), r3 (甲局), r6 (its office); never 乙局's or the root's.
    assert shown == {"答复于2026-03-10", "答复于2026-03-31", "在办已逾期", "答复于2026-06-03"}
    assert "共 4 件" in listed
