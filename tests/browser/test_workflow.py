"""The whole life of one request, through the real pages only (issue 6, item 6).

A registrar registers a request and asks for a supplement, records it; an approver
extends; a handler decides 部分公开; a legal officer records a direct lawsuit and its
judgment; the statistics for the year show the new numbers, drill down to the request,
and the annual report downloads as a PDF. Nothing is written to the database directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import local_today, screenshot

pytestmark = pytest.mark.browser

APPLICANT = "浏览器测试申请人甲"
SUBJECT = "经开区2026年道路改造工程的招标文件及中标结果（浏览器测试）"
CASE_NO = "（2026）赣7101行初9001号"
COURT = "南昌铁路运输法院"


@dataclass(frozen=True)
class Dates:
    """Effective dates in legal order, all in one calendar year and none after today."""

    receipt: date
    supplement_notice: date
    supplement_due: date
    supplement_received: date
    extension: date
    decision: date
    filing: date
    judgment: date

    @classmethod
    def before(cls, today: date) -> Dates:
        # Early in January there is no room for the whole story in the current year:
        # play it at the end of the previous one instead (the statistics follow the year).
        end = today if today.timetuple().tm_yday > 30 else date(today.year - 1, 12, 28)
        return cls(
            receipt=end - timedelta(days=24),
            supplement_notice=end - timedelta(days=23),
            supplement_due=end - timedelta(days=13),
            supplement_received=end - timedelta(days=18),
            extension=end - timedelta(days=14),
            decision=end - timedelta(days=9),
            filing=end - timedelta(days=6),
            judgment=end - timedelta(days=2),
        )

    @property
    def year(self) -> int:
        return self.judgment.year


def _fill_date(page: Page, label: str, day: date) -> None:
    page.get_by_label(label).fill(day.isoformat())


def _act(page: Page, action: str) -> None:
    """Click an action button on the request page; land on its form."""
    page.locator(".actions").get_by_role("link", name=action, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(action)


def _submit(page: Page, label: str) -> None:
    page.get_by_role("button", name=label, exact=True).click()


def _open_statistics(page: Page, base: str, year: int) -> None:
    """The statistics page for ``year``, chosen with the page's own selector."""
    page.goto(f"{base}/dashboard")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="年度统计").click()
    page.get_by_label("年度", exact=True).select_option(str(year))
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{year}年度统计")


def _cell(page: Page, table: str, row: str, col: str):
    """The linked number of one cell (its drill-down link names the cell by key)."""
    key = f"{row}.{col}"
    return page.locator(
        f'a[href*="table={table}"][href$="cell={key}"], '
        f'a[href*="table={table}"][href*="cell={key}&"]'
    )


def _number(page: Page, table: str, row: str, col: str) -> int:
    return int(_cell(page, table, row, col).inner_text().strip())


CELLS = (
    ("3", "new_received", "natural_person"),
    ("3", "partially_disclosed", "natural_person"),
    ("3", "partially_disclosed", "total"),
    ("3", "total_concluded", "total"),
    ("4", "litigation_direct", "upheld"),
    ("4", "litigation_direct", "total"),
)


