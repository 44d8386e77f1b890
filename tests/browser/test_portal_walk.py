"""The online channel end to end, through the real pages only (the online-channel issue).

An applicant applies on the portal with the application scan attached and keeps the
number and 查询码; the registrar confirms receipt (the scan is filed with the request as
the applicant's, and downloads as sent) and asks for a supplement; the applicant answers
it online with a file; the handler sees and downloads it, decides and issues the reply;
the applicant downloads it, which serves it (electronic service). axe-core checks each
portal page the applicant fills in.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.support import axe_violations, local_today, screenshot

pytestmark = pytest.mark.browser

APPLICANT = "网上申请人（浏览器测试）"
SUBJECT = "经开区某路段2026年改造工程的批复文件（网上申请浏览器测试）"
SCAN = b"%PDF-1.7\n% application scan (browser test)\n%%EOF\n"
ANSWER = b"\x89PNG\r\n\x1a\n" + b"browser-test-supplement" + b"\x00" * 32


def _no_axe_violations(page, where: str) -> None:
    problems = axe_violations(page)
    assert not problems, f"axe-core on {where}:\n  " + "\n  ".join(problems)


def test_apply_online_answer_the_supplement_and_download_the_reply(server: str, page_as):
    today = local_today()
    visitor = page_as(None)
    visitor.goto(f"{server}/apply/nanchang-etdz")
    visitor.get_by_label("申请人姓名或名称").fill(APPLICANT)
    visitor.get_by_label("申请人类型").select_option(label="自然人")
    visitor.get_by_label("联系电话").fill("13900000000")
    visitor.get_by_label("所需信息的内容描述").fill(SUBJECT)
    visitor.get_by_label("送达方式").select_option(label="网上获取")
    visitor.get_by_label("申请书扫描件").set_input_files(
        {"name": "网上申请书.pdf", "mimeType": "application/pdf", "buffer": SCAN}
    )
    _no_axe_violations(visitor, "the application form")
    visitor.get_by_role("button", name="提交申请").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("申请已提交")
    box = visitor.get_by_role("status").inner_text()
    number = re.search(r"申请编号：(WS\d{12})", box).group(1)
    code = re.search(r"查询码：([2-9A-Z]{10})", box).group(1)

    clerk = page_as("dengji")
    clerk.goto(f"{server}/portal/queue")
    row = clerk.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text("网上申请书.pdf")
    row.get_by_role("button", name="确认收到并登记").click()
    expect(clerk.locator("h1 .state")).to_have_text("已登记")
    request_url = clerk.url
    scan = clerk.locator("#attachments tr").filter(has_text="网上申请书.pdf")
    expect(scan).to_contain_text("申请人（网上平台）")
    got = clerk.context.request.get(server + scan.get_by_role("link").get_attribute("href"))
    assert got.ok and got.body() == SCAN
    clerk.locator(".actions").get_by_role("link", name="告知补正", exact=True).click()
    clerk.get_by_label("告知补正日期").fill(today.isoformat())
    clerk.get_by_label("需要补正的事项").fill("请写明批复文件的文号或发文日期。")
    clerk.get_by_label("补正期限").fill((today + timedelta(days=15)).isoformat())
    clerk.get_by_role("button", name="确认告知补正", exact=True).click()
    expect(clerk.locator("h1 .state")).to_have_text("待补正")
    clerk.get_by_role("button", name="出具补正告知书").click()
    # Wait for the notice to be issued before the applicant looks for it (no race).
    expect(clerk.locator(".flash-success")).to_contain_text("已出具补正告知书")

    visitor.goto(f"{server}/apply/status")
    visitor.get_by_label("申请编号").fill(number)
    visitor.get_by_label("查询码").fill(code)
    visitor.get_by_role("button", name="查询", exact=True).click()
    expect(visitor.locator("dl.facts")).to_contain_text("待补正")
    expect(visitor.get_by_role("link", name=re.compile("补正告知书"))).to_be_visible()
    expect(visitor.get_by_role("region", name="您提交的文件")).to_contain_text("网上申请书.pdf")
    visitor.get_by_label("补正内容").fill("批复文件为经开管字〔2026〕12号。")
    visitor.get_by_label("补正材料文件").set_input_files(
        {"name": "批复文件照片.png", "mimeType": "image/png", "buffer": ANSWER}
    )
    _no_axe_violations(visitor, "the status page with the 补正 form")
    screenshot(visitor, "portal-01-supplement-answer")
    visitor.get_by_role("button", name="提交补正").click()
    expect(visitor.locator(".flash-success")).to_contain_text("补正材料已提交（含1个文件）")
    expect(visitor.locator("dl.facts")).to_contain_text("办理中")
    expect(visitor.get_by_role("region", name="您提交的文件")).to_contain_text("批复文件照片.png")
    _no_axe_violations(visitor, "the status page")

    handler = page_as("chengban")
    handler.goto(request_url)
    expect(handler.locator("table.timeline")).to_contain_text("申请人（网上平台）")
    answer = handler.locator("#attachments tr").filter(has_text="批复文件照片.png")
    expect(answer).to_contain_text("收到补正材料")
    expect(answer).to_contain_text("申请人（网上平台）")
    got = handler.context.request.get(server + answer.get_by_role("link").get_attribute("href"))
    assert got.ok and got.body() == ANSWER
    handler.locator(".actions").get_by_role("link", name="作出答复", exact=True).click()
    handler.get_by_label("答复日期").fill(today.isoformat())
    handler.get_by_label("处理结果").select_option("disclosed")
    handler.get_by_label("送达方式").select_option(label="网上平台")
    handler.get_by_role("button", name="确认作出答复", exact=True).click()
    expect(handler.locator("h1 .state")).to_have_text("已办结")
    handler.get_by_role("button", name="出具答复书").click()
    expect(handler.locator(".flash-success")).to_contain_text("已出具答复书")

    visitor.goto(f"{server}/apply/status")
    reply = visitor.get_by_role("link", name=re.compile("答复书"))
    expect(reply).to_be_visible()
    pdf = visitor.context.request.get(server + reply.get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    visitor.reload()
    expect(visitor.get_by_role("listitem").filter(has_text="答复书")).to_contain_text(
        f"已送达 {today.isoformat()}"
    )
    screenshot(visitor, "portal-02-reply-served")
    handler.goto(request_url)
    expect(
        handler.locator(".notices-panel, section").filter(has_text="答复书").first
    ).to_contain_text("网上平台电子送达")
