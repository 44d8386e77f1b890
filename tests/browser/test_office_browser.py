"""The office's daily work through the real pages, as the roles involved (issue 15):
the front desk registers and assigns in bulk, the handler finds the requests under
我承办的, proposes an extension the approver signs, the approver corrects a wrong date
(shown struck through), and the handler splits a multi-item application."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import local_today, screenshot

pytestmark = pytest.mark.browser


def _register(page: Page, base: str, applicant: str, subject: str, days_ago: int) -> str:
    page.goto(f"{base}/requests/new")
    page.get_by_label("申请人姓名或名称").fill(applicant)
    page.get_by_label("申请人类型").select_option(label="自然人")
    page.get_by_label("所需信息的内容描述").fill(subject)
    page.get_by_label("提交方式").select_option(label="当面提交")
    page.get_by_label("提交日期").fill((local_today() - timedelta(days=days_ago)).isoformat())
    page.get_by_role("button", name="登记", exact=True).click()
    if page.locator("text=可能重复登记").count():
        page.get_by_role("button", name="登记", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("已登记，编号")
    return re.search(r"\d{4}-\d{4}", page.locator(".flash-success").inner_text()).group(0)


def test_assign_propose_approve_correct_and_split(server: str, page_as) -> None:
    base = server
    stamp = local_today().isoformat()
    front = page_as("dengji")
    first = _register(front, base, "分办测试甲", f"某街道2026年旧改补偿标准（{stamp}甲）", 6)
    second = _register(front, base, "分办测试乙", f"某中学校舍维修预算（{stamp}乙）", 6)

    # --- the front desk: the 未分配 queue, tick both, assign to the handler ----------
    front.goto(f"{base}/requests?q=分办测试")
    filters = front.locator("form.filters")
    filters.get_by_label("承办人").select_option("none")
    filters.get_by_role("button", name="筛选").click()
    for number in (first, second):
        front.get_by_label(f"选择 {number}").check()
    front.locator("#bulk-assign").get_by_label("将勾选的申请分办给").select_option(
        label="承办人 李明"
    )
    screenshot(front, "office-01-bulk-assign")
    front.get_by_role("button", name="批量分办").click()
    expect(front.locator(".flash-success")).to_contain_text("已将 2 件申请分办给承办人 李明")

    # --- the handler finds them under 我承办的, accepts one, proposes an extension ------
    handler = page_as("chengban")
    handler.goto(f"{base}/dashboard")
    mine = handler.locator("section", has_text="我承办的在办申请")
    expect(mine).to_contain_text(first)
    mine.get_by_role("link", name=first).click()
    request_url = handler.url
    handler.locator(".actions").get_by_role("link", name="受理", exact=True).click()
    handler.get_by_label("受理日期").fill((local_today() - timedelta(days=3)).isoformat())
    handler.get_by_role("button", name="确认受理").click()
    expect(handler.locator("h1 .state")).to_have_text("办理中")
    expect(handler.locator(".actions")).to_contain_text("只有审核人可以进行此操作")
    handler.get_by_role("link", name="提请延期答复").click()
    handler.get_by_label("延长工作日数").fill("10")
    handler.get_by_role("textbox", name="延期理由", exact=True).fill("需调取多个科室档案")
    handler.get_by_role("button", name="提请审核").click()
    expect(handler.locator(".flash-success")).to_contain_text("已提请审核人批准延期")
    expect(handler.locator("#office")).to_contain_text("延期答复 10 个工作日")

    # --- the approver signs it from the workbench -----------------------------------
    approver = page_as("shenhe")
    approver.goto(f"{base}/dashboard")
    pending = approver.locator("#approvals")
    expect(pending).to_contain_text(first)
    pending.get_by_role("link", name=first).click()
    screenshot(approver, "office-02-pending-approval")
    approver.locator("#office").get_by_role("button", name="同意").click()
    expect(approver.locator(".flash-success")).to_contain_text("已审核同意")
    timeline = approver.locator("table.timeline")
    expect(timeline).to_contain_text("延期答复")
    expect(timeline).to_contain_text("审核同意")

    # --- the approver corrects the accept's date: original struck through -----------
    accept_row = timeline.locator("tbody tr", has_text="受理").first
    accept_row.get_by_role("link", name="更正").click()
    expect(approver.get_by_role("heading", level=1)).to_contain_text("更正第")
    approver.get_by_label("更正内容").select_option("effective_date")
    corrected = (local_today() - timedelta(days=5)).isoformat()
    approver.get_by_label("更正为（日期）").fill(corrected)
    approver.get_by_role("textbox", name="更正理由", exact=True).fill("录入时日期填错")
    approver.get_by_role("button", name="保存更正").click()
    expect(approver.locator(".flash-success")).to_contain_text("已记录更正")
    row = approver.locator("table.timeline tbody tr.corrected", has_text="受理")
    expect(row.locator("del").first).to_be_visible()
    expect(row).to_contain_text(f"→ {corrected}")
    screenshot(approver, "office-03-correction")
    assert approver.url == request_url

    # --- the handler splits the other, multi-item application -----------------------
    handler.goto(f"{base}/requests?q={second}")
    handler.get_by_role("link", name=second).click()
    handler.get_by_role("link", name="拆分申请").click()
    handler.get_by_label("各项所需信息（每行一项）").fill("校舍维修预算\n维修招标文件")
    handler.get_by_role("button", name="拆分").click()
    expect(handler.locator(".flash-success")).to_contain_text("已拆分：本申请继续办理第1项")
    links = handler.locator("#links")
    expect(links).to_contain_text("拆分为")
    links.get_by_role("link").first.click()
    expect(handler.locator("dl.facts")).to_contain_text("维修招标文件")
    expect(handler.locator("#links")).to_contain_text(f"拆分自 {second}")
