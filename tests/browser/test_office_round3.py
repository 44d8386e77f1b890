"""Issue 15's last office pages through real Chromium: the admin switches an agency's
decision sign-off on the agency page (and back), recorded in its history; the front desk
registers the same information for three applicants and a reader finds it on the Art. 44
list of 主动公开 candidates and flagged on the request page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import local_today, screenshot
from tests.browser.test_office_browser import _register

pytestmark = pytest.mark.browser


def _agency_page(page: Page, base: str) -> None:
    page.goto(f"{base}/admin/agencies")
    page.locator("table").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("机关：")


def test_the_admin_switches_decision_signoff_on_the_agency_page(server: str, page_as) -> None:
    admin = page_as("admin")
    _agency_page(admin, server)
    field = admin.get_by_label("答复签发")
    expect(field).to_have_value("0")
    try:
        field.select_option(label="须经审核人签发后才能出具答复书")
        admin.get_by_label("变更说明").fill("局务会决定答复须经签发")
        admin.get_by_role("button", name="保存").click()
        expect(admin.locator(".flash-success")).to_contain_text("1 项变更")
        history = admin.locator("table.agency-history")
        expect(history.locator("tbody tr").first).to_contain_text("答复签发")
        expect(history.locator("tbody tr").first).to_contain_text("须经审核人签发")
        expect(admin.get_by_label("答复签发")).to_have_value("1")
        screenshot(admin, "office-round3-01-signoff")
    finally:  # the demo server is shared by the browser tests: leave it as it was
        _agency_page(admin, server)
        admin.get_by_label("答复签发").select_option("0")
        admin.get_by_label("变更说明").fill("恢复")
        admin.get_by_role("button", name="保存").click()
    expect(admin.get_by_label("答复签发")).to_have_value("0")


def test_information_asked_by_three_applicants_is_a_publication_candidate(
    server: str, page_as
) -> None:
    stamp = local_today().isoformat()
    subject = f"本区{stamp}老旧小区加装电梯补贴发放名单"
    front = page_as("dengji")
    numbers = [
        _register(front, server, name, subject, 4)
        for name in ("候选测试甲", "候选测试乙", "候选测试丙")
    ]
    reader = page_as("chayue")
    reader.goto(f"{server}/requests")
    reader.get_by_role("link", name="主动公开候选").click()
    expect(reader.get_by_role("heading", level=1)).to_have_text("主动公开候选")
    row = reader.locator("table.art44-candidates tbody tr", has_text=subject[:20])
    for number in numbers:
        expect(row).to_contain_text(number)
    expect(row.locator('td[data-label="申请人数"]')).to_have_text("3")
    screenshot(reader, "office-round3-02-art44-list")
    row.get_by_role("link", name=numbers[0]).click()
    expect(reader.locator(".art44")).to_contain_text("主动公开候选：共 3 位不同的申请人")
    reader.locator(".art44").get_by_role("link", name="查看本机关的主动公开候选").click()
    expect(reader.get_by_role("heading", level=1)).to_have_text("主动公开候选")
