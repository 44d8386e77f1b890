"""The annual report as PDF and XLSX from the demo data (docs/domain.md §10): every official label,
the reference numbers row by row, pages that render, identical bytes for identical data,
the embedded font and the fallback, and the PDF frozen at publication."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import time
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from documents import fonts
from documents.fonts import FontError, pdf_font
from documents.grid import report_grids
from documents.report_pdf import render_report_pdf, rendered_report
from documents.report_xlsx import SHEET_NAMES, render_report_xlsx
from models.report_draft import ReportDraft
from tests.conftest import NOW
from tests.integration import report_fixtures
from tests.integration.test_cli import cli, entry_point
from tests.integration.test_statistics_db import DEMO_2019
from tests.waiting import wait_until
from workflow.annual_report.archive import RenderedReport, freeze_pdf, frozen_pdf, pdf_hash
from workflow.annual_report.narrative import SECTIONS
from workflow.annual_report.publishing import publish
from workflow.annual_report.report import load_report
from workflow.kernel.actor import Actor
from workflow.kernel.errors import ConflictError, ValidationError
from workflow.statistics.layouts import table2_layout, table3_layout
from workflow.statistics.layouts.table4 import TABLE4_LAYOUT
from workflow.statistics.scope import Scope

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
needs_truetype = pytest.mark.skipif(not WQY.is_file(), reason="fonts-wqy-zenhei not installed")
needs_pdftoppm = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="no pdftoppm")

pytestmark = pytest.mark.demo
# The shared demo fixture, bound here so pytest finds it.
demo_agency = report_fixtures.demo_agency


@pytest.fixture(autouse=True)
def default_font(monkeypatch):
    """Each test starts from the system's font choice, whatever the environment says."""
    monkeypatch.delenv(fonts.ENV_VAR, raising=False)


def squeeze(value: str) -> str:
    """Text without whitespace: wrapped cells come out of the PDF in several lines."""
    return re.sub(r"\s+", "", value)


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return squeeze("".join(page.extract_text() for page in reader.pages))


def report_2019(session, agency, fmt: str | None = None):
    return load_report(session, Scope.of(agency), 2019, fmt)


def test_2019_report_has_every_label_and_the_reference_numbers(session, demo_agency):
    data = report_2019(session, demo_agency)
    assert data.report.fmt == "2019"
    content = pdf_text(render_report_pdf(data.report))

    layout = table3_layout("2019")
    labels = [layout.title, layout.note, layout.column_header]
    labels += [c.label for c in layout.columns] + [c.group for c in layout.columns if c.group]
    labels += [part for row in layout.rows for part in row.path]
    labels += [TABLE4_LAYOUT.title] + [c.label for c in TABLE4_LAYOUT.columns]
    labels += [part for group in TABLE4_LAYOUT.groups for part in group.path]
    t2 = table2_layout("2019")
    labels += [t2.title, t2.item_header] + [s.label for s in t2.sections]
    labels += [cell.item.label for cell in t2.cells] + [cell.column.label for cell in t2.cells]
    labels += [*SECTIONS.values(), data.report.title, "南昌经济技术开发区"]
    missing = [label for label in labels if squeeze(label) not in content]
    assert missing == []

    # Each row reads: its label, then the seven numbers (自然人 … 总计) of docs/domain.md §10.
    for row in layout.rows:
        n = DEMO_2019.get(row.key, 0)
        expected = squeeze(row.label) + f"{n}" + "0" * 5 + f"{n}"
        assert expected in content, row.key
    # Table 四: two direct lawsuits, both upheld (驳回原告诉讼请求).
    assert "00000" + "20002" + "00000" in content
    assert re.search(r"第1页共(\d)页", content)


def test_narrative_sections_in_order_with_fee_default(session, demo_agency):
    content = pdf_text(render_report_pdf(report_2019(session, demo_agency).report))
    positions = [content.index(squeeze(h)) for h in (SECTIONS["overview"], "二、主动公开")]
    positions += [content.index(h) for h in ("三、收到和处理", "四、政府信息公开行政复议")]
    positions += [content.index(SECTIONS["problems"]), content.index(SECTIONS["other_matters"])]
    assert positions == sorted(positions)
    assert "本年度未收取政府信息公开信息处理费" in content


@needs_pdftoppm
def test_every_page_renders_with_ink(session, demo_agency, tmp_path):
    pdf = render_report_pdf(report_2019(session, demo_agency).report)
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "50", "-gray", str(source), str(tmp_path / "page")],
        check=True,
        capture_output=True,
    )
    pages = sorted(tmp_path.glob("page*.pgm"))
    assert len(pages) == len(PdfReader(io.BytesIO(pdf)).pages) >= 2
    for page in pages:
        width, height, pixels = read_pgm(page.read_bytes())
        ink = sum(1 for p in pixels if p < 128)
        assert ink > 0.002 * width * height, f"{page.name} is (nearly) blank"


