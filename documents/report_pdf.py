"""The annual report as a PDF, laid out like the reports disclosure offices publish.

A4 portrait; the title; sections 一 to 六 in the order of the national template, the
three tables drawn from ``documents.grid`` with every merged cell of the official form;
"第 N 页 共 M 页" at the foot of every page; the issuing office and date at the end.

The output is deterministic (reportlab's invariant mode: fixed creation date and document
id), so the same report gives the same bytes and a publication's hash can be compared
with a fresh rendering: a different hash means different content, never a different
clock.
"""

from __future__ import annotations

import io
import math
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from documents.fonts import PdfFont, pdf_font
from documents.grid import Grid, Role, report_grids
from documents.notices_pdf import cn_date
from workflow.annual_report.archive import RenderedReport
from workflow.annual_report.narrative import SECTIONS
from workflow.annual_report.report import AnnualReport

MARGIN_X = 22 * mm
MARGIN_TOP = 25 * mm
MARGIN_BOTTOM = 22 * mm
#: reportlab's padding inside the page frame (each side): what a table may fill is less.
FRAME_PADDING = 6
BODY_SIZE = 11.5
TABLE_SIZE = 8.5
#: Printed for a narrative section left empty (a published report has no blank section).
EMPTY_SECTION = "无。"


class _Styles:
    """The paragraph styles, all in the one CJK font (CJK line breaking everywhere)."""

    def __init__(self, font: str) -> None:
        def style(name: str, size: float, leading: float, **kw: Any) -> ParagraphStyle:
            return ParagraphStyle(
                name, fontName=font, fontSize=size, leading=leading, wordWrap="CJK", **kw
            )

        self.title = style("title", 18, 28, alignment=TA_CENTER, spaceAfter=8 * mm)
        self.heading = style("heading", 13, 22, spaceBefore=4 * mm, spaceAfter=2 * mm)
        self.body = style(
            "body", BODY_SIZE, BODY_SIZE * 1.75, firstLineIndent=2 * BODY_SIZE, spaceAfter=1 * mm
        )
        self.signature = style(
            "signature", BODY_SIZE, BODY_SIZE * 1.9, alignment=TA_RIGHT, rightIndent=2 * BODY_SIZE
        )
        leading = TABLE_SIZE * 1.3
        self.cell = style("cell", TABLE_SIZE, leading, alignment=TA_CENTER)
        self.label = style("label", TABLE_SIZE, leading, alignment=TA_LEFT)
        self.note = style("note", TABLE_SIZE - 0.5, leading, alignment=TA_LEFT)


def _numbered_canvas(font: str) -> type[Canvas]:
    """A canvas that defers page output so each footer can say how many pages there are."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's API
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self.setFont(font, 9)
                self.drawCentredString(A4[0] / 2, 12 * mm, f"第 {number} 页 共 {total} 页")
                super().showPage()
            super().save()

    return NumberedCanvas


def _paragraphs(text: str, style: ParagraphStyle) -> list[Flowable]:
    """A narrative: one paragraph per non-empty line, its text escaped (not markup)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [Paragraph(escape(line), style) for line in lines or [EMPTY_SECTION]]


PADDING = 2.5


def balanced(text: str, width: float, style: ParagraphStyle) -> str:
    """Escaped cell text, broken into lines of equal length when it does not fit.

    Greedy CJK wrapping leaves a lone character on the last line ("结果维 / 持"); the
    official tables break short headers evenly ("结果 / 维持", "社会公 / 益组织").
    """
    needed = stringWidth(text, style.fontName, style.fontSize)
    if needed <= width or len(text) < 2:
        return escape(text)
    lines = math.ceil(needed / width)
    per_line = math.ceil(len(text) / lines)
    return "<br/>".join(escape(text[i : i + per_line]) for i in range(0, len(text), per_line))


def grid_table(grid: Grid, width: float, styles: _Styles) -> Table:
    """A reportlab table from a grid: one Paragraph per cell, a SPAN per merged cell."""
    widths = [w * width for w in grid.widths]
    data: list[list[Any]] = [["" for _ in range(grid.n_cols)] for _ in range(grid.n_rows)]
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), PADDING),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    for cell in grid.cells:
        inner = sum(widths[cell.col : cell.col + cell.col_span]) - 2 * PADDING
        if cell.role == Role.NOTE:
            style = styles.note
        elif cell.role == Role.LABEL and not grid.is_vertical(cell):
            style = styles.label
        else:
            style = styles.cell
        text = escape(cell.text)
        if cell.role == Role.HEADER:
            text = balanced(cell.text, inner, style)
        data[cell.row][cell.col] = Paragraph(text, style)
        if cell.row_span > 1 or cell.col_span > 1:
            end = (cell.col + cell.col_span - 1, cell.row + cell.row_span - 1)
            commands.append(("SPAN", (cell.col, cell.row), end))
    return Table(data, colWidths=widths, style=TableStyle(commands), repeatRows=grid.header_rows)


def _signature(report: AnnualReport, styles: _Styles) -> list[Flowable]:
    lines = [report.issuer.strip() or report.agency_name]
    if report.issued_on is not None:
        lines.append(cn_date(report.issued_on))
    return [Spacer(1, 12 * mm), *(Paragraph(escape(line), styles.signature) for line in lines)]


def story(report: AnnualReport, font: PdfFont) -> list[Flowable]:
    """The flowables of the report, in order (exposed for tests and other documents)."""
    styles = _Styles(font.name)
    width = A4[0] - 2 * MARGIN_X - 2 * FRAME_PADDING
    grids = report_grids(report.fmt, report.table2, report.table3, report.table4)
    parts: list[Flowable] = [Paragraph(escape(report.title), styles.title)]

    def narrative(name: str) -> None:
        parts.append(Paragraph(escape(SECTIONS[name]), styles.heading))
        parts.extend(_paragraphs(report.narrative(name), styles.body))

    def table(grid: Grid) -> None:
        heading = Paragraph(escape(grid.title), styles.heading)
        parts.append(KeepTogether([heading, grid_table(grid, width, styles)]))

    narrative("overview")
    for grid in grids:
        table(grid)
    narrative("problems")
    narrative("other_matters")
    parts.extend(_signature(report, styles))
    return parts


def render_report_pdf(report: AnnualReport, font: PdfFont | None = None) -> bytes:
    """The report as PDF bytes; the same report and font always give the same bytes."""
    font = font or pdf_font()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=report.title,
        author=report.issuer.strip() or report.agency_name,
        subject="政府信息公开工作年度报告",
        creator="Gongkai 依申请公开办理系统",
        invariant=1,
        # Start every page in the CJK font, so no unembedded Helvetica is referenced.
        initialFontName=font.name,
    )
    doc.build(story(report, font), canvasmaker=_numbered_canvas(font.name))
    return buffer.getvalue()


def rendered_report(report: AnnualReport) -> RenderedReport:
    """The renderer the domain's publishing is given: the PDF in the configured font."""
    font = pdf_font()
    return RenderedReport(render_report_pdf(report, font), font.description)
