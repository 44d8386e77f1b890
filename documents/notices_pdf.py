"""The notices (文书, docs/domain.md §9) as PDF: wording from text templates, layout from here.

What a notice *says* lives in ``templates/notices/*.txt`` (Jinja2, no Flask), so the
office can reword a notice without touching code, and every kind shares one layout:
agency name as the header, the number, a red rule, the title, the addressee, the body,
and the signature block with the seal and the date — the shape of an official letter.

The templates produce plain text with a tiny markup:

* the first non-empty line is the title;
* blocks are separated by blank lines; the lines of a block are joined (no spaces,
  it is Chinese), so a long sentence may be wrapped in the template;
* ``@to 张三：`` is the addressee line (not indented);
* ``| 标签 | 内容`` lines form a two-column table (the receipt's facts);
* ``@note 文字`` is a smaller closing remark (contact, attachments);
* any other block is a body paragraph with a two-character first-line indent.

Output is deterministic (reportlab's invariant mode: no timestamps, fixed IDs), so the
same notice renders to the same bytes; the stored file is nevertheless the one that is
reprinted, never a re-rendering.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from reportlab.lib import colors, textsplit
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
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
from reportlab.platypus import paragraph as rl_paragraph

from documents.fonts import pdf_font
from workflow.notices.document import NoticeDocument

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "notices"
#: The red of an official letterhead (版头).
HEADER_RED = colors.HexColor("#C8161D")
BODY_SIZE = 13
BODY_LEADING = 22
MARGINS = {"leftMargin": 26 * mm, "rightMargin": 24 * mm, "topMargin": 22 * mm}
BOTTOM_MARGIN = 24 * mm
#: reportlab's default padding inside a page frame (each side).
FRAME_PADDING = 6


def cn_date(value: date) -> str:
    """Dates as official documents write them: ``2026年11月20日`` (Arabic numerals)."""
    return f"{value.year}年{value.month}月{value.day}日"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=False,  # plain text: the layout escapes for reportlab's markup
        undefined=StrictUndefined,  # a missing fact is a bug, never a blank in a letter
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["cn_date"] = cn_date
    env.filters["yuan"] = lambda amount: f"{int(amount):,}"
    return env


ENVIRONMENT = _environment()

#: Chinese punctuation that must not begin a line (标点禁则). reportlab's CJK wrapping
#: knows the Japanese set but not the full-width comma, colon, semicolon, closing quotes…,
#: so "，本机关决定" could start a line; adding them lets the mark hang at the line's end.
NO_LINE_START = "，；：！？、。”’》〉」』】〗）"
for _module in (textsplit, rl_paragraph):  # both keep a copy of the list
    _module.ALL_CANNOT_START += "".join(  # type: ignore[attr-defined]
        c
        for c in NO_LINE_START
        if c not in _module.ALL_CANNOT_START  # type: ignore[attr-defined]
    )


def notice_text(template: str, context: Mapping[str, Any]) -> str:
    """The notice's wording: ``templates/notices/<template>.txt`` rendered with ``context``."""
    return ENVIRONMENT.get_template(f"{template}.txt").render(**context)


@dataclass(frozen=True)
class Block:
    """One laid-out piece of the body: ``kind`` is to, paragraph, table or note."""

    kind: str
    text: str = ""
    rows: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ParsedNotice:
    title: str
    blocks: tuple[Block, ...] = field(default=())


def parse_notice(text: str) -> ParsedNotice:
    """Split rendered template text into the title and body blocks (markup above)."""
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    if not lines:
        raise ValueError("empty notice template")
    title, rest = lines[0], lines[1:]
    chunks: list[list[str]] = [[]]
    for line in rest:
        # A blank line ends a block; so does a switch between table rows and text, so
        # a template tag that swallowed a blank line cannot pull text into a table.
        if not line or (chunks[-1] and chunks[-1][-1].startswith("|") != line.startswith("|")):
            chunks.append([])
        if line:
            chunks[-1].append(line)
    blocks = [_block(chunk) for chunk in chunks if chunk]
    return ParsedNotice(title, tuple(blocks))


def _block(lines: list[str]) -> Block:
    first = lines[0]
    if first.startswith("|"):
        rows = []
        for line in lines:
            cells = [c.strip() for c in line.strip("|").split("|", 1)]
            rows.append((cells[0], cells[1] if len(cells) > 1 else ""))
        return Block("table", rows=tuple(rows))
    for marker in ("@to", "@note"):
        if first.startswith(marker + " "):
            text = "".join([first.removeprefix(marker).strip(), *lines[1:]])
            return Block(marker[1:], text)
    return Block("paragraph", "".join(lines))


