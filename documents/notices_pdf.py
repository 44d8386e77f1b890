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

The markup belongs to the templates alone. Every value a template prints (the applicant's
name, the subject, a clerk's grounds: anything from the context) is data: it enters the
text as a placeholder while the markup is parsed and is put into its block afterwards,
with its line breaks folded into spaces. So no text typed by anyone can start a
paragraph, a table row or a note in an official document (:func:`notice_blocks`).

Output is deterministic (reportlab's invariant mode: no timestamps, fixed IDs), so the
same notice renders to the same bytes; the stored file is nevertheless the one that is
reprinted, never a re-rendering.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from contextvars import ContextVar
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


#: Private-use characters that bracket a value's index while the markup is parsed. No
#: keyboard types them, and they are removed from every value before it is inserted.
_OPEN, _CLOSE = "\ue000", "\ue001"
_TOKEN = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
#: Every character that ends a line for ``str.splitlines`` (and the spaces around it).
_LINE_BREAK = re.compile("\\s*[\\n\\r\\v\\f\\x1c\\x1d\\x1e\\x85\\u2028\\u2029]+\\s*")
#: The values printed by the render in progress (None outside :func:`notice_blocks`).
_VALUES: ContextVar[list[str] | None] = ContextVar("notice_values", default=None)


def as_data(text: str) -> str:
    """A value as it may appear inside one block: no line breaks, no placeholder marks."""
    return _LINE_BREAK.sub(" ", text.replace(_OPEN, "").replace(_CLOSE, ""))


def _hold(value: Any) -> Any:
    """Jinja's ``finalize``: print a placeholder for each value and keep the value aside.

    An empty value prints nothing, as before, so a template line that only holds an
    absent value still reads as a blank line.
    """
    values = _VALUES.get()
    text = str(value)
    if values is None or not text:
        return value
    values.append(as_data(text))
    return f"{_OPEN}{len(values) - 1}{_CLOSE}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=False,  # plain text: the layout escapes for reportlab's markup
        undefined=StrictUndefined,  # a missing fact is a bug, never a blank in a letter
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        finalize=_hold,
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


def notice_blocks(template: str, context: Mapping[str, Any]) -> ParsedNotice:
    """The notice's wording, ``templates/notices/<template>.txt`` with ``context``, as blocks.

    The markup is parsed with every printed value still a placeholder; the values are
    inserted into their blocks afterwards, so they can never change the structure.
    """
    values: list[str] = []
    token = _VALUES.set(values)
    try:
        text = ENVIRONMENT.get_template(f"{template}.txt").render(**context)
    finally:
        _VALUES.reset(token)
    parsed = parse_notice(text)

    def fill(part: str) -> str:
        return _TOKEN.sub(lambda m: values[int(m.group(1))], part)

    blocks = tuple(
        Block(b.kind, fill(b.text), tuple((fill(k), fill(v)) for k, v in b.rows))
        for b in parsed.blocks
    )
    return ParsedNotice(fill(parsed.title), blocks)


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
    parsed = notice_blocks(doc.template, doc.context)
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
