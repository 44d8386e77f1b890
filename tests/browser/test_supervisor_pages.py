"""The supervisor's view in a real browser, on the demo data (issue 19, item 1).

A viewer of the demo's development zone (which has one bureau below it) opens 下级机关
from the top bar, sorts the table, follows a number to the requests behind it and finds
the list's count equal to the number, downloads the XLSX, and looks at the trend charts,
the report tracker and a consolidated cell's breakdown.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import screenshot

pytestmark = pytest.mark.browser


def test_supervisor_reads_the_agencies_below(server: str, page_as) -> None:
    page = page_as("chayue")
    page.get_by_role("link", name="下级机关").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("下级机关办理情况")
    table = page.locator("table.supervision-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    screenshot(page, "supervision-table")

    # Sort by 收到, largest first: the first row's number is the largest.
    page.get_by_role("link", name="收到", exact=True).click()
    expect(page.locator("th[aria-sort]")).to_have_attribute("aria-sort", "descending")
    numbers = [
        int(t or 0) for t in page.locator('tbody td[data-column="received"]').all_inner_texts()
    ]
    assert numbers == sorted(numbers, reverse=True)

    # A number leads to exactly that many requests, under a visible supervisor filter.
    first = page.locator("tbody tr").first.locator('td[data-column="received"] a')
    expected = int(first.inner_text())
    first.click()
    expect(page.locator(".supervision-filter")).to_contain_text("本期收到")
    expect(page.locator(".count")).to_contain_text(f"共 {expected} 件" if expected <= 1000 else "+")

    page.go_back()
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 XLSX").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    page.get_by_role("link", name="趋势").click()
    expect(page.locator("svg.chart")).to_have_count(2)
    screenshot(page, "supervision-trends")

    page.get_by_role("link", name="年度报告进度").click()
    expect(page.locator("table.report-tracker tbody tr")).to_have_count(2)

    page.get_by_role("link", name="合并报表").click()
    link = page.locator(".consolidated-table3 a").first
    link.click()
    expect(page.locator("table.breakdown tbody tr")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/supervision/breakdown"))
