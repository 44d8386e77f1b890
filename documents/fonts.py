"""The Chinese font the PDFs are set in.

A PDF is only as readable as its font. An embedded TrueType CJK font (a subset, so the
file stays small) renders the same in every viewer, on paper and in archives; that is
what a published report needs. The font is chosen once per setting:

1. ``GONGKAI_PDF_FONT=/path/font.ttf|.ttc`` — an operator's choice; an unusable file is
   an error (a silent fallback would publish a differently set report);
   ``GONGKAI_PDF_FONT=builtin`` forces the fallback below;
2. otherwise the first usable system font of ``CANDIDATES`` (the Debian packages
   fonts-wqy-zenhei, fonts-wqy-microhei, fonts-droid-fallback, fonts-arphic-*);
3. otherwise reportlab's built-in CID font ``STSong-Light``: not embedded (the viewer
   supplies the glyphs), but it needs nothing outside pip, so a bare machine still
   produces a valid PDF.

OpenType fonts with PostScript outlines (most Noto CJK / Source Han files) cannot be
embedded by reportlab; they are tried and skipped.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

import settings
from workflow.kernel.errors import DomainError

ENV_VAR = settings.PDF_FONT
#: The value of ``GONGKAI_PDF_FONT`` that forces the built-in CID font.
BUILTIN = "builtin"
CID_FONT = "STSong-Light"

#: System fonts tried in order when nothing is configured (TrueType outlines only).
CANDIDATES: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
    Path("/usr/share/fonts/truetype/arphic/ukai.ttc"),
)


class FontError(DomainError):
    """The configured font cannot be used: an operator's mistake, told in words."""

    status = 500


@dataclass(frozen=True)
class PdfFont:
    """A registered font: its reportlab name, where it came from, whether it is embedded."""

    name: str
    source: str
    embedded: bool

    @property
    def description(self) -> str:
        """For the page, the CLI and the frozen-PDF record."""
        how = "嵌入TrueType字体" if self.embedded else "内置CID字体（未嵌入）"
        return f"{how}：{self.source}"

    @property
    def short(self) -> str:
        """For staff pages: which font, without server paths."""
        if not self.embedded:
            return "内置宋体（STSong-Light，未嵌入）"
        return f"已嵌入中文字体（{os.path.basename(self.source)}）"


def pdf_font() -> PdfFont:
    """The font for PDFs under the current ``GONGKAI_PDF_FONT`` setting (registered)."""
    return _resolve(settings.pdf_font())


@functools.cache
def _resolve(setting: str) -> PdfFont:
    """Cached per setting: parsing a 16 MB font file once per process is enough."""
    if setting.lower() == BUILTIN:
        return _builtin()
    if setting:
        path = Path(setting)
        if not path.is_file():
            raise FontError(f"{ENV_VAR} 指定的字体文件不存在：{setting}")
        try:
            return _truetype(path)
        except TTFError as exc:
            raise FontError(f"{ENV_VAR} 指定的字体无法嵌入PDF：{setting}（{exc}）") from exc
    for path in CANDIDATES:
        if path.is_file():
            try:
                return _truetype(path)
            except TTFError:
                continue  # PostScript outlines or a damaged file: try the next one
    return _builtin()


def _truetype(path: Path) -> PdfFont:
    name = "GongkaiCJK-" + re.sub(r"[^A-Za-z0-9]+", "", path.stem)
    if name not in pdfmetrics.getRegisteredFontNames():
        # subfontIndex 0: the regular face of a collection (.ttc).
        pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=0))
    return PdfFont(name, str(path), embedded=True)


def _builtin() -> PdfFont:
    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return PdfFont(CID_FONT, CID_FONT, embedded=False)