def read_pgm(data: bytes) -> tuple[int, int, bytes]:
    """A binary PGM (P5): width, height and the 8-bit pixels."""
    fields = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    assert fields, "not a binary PGM"
    width, height = int(fields.group(1)), int(fields.group(2))
    return width, height, data[fields.end() : fields.end() + width * height]


def test_same_data_same_bytes(session, demo_agency):
    first = render_report_pdf(report_2019(session, demo_agency).report)
    # A PDF time stamp has seconds: render again only once the clock shows another one.
    rendered_at = int(time.time())
    wait_until(lambda: int(time.time()) > rendered_at, 2, "the next second")
    again = render_report_pdf(report_2019(session, demo_agency).report)
    assert first == again
    assert render_report_pdf(report_2019(session, demo_agency, "2021").report) != first


@needs_truetype
def test_truetype_font_is_embedded(session, demo_agency):
    font = pdf_font()
    assert font.embedded and font.source == str(WQY)
    reader = PdfReader(io.BytesIO(render_report_pdf(report_2019(session, demo_agency).report)))
    descriptors = [
        f.get_object()["/FontDescriptor"].get_object()
        for page in reader.pages
        for f in page["/Resources"]["/Font"].values()
        if "/FontDescriptor" in f.get_object()
    ]
    assert descriptors and all("/FontFile2" in d for d in descriptors)
    assert any("WenQuanYi" in str(d["/FontName"]) for d in descriptors)


def test_builtin_cid_font_fallback_gives_a_valid_pdf(session, demo_agency, monkeypatch):
    monkeypatch.setenv(fonts.ENV_VAR, "builtin")
    font = pdf_font()
    assert font.name == fonts.CID_FONT and not font.embedded
    pdf = render_report_pdf(report_2019(session, demo_agency).report)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    names = {
        str(f.get_object()["/BaseFont"])
        for page in reader.pages
        for f in page["/Resources"]["/Font"].values()
    }
    assert any("STSong-Light" in name for name in names)
    assert b"/FontFile2" not in pdf


def test_unusable_configured_font_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv(fonts.ENV_VAR, str(tmp_path / "missing.ttf"))
    with pytest.raises(FontError, match="不存在"):
        pdf_font()
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"not a font")
    monkeypatch.setenv(fonts.ENV_VAR, str(junk))
    with pytest.raises(FontError, match="无法嵌入"):
        pdf_font()


def test_2021_format_has_the_three_other_rows(session, demo_agency):
    data = load_report(session, Scope.of(demo_agency), NOW.year)
    assert data.report.fmt == "2021"
    content = pdf_text(render_report_pdf(data.report))
    layout = table3_layout("2021")
    other_rows = [r for r in layout.rows if r.key.startswith("other.")]
    assert len(other_rows) == 3
    for row in other_rows:
        assert squeeze(row.label) in content
    assert "（六）其他处理" in content
    assert squeeze(table2_layout("2021").cells[-1].column.label) in content  # 万元


def test_xlsx_is_byte_identical_on_every_export(session, demo_agency):
    """Like the PDFs: the same report gives the same bytes, whatever the clock says."""
    data = report_2019(session, demo_agency)
    first = render_report_xlsx(data.report)
    rendered_at = zip_time_stamp()
    wait_until(lambda: zip_time_stamp() != rendered_at, 3, "the zip clock has moved on")
    assert render_report_xlsx(data.report) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core and str(datetime.now().year) not in core


def zip_time_stamp() -> tuple[int, ...]:
    """The time stamp a zip entry written now would carry: local time, to the even second."""
    *minute, second = time.localtime()[:6]
    return (*minute, second - second % 2)


def test_xlsx_reads_back_with_labels_merges_and_numbers(session, demo_agency):
    data = report_2019(session, demo_agency)
    book = load_workbook(io.BytesIO(render_report_xlsx(data.report)))
    assert book.sheetnames == list(SHEET_NAMES.values())
    table2, table3, table4 = (book[name] for name in SHEET_NAMES.values())
    grids = report_grids("2019", {}, data.report.table3, data.report.table4)
    values3 = dict(_rows(table3))
    assert values3["一、本年新收政府信息公开申请数量"][-7:] == (10, 0, 0, 0, 0, 0, 10)
    merged3 = {str(r) for r in table3.merged_cells.ranges}
    # Every merged cell of the grid is a merged range of the sheet.
    for cell in grids[1].cells:
        if cell.row_span > 1 or cell.col_span > 1:
            top, left = 3 + cell.row, 1 + cell.col
            bottom, right = top + cell.row_span - 1, left + cell.col_span - 1
            assert f"{_a1(top, left)}:{_a1(bottom, right)}" in merged3, cell.text
    texts3 = {c.value for row in table3.iter_rows() for c in row if isinstance(c.value, str)}
    layout = table3_layout("2019")
    assert {p for r in layout.rows for p in r.path} <= texts3
    assert layout.note in texts3
    texts4 = [c.value for row in table4.iter_rows() for c in row if c.value is not None]
    assert {"行政复议", "行政诉讼", "未经复议直接起诉", "复议后起诉", "结果维持"} <= set(texts4)
    assert texts4[-15:] == [0, 0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0]
    texts2 = {c.value for row in table2.iter_rows() for c in row}
    assert {"第二十条第（一）项", "规章", "政府集中采购"} <= texts2


