"""The office's records through the real pages (issue 15 items 5, 9, 10): a registrar
files the envelope of a posted application and a viewer downloads it; an approver
publishes a year after the confirmation and then publishes a numbered correction with a
reason; on a phone the deadline and action cards come before the timeline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import PHONE, screenshot

pytestmark = pytest.mark.browser

#: A year of the demo that nothing else in the browser tests publishes or changes.
YEAR = 2025
PDF = b"%PDF-1.4\n% envelope scan (browser test)\n1 0 obj << >> endobj\n%%EOF\n"


def _first_request_url(page: Page, base: str) -> str:
    page.goto(f"{base}/requests?year=2026")
    link = page.locator("table tbody tr td a").first
    href = link.get_attribute("href")
    assert href
    return base + href


def test_attachment_upload_and_download(server: str, page_as, tmp_path: Path) -> None:
    clerk = page_as("dengji")
    url = _first_request_url(clerk, server)
    clerk.goto(url)
    panel = clerk.locator("#attachments")
    expect(panel.get_by_role("heading", name="附件")).to_be_visible()
    scan = tmp_path / "信封.pdf"
    scan.write_bytes(PDF)
    panel.get_by_label("附件类别").select_option(label="信封或邮戳")
    panel.get_by_label("说明（可不填）").fill("邮戳日期清晰")
    panel.get_by_label("文件").set_input_files(str(scan))
    screenshot(clerk, "office-01-attachment-form")
    panel.get_by_role("button", name="上传附件").click()
    expect(clerk.locator(".flash-success")).to_contain_text("已上传信封或邮戳：信封.pdf")
    row = clerk.locator("#attachments table tbody tr", has_text="信封.pdf")
    expect(row).to_contain_text("信封或邮戳")
    expect(row).to_contain_text("邮戳日期清晰")

    # A disguised file is refused by its content, with the reason.
    fake = tmp_path / "扫描件.pdf"
    fake.write_bytes(b"<html><script>alert(1)</script></html>")
    panel = clerk.locator("#attachments")
    panel.get_by_label("附件类别").select_option(label="申请书扫描件")
    panel.get_by_label("文件").set_input_files(str(fake))
    panel.get_by_role("button", name="上传附件").click()
    expect(clerk.locator(".flash-error")).to_contain_text("按文件内容识别")

    # A viewer reads the request and downloads the file as filed.
    viewer = page_as("chayue")
    viewer.goto(url)
    expect(viewer.locator("#attachments form")).to_have_count(0)
    with viewer.expect_download() as info:
        viewer.locator("#attachments a", has_text="信封.pdf").click()
    download = info.value
    assert download.suggested_filename == "信封.pdf"
    assert Path(download.path()).read_bytes() == PDF


def test_publish_after_confirmation_then_a_numbered_correction(server: str, page_as) -> None:
    approver = page_as("shenhe")
    query = f"agency=nanchang-etdz&year={YEAR}"
    approver.goto(f"{server}/statistics?{query}")
    approver.get_by_role("link", name=f"发布{YEAR}年度统计…").click()
    expect(approver.get_by_role("heading", level=1)).to_contain_text("发布前检查")
    expect(approver.locator(".readiness")).to_contain_text("全部检查通过")
    expect(approver.locator(".readiness")).to_contain_text("收费情况")
    screenshot(approver, "office-02-publish-confirm")
    button = approver.get_by_role("button", name=f"发布{YEAR}年度报告")
    approver.get_by_label(re.compile("我已核对以上内容")).check()
    button.click()
    expect(approver.locator(".flash-success")).to_contain_text(f"{YEAR}年度统计已发布")
    versions = approver.locator("table.versions tbody tr")
    expect(versions).to_have_count(1)
    expect(versions.first).to_contain_text("首次发布")

    # The report's text is improved after publication: only a correction can carry it.
    approver.goto(f"{server}/reports?{query}")
    approver.get_by_role("textbox", name="一、总体情况").fill(
        "本机关认真贯彻《条例》，依法办理政府信息公开申请。（更正稿）"
    )
    approver.get_by_role("button", name="保存").first.click()
    approver.goto(f"{server}/statistics?{query}")
    approver.get_by_role("link", name=f"更正发布{YEAR}年度报告…").click()
    expect(approver.get_by_role("heading", level=1)).to_contain_text("更正发布前检查")
    approver.get_by_label(re.compile("更正原因")).fill("补充总体情况的表述")
    approver.get_by_label(re.compile("我已核对以上内容")).check()
    screenshot(approver, "office-03-correction-confirm")
    approver.get_by_role("button", name=f"更正发布{YEAR}年度报告").click()
    expect(approver.locator(".flash-success")).to_contain_text("已更正发布（第1次更正）")
    versions = approver.locator("table.versions tbody tr")
    expect(versions).to_have_count(2)
    expect(versions.nth(1)).to_contain_text("更正发布（第1次更正）")
    expect(versions.nth(1)).to_contain_text("补充总体情况的表述")
    screenshot(approver, "office-04-versions")
    with approver.expect_download() as info:
        versions.nth(1).get_by_role("link", name="下载").click()
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF")


def test_on_a_phone_deadlines_and_actions_come_before_the_timeline(server: str, page_as) -> None:
    clerk = page_as("dengji", viewport=PHONE)
    url = _first_request_url(clerk, server)
    clerk.goto(url)
    deadlines = clerk.locator(".card-deadlines").bounding_box()
    actions = clerk.locator(".card-actions").bounding_box()
    timeline = clerk.locator(".card-timeline").bounding_box()
    assert deadlines and actions and timeline
    assert deadlines["y"] < actions["y"] < timeline["y"]
    screenshot(clerk, "office-05-phone-request")