def test_request_lifecycle_to_statistics_and_report(server: str, page_as) -> None:
    base = server
    dates = Dates.before(local_today())

    # --- before: the numbers of the year as the approver sees them ---------------------
    approver = page_as("shenhe")
    _open_statistics(approver, base, dates.year)
    before = {cell: _number(approver, *cell) for cell in CELLS}

    # --- registrar: register (receipt date derived from the channel) ------------------
    clerk = page_as("dengji")
    clerk.get_by_role("navigation", name="主导航").get_by_role("link", name="登记申请").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("登记申请")
    clerk.get_by_label("申请人姓名或名称").fill(APPLICANT)
    clerk.get_by_label("申请人类型").select_option(label="自然人")
    clerk.get_by_label("证件类型").select_option(label="居民身份证")
    clerk.get_by_label("证件号码").fill("36010219900101123X")
    clerk.get_by_label("联系电话").fill("0791-88880000")
    clerk.get_by_label("所需信息的内容描述").fill(SUBJECT)
    clerk.get_by_label("获取信息的方式").select_option(label="电子")
    clerk.get_by_label("送达方式").select_option(label="电子邮件")
    clerk.get_by_label("提交方式").select_option(label="当面提交")
    _fill_date(clerk, "提交日期", dates.receipt)
    expect(clerk.get_by_label("收到申请日期（法定）")).to_have_value("")
    screenshot(clerk, "workflow-01-register-filled")
    _submit(clerk, "登记")

    expect(clerk).to_have_url(re.compile(r"/requests/\d+$"))
    flash = clerk.locator(".flash-success")
    expect(flash).to_contain_text("已登记，编号")
    tracking_no = re.search(r"\d{4}-\d{4}", flash.inner_text()).group(0)
    request_url = clerk.url
    facts = clerk.locator("dl.facts")
    # In person: the legal receipt date is the day of submission (Art. 31).
    expect(facts.locator(".fact", has_text="收到申请日期")).to_contain_text(
        dates.receipt.isoformat()
    )
    expect(clerk.locator("h1 .state")).to_have_text("已登记")

    # --- registrar: one-time supplementation notice, then the supplement --------------
    _act(clerk, "告知补正")
    _fill_date(clerk, "告知补正日期", dates.supplement_notice)
    clerk.get_by_label("需要补正的事项").fill("请明确所需招标文件对应的具体路段名称及项目编号。")
    _fill_date(clerk, "补正期限", dates.supplement_due)
    screenshot(clerk, "workflow-02-supplement-form")
    _submit(clerk, "确认告知补正")
    expect(clerk).to_have_url(request_url)
    expect(clerk.locator("h1 .state")).to_have_text("待补正")

    _act(clerk, "收到补正材料")
    _fill_date(clerk, "收到补正材料日期", dates.supplement_received)
    clerk.get_by_label("备注").fill("申请人当面补充了路段名称（昌北大道）。")
    _submit(clerk, "确认收到补正材料")
    expect(clerk.locator("h1 .state")).to_have_text("办理中")

    # --- approver: extension, naming the approver (Art. 33) ---------------------------
    approver.goto(request_url)
    _act(approver, "延期答复")
    _fill_date(approver, "批准延期日期", dates.extension)
    approver.get_by_label("延长工作日数").fill("15")
    reason = approver.get_by_role("textbox", name="延期理由", exact=True)
    reason.fill("涉及多个标段，需调取档案逐份核对。")
    approver.get_by_label("批准人（审核人）").select_option("shenhe")
    _submit(approver, "确认延期答复")
    expect(approver).to_have_url(request_url)
    expect(approver.locator("h1 .state")).to_have_text("办理中")

    # --- handler: partial disclosure with its legal basis -----------------------------
    handler = page_as("chengban")
    handler.goto(request_url)
    _act(handler, "作出答复")
    _fill_date(handler, "答复日期", dates.decision)
    outcome = handler.get_by_label("处理结果")
    outcome.select_option("partially_disclosed")
    expect(outcome.locator("option:checked")).to_contain_text("部分公开")
    handler.get_by_label("理由", exact=True).fill(
        "投标人报价明细涉及商业秘密，依据《条例》第十五条、第三十七条作区分处理，其余部分予以公开。"
    )
    handler.get_by_label("送达方式").select_option(label="电子邮件")
    screenshot(handler, "workflow-03-decide-form")
    _submit(handler, "确认作出答复")
    expect(handler).to_have_url(request_url)
    expect(handler.locator("h1 .state")).to_have_text("已办结")

    timeline = handler.locator("table.timeline tbody tr")
    expect(timeline).to_have_count(5)
    steps = [
        ("登记", dates.receipt, "已登记"),
        ("告知补正", dates.supplement_notice, "待补正"),
        ("收到补正材料", dates.supplement_received, "办理中"),
        ("延期答复", dates.extension, "办理中"),
        ("作出答复", dates.decision, "已办结"),
    ]
    for row, (label, day, state) in zip(timeline.all(), steps, strict=True):
        expect(row.locator('td[data-label="操作"] strong')).to_have_text(label)
        expect(row.locator('td[data-label="操作"]')).to_contain_text(state)
        expect(row.locator('td[data-label="法律日期"]')).to_have_text(day.isoformat())
    expect(timeline.nth(3)).to_contain_text("审核人 张华")  # the approver named
    expect(timeline.nth(4)).to_contain_text("部分公开")
    expect(timeline.nth(4)).to_contain_text("第十五条")
    screenshot(handler, "workflow-04-request-concluded")

    # --- legal officer: a direct lawsuit and its first-instance judgment --------------
    legal = page_as("fazhi")
    legal.goto(request_url)
    legal.locator(".challenge-panel").get_by_role("link", name="登记复议/诉讼").click()
    expect(legal.get_by_role("heading", level=1)).to_have_text("登记复议/诉讼")
    _fill_date(legal, "立案（受理）日期", dates.filing)
    legal.get_by_label("案件类型").select_option(label="行政诉讼")
    legal.get_by_label("起诉方式（仅行政诉讼）").select_option(label="未经复议直接起诉")
    legal.get_by_label("复议机关或人民法院").fill(COURT)
    legal.get_by_role("textbox", name="案号", exact=True).fill(CASE_NO)
    legal.get_by_label("审级").select_option(label="一审")
    screenshot(legal, "workflow-05-file-lawsuit")
    _submit(legal, "确认登记案件")
    expect(legal).to_have_url(re.compile(r"/challenges/\d+$"))
    expect(legal.locator("main")).to_contain_text(CASE_NO)
    expect(legal.locator("main")).to_contain_text("审理中")
    case_url = legal.url

    legal.get_by_role("link", name="记录审理结果", exact=True).click()
    _fill_date(legal, "决定书/判决书作出日期", dates.judgment)
    legal.get_by_label("审理结果").select_option(label="判决驳回原告诉讼请求")
    legal.get_by_label("文书编号").fill(CASE_NO)
    _submit(legal, "确认记录审理结果")
    expect(legal).to_have_url(case_url)
    expect(legal.locator("main")).to_contain_text("已审结")
    expect(legal.locator("main")).to_contain_text("判决驳回原告诉讼请求")
    screenshot(legal, "workflow-06-lawsuit-concluded")

    legal.goto(request_url)
    panel = legal.locator(".challenge-panel")
    expect(panel).to_contain_text(CASE_NO)
    expect(panel).to_contain_text("行政诉讼")
    expect(panel).to_contain_text("已审结")
    expect(panel).to_contain_text("判决驳回原告诉讼请求")

    # --- statistics: the new numbers, and a drill-down to the request -----------------
    _open_statistics(approver, base, dates.year)
    expect(approver.get_by_role("table").filter(has_text="三、收到和处理")).to_be_visible()
    expect(
        approver.get_by_role("table").filter(has_text="四、政府信息公开行政复议")
    ).to_be_visible()
    after = {cell: _number(approver, *cell) for cell in CELLS}
    assert {cell: after[cell] - before[cell] for cell in CELLS} == dict.fromkeys(CELLS, 1)
    screenshot(approver, "workflow-07-statistics")

    _cell(approver, "3", "partially_disclosed", "natural_person").click()
    expect(approver).to_have_url(re.compile(r"/statistics/drill\?"))
    drill_row = approver.locator("tbody tr", has_text=tracking_no)
    expect(drill_row).to_have_count(1)
    expect(drill_row).to_contain_text(APPLICANT)
    screenshot(approver, "workflow-08-drill-down")
    drill_row.get_by_role("link", name=tracking_no).click()
    expect(approver).to_have_url(request_url)

    _open_statistics(approver, base, dates.year)
    _cell(approver, "4", "litigation_direct", "upheld").click()
    expect(approver.locator("tbody tr", has_text=CASE_NO)).to_have_count(1)

    # --- annual report: the PDF of that year ------------------------------------------
    approver.get_by_role("navigation", name="主导航").get_by_role("link", name="年度报告").click()
    selector = approver.get_by_role("form", name="选择报告")
    selector.get_by_role("combobox", name=re.compile(r"^年度")).select_option(str(dates.year))
    selector.get_by_role("button", name="切换").click()
    expect(approver.locator("h2.report-title")).to_contain_text(str(dates.year))
    screenshot(approver, "workflow-09-report-editor")
    with approver.expect_download() as info:
        approver.get_by_role("link", name="下载PDF").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