class _Letterhead(Flowable):
    """The agency name in red, the number under it, and the red rule (版头)."""

    def __init__(self, agency: str, number: str, font: str, width: float) -> None:
        super().__init__()
        self.agency, self.number, self.font = agency, number, font
        self.width, self.height = width, 28 * mm

    def draw(self) -> None:
        canvas: Canvas = self.canv
        middle = self.width / 2
        size = 26 if len(self.agency) <= 14 else 20
        canvas.setFillColor(HEADER_RED)
        canvas.setFont(self.font, size)
        canvas.drawCentredString(middle, self.height - size, self.agency)
        canvas.setFillColor(colors.black)
        canvas.setFont(self.font, 12)
        canvas.drawCentredString(middle, 6 * mm, self.number)
        canvas.setStrokeColor(HEADER_RED)
        canvas.setLineWidth(1.6)
        canvas.line(0, 2 * mm, self.width, 2 * mm)


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "body",
        fontName=font,
        fontSize=BODY_SIZE,
        leading=BODY_LEADING,
        wordWrap="CJK",
        alignment=TA_LEFT,
        firstLineIndent=2 * BODY_SIZE,
        spaceAfter=2,
    )
    return {
        "title": ParagraphStyle(
            "title",
            parent=base,
            fontSize=20,
            leading=30,
            alignment=TA_CENTER,
            firstLineIndent=0,
            spaceBefore=8,
            spaceAfter=14,
        ),
        "to": ParagraphStyle("to", parent=base, firstLineIndent=0, spaceBefore=4),
        "paragraph": base,
        "note": ParagraphStyle(
            "note", parent=base, fontSize=10.5, leading=17, textColor=colors.HexColor("#333333")
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=12, leading=18, firstLineIndent=0),
        "sign": ParagraphStyle(
            "sign", parent=base, alignment=TA_RIGHT, firstLineIndent=0, leading=20, spaceAfter=0
        ),
    }


def _table(rows: tuple[tuple[str, str], ...], style: ParagraphStyle, width: float) -> Table:
    cells = [[Paragraph(escape(k), style), Paragraph(escape(v), style)] for k, v in rows]
    table = Table(cells, colWidths=[34 * mm, width - 34 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#F2F2F2")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    return table


def _signature(doc: NoticeDocument, style: ParagraphStyle, closing: list[Flowable]) -> KeepTogether:
    """Agency, seal and date, right-aligned, on one page with the closing lines above.

    A page holding only the seal would be a signature without a text (official
    documents avoid it), so the last body blocks move along with the signature.
    """
    lines = [doc.agency_name, "（印章）", cn_date(doc.dated_on)]
    signature = [Paragraph(escape(line), style) for line in lines]
    return KeepTogether([*closing, Spacer(1, 6 * mm), *signature])


def _page_number(canvas: Canvas, _doc: SimpleDocTemplate) -> None:
    """``— 1 —`` centred at the foot of every page, as official documents number pages."""
    canvas.saveState()
    canvas.setFont(pdf_font().name, 11)
    canvas.drawCentredString(A4[0] / 2, 12 * mm, f"— {canvas.getPageNumber()} —")
    canvas.restoreState()


def render_notice(doc: NoticeDocument) -> bytes:
    """The notice as A4 PDF bytes; the same document always gives the same bytes."""
    parsed = parse_notice(notice_text(doc.template, doc.context))
    font = pdf_font().name
    styles = _styles(font)
    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        bottomMargin=BOTTOM_MARGIN,
        title=f"{parsed.title}（{doc.number}）",
        author=doc.agency_name,
        subject=parsed.title,
        creator="Gongkai 依申请公开办理系统",
        invariant=1,
        **MARGINS,
    )
    width = pdf.width - 2 * FRAME_PADDING  # what a flowable may fill inside the frame
    story: list[Flowable] = [
        _Letterhead(doc.agency_name, doc.number, font, width),
        Paragraph(escape(parsed.title), styles["title"]),
    ]
    for block in parsed.blocks:
        if block.kind == "table":
            story += [_table(block.rows, styles["cell"], width), Spacer(1, 4 * mm)]
        else:
            story.append(Paragraph(escape(block.text), styles[block.kind]))
    # The closing formula (特此告知。) is short: the paragraph before it comes along too.
    keep = min(2, len(story) - 2)
    closing, story = story[len(story) - keep :], story[: len(story) - keep]
    story.append(_signature(doc, styles["sign"], closing))
    pdf.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
    return buffer.getvalue()