def _rows(sheet):
    for row in sheet.iter_rows(min_row=4, values_only=True):
        labels = [v for v in row if isinstance(v, str)]
        if labels:
            yield labels[-1], tuple(v for v in row if isinstance(v, int))


def _a1(row: int, col: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(col)}{row}"


def test_freeze_pdf_at_publication(session, demo_agency):
    from models import User

    approver = session.query(User).filter_by(username="shenhe").one()
    scope = Scope.of(demo_agency)
    published = publish(session, Actor.of(approver), NOW, scope, 2019, render=rendered_report)
    frozen = frozen_pdf(session, published)
    session.commit()
    assert frozen.pdf.startswith(b"%PDF-")
    assert frozen.pdf_hash == hashlib.sha256(frozen.pdf).hexdigest() == pdf_hash(frozen.pdf)
    assert frozen_pdf(session, published) == frozen
    # Nothing changed since: a fresh rendering is byte-identical.
    fresh = render_report_pdf(load_report(session, scope, 2019).report)
    assert pdf_hash(fresh) == frozen.pdf_hash
    with pytest.raises(ConflictError):
        freeze_pdf(session, published, rendered_report)
    session.rollback()
    # A narrative written after publication changes the fresh PDF, not the frozen one.
    session.add(
        ReportDraft(
            agency_id=demo_agency.id, year=2019, with_subordinates=False, overview="补充说明。"
        )
    )
    session.commit()
    fresh = render_report_pdf(load_report(session, scope, 2019).report)
    assert pdf_hash(fresh) != frozen.pdf_hash
    # The frozen row is append-only in the database too.
    with pytest.raises(DBAPIError):
        session.execute(text("UPDATE published_report_pdfs SET pdf_hash = 'x'"))
        session.flush()
    session.rollback()


def test_freeze_pdf_stores_what_the_renderer_printed(session, demo_agency):
    from models import User

    approver = session.query(User).filter_by(username="shenhe").one()
    published = publish(session, Actor.of(approver), NOW, Scope.of(demo_agency), 2019)
    frozen = freeze_pdf(session, published, lambda _r: RenderedReport(b"%PDF-1.4 given", "f"))
    assert frozen.pdf == b"%PDF-1.4 given" and frozen.font == "f"
    session.rollback()
    published = publish(session, Actor.of(approver), NOW, Scope.of(demo_agency), 2019)
    with pytest.raises(ValidationError):
        freeze_pdf(session, published, lambda _r: RenderedReport(b"<html>", "f"))


def report_cli(url: str, *args: str):
    """``python app.py report`` for the demo agency's 2019 report."""
    return cli(url, "report", "--agency", "nanchang-etdz", "--year", "2019", *args)


def test_cli_report_writes_pdf_and_xlsx(db_url, tmp_path):
    out, sheet = tmp_path / "报告.pdf", tmp_path / "tables.xlsx"
    done = report_cli(db_url, "--out", str(out), "--xlsx", str(sheet))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF-") and "已生成" in done.stdout
    assert "一、本年新收政府信息公开申请数量100000010" in pdf_text(out.read_bytes())
    assert load_workbook(sheet).sheetnames == list(SHEET_NAMES.values())
    again = tmp_path / "again.pdf"
    args = ("report", "--agency", "nanchang-etdz", "--year", "2019", "--out", str(again))
    assert entry_point(db_url, *args).returncode == 0  # a real process of its own
    assert again.read_bytes() == out.read_bytes()  # deterministic across processes
    wide = report_cli(
        db_url, "--format", "2021", "--with-subordinates", "--out", str(tmp_path / "w.pdf")
    )
    assert wide.returncode == 0, wide.stderr
    assert "2021年格式" in wide.stdout


def test_cli_report_errors_are_clear(db_url, tmp_path):
    unknown = cli(db_url, "report", "--agency", "nope", "--year", "2019", "--out", "x.pdf")
    assert unknown.returncode != 0 and "机关“nope”不存在" in unknown.stderr
    nowhere = report_cli(db_url, "--out", str(tmp_path / "missing-dir" / "r.pdf"))
    assert nowhere.returncode != 0 and "输出目录不存在" in nowhere.stderr
    assert report_cli(db_url, "--out", str(tmp_path)).returncode != 0
