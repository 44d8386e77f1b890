"""Uploads are limited while they are read, and damaged files get a message (item 5).

Review V7/V9/I16/I17: a 297 KB XLSX of a million empty rows cost 59 s and 223 MB, a 20 MB
CSV of ``,\\n`` 971 MB, and 7 of 10 malformed XLSX files a 500. Each file is made here
the way the review made it; the reader must refuse it with a Chinese sentence
(``LedgerFileError``) within a bounded amount of memory (``tracemalloc``'s peak).
"""

from __future__ import annotations

import io
import re
import tracemalloc
import zipfile
from collections.abc import Callable

import pytest

from workflow.ledger.reader import (
    LedgerFileError,
    ReadLimits,
    read_ledger_bytes,
    template_csv_bytes,
    template_xlsx_bytes,
)

SHEET = "xl/worksheets/sheet1.xml"
MB = 1024 * 1024


def _xlsx_with(change: Callable[[dict[str, bytes]], None]) -> bytes:
    """The template workbook with some of its parts rewritten."""
    with zipfile.ZipFile(io.BytesIO(template_xlsx_bytes())) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    change(parts)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return out.getvalue()


def _sheet(parts: dict[str, bytes], rows: str, keep_header: bool = True) -> None:
    xml = parts[SHEET].decode()
    header = re.search(r'<row r="1">.*?</row>', xml)
    assert header is not None
    body = (header.group(0) if keep_header else "") + rows
    parts[SHEET] = re.sub(
        r"<sheetData>.*</sheetData>", f"<sheetData>{body}</sheetData>", xml
    ).encode()


def _peak(read: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        with pytest.raises(LedgerFileError):
            read()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_xlsx_row_bomb_stops_at_the_blank_row_limit() -> None:
    bomb = _xlsx_with(lambda p: _sheet(p, "".join(f'<row r="{n}"/>' for n in range(2, 1_000_002))))
    assert len(bomb) < 3 * MB  # a small file …
    with pytest.raises(LedgerFileError, match="空行超过10000行"):
        read_ledger_bytes(bomb, "bomb.xlsx")
    assert _peak(lambda: read_ledger_bytes(bomb, "bomb.xlsx")) < 64 * MB  # … that stays small


def test_a_csv_of_empty_lines_stops_at_the_blank_row_limit() -> None:
    header = template_csv_bytes().splitlines()[0] + b"\r\n"
    flood = header + b",\n" * (10 * MB)  # 20 MB
    with pytest.raises(LedgerFileError, match="空行超过10000行"):
        read_ledger_bytes(flood, "flood.csv")
    # The decoded text itself (20 MB) is the floor; no list of ten million rows on top.
    assert _peak(lambda: read_ledger_bytes(flood, "flood.csv")) < 80 * MB


def test_too_many_rows_columns_or_characters() -> None:
    template = template_csv_bytes().decode("utf-8-sig")
    header, first = template.splitlines()[:2]
    many = "\r\n".join([header, *[first] * 6])
    with pytest.raises(LedgerFileError, match="超过5行数据"):
        read_ledger_bytes(many.encode(), "many.csv", limits=ReadLimits(rows=5))
    wide = header + "," * 1000 + "\r\n" + first
    with pytest.raises(LedgerFileError, match="超过64列"):
        read_ledger_bytes(wide.encode(), "wide.csv")
    huge = f"{header}\r\n{first.replace('某路段', 'x' * 20_000, 1)}"
    with pytest.raises(LedgerFileError, match="超过10000个字符"):
        read_ledger_bytes(huge.encode(), "huge.csv")


def test_an_xlsx_that_unpacks_beyond_the_limit_is_refused_before_unpacking() -> None:
    padded = _xlsx_with(lambda p: p.__setitem__("xl/media/padding.bin", b"\0" * (2 * MB)))
    with pytest.raises(LedgerFileError, match="解压后"):
        read_ledger_bytes(padded, "padded.xlsx", limits=ReadLimits(unpacked=MB))
    many = _xlsx_with(lambda p: p.update({f"xl/x{i}.xml": b"" for i in range(20)}))
    with pytest.raises(LedgerFileError, match="部件"):
        read_ledger_bytes(many, "many.xlsx", limits=ReadLimits(parts=10))


LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i else "&lol;" * 10}">'
        for i in range(9)
    )
    + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol8;</t></is></c></row>'
    "</sheetData></worksheet>"
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
    "</sheetData></worksheet>"
)

MALFORMED: dict[str, Callable[[dict[str, bytes]], None]] = {
    "bad XML": lambda p: p.__setitem__(SHEET, p[SHEET][:-40]),
    "entity expansion": lambda p: p.__setitem__(SHEET, LAUGHS.encode()),
    "external entity": lambda p: p.__setitem__(SHEET, XXE.encode()),
    "undefined entity": lambda p: p.__setitem__(
        SHEET, p[SHEET].replace(b"<t>post</t>", b"<t>&nope;</t>")
    ),
    "bad workbook": lambda p: p.__setitem__("xl/workbook.xml", b"<workbook><sheets><sheet"),
    "no workbook": lambda p: p.pop("xl/workbook.xml"),
    "number cell with text": lambda p: _sheet(p, '<row r="2"><c r="A2" t="n"><v>abc</v></c></row>'),
    "date cell with text": lambda p: _sheet(
        p, '<row r="2"><c r="A2" t="d"><v>not a date</v></c></row>'
    ),
    "bad shared string": lambda p: _sheet(p, '<row r="2"><c r="A2" t="s"><v>999</v></c></row>'),
    "bad cell reference": lambda p: _sheet(
        p, '<row r="2"><c r="?!" t="inlineStr"><is><t>x</t></is></c></row>'
    ),
}


@pytest.mark.parametrize("damage", sorted(MALFORMED))
def test_a_damaged_xlsx_gets_a_clear_message(damage: str) -> None:
    """Only ``LedgerFileError`` may come out (anything else was a 500 or a traceback)."""
    data = _xlsx_with(MALFORMED[damage])
    with pytest.raises(LedgerFileError) as refused:
        read_ledger_bytes(data, "damaged.xlsx")
    message = str(refused.value)
    assert re.search("[\u4e00-\u9fff]", message), message
    assert "root:" not in message  # no external entity was ever resolved


def test_a_truncated_archive_gets_a_clear_message() -> None:
    data = template_xlsx_bytes()
    with pytest.raises(LedgerFileError, match="无法读取 XLSX 文件"):
        read_ledger_bytes(data[: len(data) // 2], "cut.xlsx")
