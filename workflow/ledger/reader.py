"""The ledger of requests (台账, docs/domain.md §11): reading, checking, planning; no database.

Agencies arrive with years of requests kept in Excel. A ledger row is not stored as is:
it is turned into the sequence of events the clerk *would* have recorded and replayed
through the same machine as the UI (``workflow.ledger.importer``), so imported requests obey
every rule, show the same timelines and count in the statistics exactly like typed ones.

This module does the parts that need no database, so they are unit-tested in isolation
and the upload page can reuse them:

* :func:`read_ledger` / :func:`read_ledger_bytes` — CSV (UTF-8, BOM allowed) or XLSX
  (first sheet) into rows of strings keyed by the contract's column names, header checked;
* :func:`validate_rows` — every cell and cross-column rule, each problem reported as a
  :class:`RowError` (spreadsheet line, column, Chinese reason), all of them at once;
* :func:`plan_events` — the events one valid row replays as;
* :func:`template_rows` / :func:`write_template_csv` — the downloadable template.

Column names are a contract (docs/domain.md §11): extend, never rename.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import sqlite3
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, NamedTuple

from workflow.catalog.applicants import APPLICANT_KINDS, kind_from_text
from workflow.catalog.channels import CHANNEL_BY_CODE, CHANNELS, DEFAULT_CHANNEL
from workflow.catalog.fees import FEE_METHODS, PER_PAGE, pages_for_amount
from workflow.catalog.outcomes import GROUP_BY_CODE, OUTCOME_BY_CODE, outcome_from_text
from workflow.kernel.calendar import DEFAULT_CALENDAR, WorkingCalendar
from workflow.kernel.guards import UNRECORDED
from workflow.requests.deadlines import FEE_PAYMENT_DAYS
from workflow.requests.procedure_rules import EXCESSIVE, PETITION, REASONS_PROCEDURE
from workflow.requests.spec import SPEC_BY_TRIGGER

# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class LedgerColumn:
    """A ledger column: its code (the contract), its label and the other Chinese headers
    spreadsheets use for it (``aliases``); any of them names the column in a header."""

    name: str
    label: str
    required: bool
    aliases: tuple[str, ...] = ()

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.name, self.label, *self.aliases)


#: The ledger's columns in the contract's order (docs/domain.md §11); the template uses this order.
#: The last five extend the contract (docs/domain.md §11.2): who approved an extension,
#: and the fee notice a fee lapse answers.
LEDGER_COLUMNS: tuple[LedgerColumn, ...] = (
    LedgerColumn("agency", "机关代码", True, ("机关",)),
    LedgerColumn("ref", "本机关编号", True, ("编号", "台账编号")),
    LedgerColumn(
        "applicant_name", "申请人姓名或名称", True, ("申请人", "申请人姓名", "申请人名称")
    ),
    LedgerColumn("applicant_kind", "申请人类型", True),
    LedgerColumn("channel", "提交方式", False, ("申请方式",)),
    LedgerColumn("received_on", "收到申请日期", True, ("收到日期", "申请日期")),
    LedgerColumn("subject", "所需信息", True, ("申请内容", "申请公开的信息")),
    LedgerColumn("supplement_requested_on", "告知补正日期", False, ("补正告知日期",)),
    LedgerColumn("supplement_received_on", "收到补正材料日期", False, ("收到补正日期",)),
    LedgerColumn("extended_on", "批准延期日期", False, ("延期日期",)),
    LedgerColumn("concluded_on", "办结日期", False, ("答复日期",)),
    LedgerColumn("outcome", "处理结果", False, ("答复结果",)),
    LedgerColumn("voided", "登记错误作废", False, ("作废",)),
    LedgerColumn("extension_approver", "延期批准人", False),
    LedgerColumn("fee_notice_on", "收费通知日期", False, ("发出收费通知日期",)),
    LedgerColumn("fee_amount", "收费金额", False, ("收费金额（元）",)),
    LedgerColumn("fee_method", "计收方式", False),
    LedgerColumn("fee_paid_on", "缴费日期", False),
)
#: The record columns the full 台账 export writes after the ledger's (``workflow.ledger.export``):
#: what an office keeps and an import does not replay. A ledger of requests may carry them
#: (an export imports as it is); the reader reads past them.
EXPORT_ONLY_HEADERS: tuple[str, ...] = (
    "申请编号",
    "机关名称",
    "申请人类型名称",
    "提交方式名称",
    "证件号码",
    "联系电话",
    "通信地址",
    "提交日期",
    "受理日期",
    "告知补正",
    "收到补正",
    "征求意见",
    "延期",
    "缴费",
    "答复（决定）日期",
    "全部处理结果",
    "重新办理",
    "当前状态",
    "承办人",
    "文书号",
    "送达日期",
    "复议诉讼",
)
#: A cell as the export writes it: text (always a text cell), a date, a whole number, empty.
LedgerCell = str | date | int | None
#: A header cell naming a column the reader skips.
_SKIPPED = "\x00skipped"
COLUMN_BY_NAME: dict[str, LedgerColumn] = {c.name: c for c in LEDGER_COLUMNS}
COLUMN_NAMES: tuple[str, ...] = tuple(COLUMN_BY_NAME)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in LEDGER_COLUMNS if c.required)

#: The date columns in the order the events must have happened.
DATE_ORDER: tuple[str, ...] = (
    "received_on",
    "supplement_requested_on",
    "supplement_received_on",
    "extended_on",
    "fee_notice_on",
    "fee_paid_on",
    "concluded_on",
)

#: The orders the dates must follow: an extension and a fee notice both happen during
#: review, in either order (the replay sorts them by date, :func:`plan_events`).
DATE_CHAINS: tuple[tuple[str, ...], ...] = (
    ("received_on", "supplement_requested_on", "supplement_received_on", "extended_on"),
    (
        "received_on",
        "supplement_requested_on",
        "supplement_received_on",
        "fee_notice_on",
        "fee_paid_on",
        "concluded_on",
    ),
    ("extended_on", "concluded_on"),
)

#: Marks every text the import has to invent, so a reader of the timeline can tell.
IMPORT_NOTE = "（台账导入）"
VOID_REASON = "台账标记为登记错误"
#: Days the applicant is given to supplement when the ledger does not say (a usual period).
SUPPLEMENT_PERIOD = timedelta(days=15)
EXTENSION_DAYS = 20
#: Recorded as the approver of an extension when the ledger names none (Art. 33 needs an
#: approval; the ledger attests it happened, not by whom).
APPROVAL_PER_LEDGER = "按台账记载批准"
#: The note of a fee notice a ledger implies (it says the fee lapsed) but does not hold:
#: no amount and no method are recorded, so no fee is counted (docs/domain.md §11.2).
FEE_NOT_IN_LEDGER = "台账未记载收费通知的日期、金额和计收方式（台账导入）"
#: The ledger's own outcome value for an applicant's withdrawal (申请人撤回), which the
#: tables count under 其他处理 like any ``withdraw``; ``other`` alone is a neutral decision.
WITHDRAWN = "withdrawn"
_WITHDRAWN_WORDS = frozenset({WITHDRAWN, "withdraw", "撤回", "申请人撤回", "撤回申请"})
MAX_REF = 64  # requests.external_ref is VARCHAR(64)
MAX_APPROVER = 100
#: The fee notice form's own bound (``workflow.requests.spec``, issue_fee_notice.amount).
MAX_FEE = next(f for f in SPEC_BY_TRIGGER["issue_fee_notice"].fields if f.name == "amount").maximum
_FEE_METHOD = {
    **{code: code for code, _label in FEE_METHODS},
    **{label: code for code, label in FEE_METHODS},
    "按件": "per_request",
    "按量": "per_page",
}

_TRUE = frozenset({"yes", "y", "是", "true", "1", "作废"})
_FALSE = frozenset({"", "no", "n", "否", "false", "0"})

#: Reply delivery recorded for imported conclusions: back the way the request came.
_DELIVERY_FOR_CHANNEL = {
    "in_person": "in_person",
    "post": "post",
    "letter": "post",
    "online": "online",
    "fax": "post",
    "portal": "online",
    "hotline_12345": "post",
    "platform": "online",
}

# --------------------------------------------------------------------------- errors


@dataclass(frozen=True, order=True)
class RowError:
    """One refused cell: what the CLI prints and the upload page lists."""

    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"第{self.line}行 [{self.column}] {self.reason}"


class LedgerFileError(Exception):
    """The file as a whole cannot be read (encoding, format, header); ``str()`` is Chinese."""


class PlanError(Exception):
    """A valid-looking row that cannot be replayed (e.g. a fee lapse before the deadline)."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class RawRow:
    """A data row as strings, keyed by column name (absent optional columns are "")."""

    line: int
    cells: dict[str, str]


_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class ReadLimits:
    """What a ledger file may hold, checked while it is read (review V7: a 297 KB XLSX of
    a million empty rows took 59 s and 223 MB, a 20 MB CSV of blank lines 971 MB, before
    any limit applied). Each limit stops the reading at the first row or cell beyond it,
    so the memory and time a file costs are bounded by the limits, not by the file.
    """

    #: Data rows (not blank) — what ``jobs.tasks`` imports at most in one go.
    rows: int = 200_000
    #: Blank rows, which spreadsheets keep after the data (and a row bomb is made of).
    blank_rows: int = 10_000
    columns: int = 64
    #: Characters in one cell (the longest field, the subject, holds 4,000).
    cell: int = 10_000
    #: Bytes an XLSX may expand to (its parts' declared sizes; zipfile never reads past them).
    unpacked: int = 256 * 1024 * 1024
    #: Parts in an XLSX archive (a real workbook has a dozen or two).
    parts: int = 1_000


DEFAULT_LIMITS = ReadLimits()


#: A ledger file's content: its bytes (an upload) or its path on disk (a command's
#: argument). A path is read as the rows are streamed, so a big ledger is never held
#: whole in memory.
LedgerData = bytes | Path


def _binary(data: LedgerData) -> IO[bytes]:
    """The file's content as a binary stream (the caller closes it)."""
    if isinstance(data, bytes):
        return io.BytesIO(data)
    try:
        return data.open("rb")
    except OSError as exc:
        raise LedgerFileError(f"无法读取文件“{data.name}”：{exc.strerror or exc}") from exc


def _head(data: LedgerData, size: int = 8) -> bytes:
    with _binary(data) as raw:
        return raw.read(size)


def ledger_digest(data: LedgerData) -> str:
    """The SHA-256 of the file, recorded on every imported event (read in blocks)."""
    with _binary(data) as raw:
        return hashlib.file_digest(raw, "sha256").hexdigest()


def read_ledger(
    path: str | Path,
    columns: Sequence[LedgerColumn] = LEDGER_COLUMNS,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> list[RawRow]:
    """Read a ledger file from disk; see :func:`read_ledger_bytes`."""
    path = Path(path)
    return read_ledger_bytes(path, path.name, columns, limits)


def read_ledger_bytes(
    data: LedgerData,
    filename: str = "",
    columns: Sequence[LedgerColumn] = LEDGER_COLUMNS,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> list[RawRow]:
    """Read CSV or XLSX bytes (sniffed from the content, not trusted from the name).

    Rows whose cells are all empty are skipped (spreadsheets keep trailing blank rows),
    but line numbers still count them so they match what the user sees in Excel.
    ``columns`` is the contract the header is checked against: the ledger of requests
    by default, or another ledger's (the challenges ledger reads through the same code).
    The file is read row by row under ``limits``; the header is checked before any
    data row is read.
    """
    return list(iter_ledger_bytes(data, filename, columns, limits))


def count_ledger_rows(
    data: LedgerData,
    filename: str = "",
    columns: Sequence[LedgerColumn] = LEDGER_COLUMNS,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> int:
    """The data rows of the file, read through once (nothing kept); raises
    :class:`LedgerFileError` for any problem of the file as a whole."""
    return sum(1 for _ in iter_ledger_bytes(data, filename, columns, limits))


def iter_ledger_bytes(
    data: LedgerData,
    filename: str = "",
    columns: Sequence[LedgerColumn] = LEDGER_COLUMNS,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> Iterator[RawRow]:
    """The rows of :func:`read_ledger_bytes` one at a time, none held: a big ledger is
    streamed through validation and replay in chunks. A problem of the whole file
    (:class:`LedgerFileError`) may surface after rows have been yielded — a data column
    without a header is only known at the end — so a caller stores nothing until the
    iteration has finished."""
    head = _head(data)
    if head.startswith(_OLE_MAGIC) or filename.lower().endswith(".xls"):
        raise LedgerFileError("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 UTF-8 CSV")
    if head.startswith(_ZIP_MAGIC):
        return _rows_from_table(_xlsx_table(data, limits), columns, limits)
    return _rows_from_table(_csv_table(data, limits), columns, limits)


_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def decode_csv(data: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM), else GB18030 — what Chinese Excel
    writes for “CSV（逗号分隔）” (GB18030 is a superset of GBK and GB2312).

    UTF-8 is tried first because a GB18030 reading of UTF-8 text never fails outright
    but gives mojibake, whereas UTF-8 decoding of GBK text fails on its first character.
    """
    if data.startswith(_UTF16_32_BOMS):
        raise LedgerFileError(
            "文件是UTF-16/UTF-32编码，请在Excel中另存为“CSV UTF-8”或“CSV（逗号分隔）”"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise LedgerFileError(
            "文件既不是UTF-8也不是GBK/GB18030编码，请在Excel中另存为“CSV UTF-8”"
        ) from None


def csv_encoding(raw: IO[bytes]) -> str:
    """The encoding :func:`decode_csv` would choose, found without building the text.

    The stream is read from its start in chunks through an incremental decoder whose
    output is dropped, so a 20 MB upload does not become a 20–80 MB string before any
    limit; it is left at its start again.
    """
    raw.seek(0)
    head = raw.read(4)
    if head.startswith(_UTF16_32_BOMS):
        decode_csv(head)  # the same refusal
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        raw.seek(0)
        try:
            while block := raw.read(_CHUNK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        raw.seek(0)
        return encoding
    raise LedgerFileError("文件既不是UTF-8也不是GBK/GB18030编码，请在Excel中另存为“CSV UTF-8”")


_CHUNK = 1024 * 1024


def _csv_table(data: LedgerData, limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[list[str]]:
    """The CSV's records one at a time, decoded as they are read (no text, no row list)."""
    with _binary(data) as raw:
        stream = io.TextIOWrapper(raw, encoding=csv_encoding(raw), newline="")
        reader = csv.reader(stream)
        try:
            yield from reader
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise LedgerFileError(
                    f"第{reader.line_num}行有单元格超过{limits.cell}个字符，请检查文件"
                ) from None
            raise LedgerFileError(f"CSV 格式错误（第{reader.line_num}行）：{exc}") from exc


#: What a damaged or hostile XLSX raises inside openpyxl, zipfile and the XML parser: bad
#: XML (``ParseError`` is a ``SyntaxError``), entity tricks (defusedxml's errors are
#: ``ValueError``), wrong cell types (``ValueError``/``TypeError``), a bad shared-string
#: index (``IndexError``), missing parts (``KeyError``), broken compression (``zlib.error``,
#: ``EOFError``).
_XLSX_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    OSError,
    EOFError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    SyntaxError,
)

_XLSX_BROKEN = (
    "无法读取 XLSX 文件：文件已损坏或不是有效的 Excel 工作簿。"
    "请在 Excel 或 WPS 中打开后重新另存为 .xlsx，或另存为“CSV UTF-8”再上传"
)


def _check_archive(raw: IO[bytes], limits: ReadLimits) -> None:
    """Refuse an XLSX whose parts would expand beyond the limits, before unpacking any."""
    try:
        with zipfile.ZipFile(raw) as archive:
            parts = archive.infolist()
    except _XLSX_ERRORS:
        raise LedgerFileError(_XLSX_BROKEN) from None
    if len(parts) > limits.parts:
        raise LedgerFileError(
            f"XLSX 文件包含{len(parts)}个部件，超过{limits.parts}个，不是正常的工作簿"
        )
    unpacked = sum(p.file_size for p in parts)
    if unpacked > limits.unpacked:
        raise LedgerFileError(
            f"XLSX 文件解压后有{unpacked // (1024 * 1024)} MB，"
            f"超过{limits.unpacked // (1024 * 1024)} MB，请分批导入或另存为 CSV"
        )


def _xlsx_table(data: LedgerData, limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[list[str]]:
    """The first sheet's rows one at a time (openpyxl's read-only, streaming mode)."""
    with _binary(data) as raw:
        _check_archive(raw, limits)
        raw.seek(0)
        yield from _sheet_rows(raw, limits)


def _sheet_rows(raw: IO[bytes], limits: ReadLimits) -> Iterator[list[str]]:
    """The first sheet's rows of a workbook already checked against ``limits``."""
    from openpyxl import load_workbook  # heavy import, only when an XLSX arrives

    try:
        book = load_workbook(raw, read_only=True, data_only=True)
    except _XLSX_ERRORS:
        raise LedgerFileError(_XLSX_BROKEN) from None
    try:
        if not book.worksheets:
            raise LedgerFileError("XLSX 文件中没有工作表")
        sheet = book.worksheets[0]
        # The declared dimension (A1:XFD1048576 in a crafted file) would pad every row.
        sheet.reset_dimensions()  # type: ignore[union-attr]
        for row in sheet.iter_rows(values_only=True):
            if len(row) > limits.columns:
                row = row[: limits.columns + 1]  # enough to report it; never more
            yield [_cell_text(v) for v in row]
    except LedgerFileError:
        raise
    except _XLSX_ERRORS:
        raise LedgerFileError(_XLSX_BROKEN) from None
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    """An XLSX cell as the text a CSV would hold: dates ISO, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        # Ledgers record days; a time of day (if any) carries no legal meaning here.
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_HEADER_SPACE = re.compile(r"[\s\u3000]+")
_CODE_IN_HEADER = re.compile(r"^(.*?)[（(]\s*([a-z_]+)\s*[）)]$")


def _normalise_header(cell: str) -> str:
    text = _HEADER_SPACE.sub("", cell.replace("\ufeff", "")).lower()
    return text.replace("(", "（").replace(")", "）")


def header_names(columns: Sequence[LedgerColumn]) -> dict[str, str]:
    """Every accepted header (normalised) → column code: the code, the label, the aliases."""
    return {_normalise_header(h): c.name for c in columns for h in c.headers}


def _column_of(cell: str, names: Mapping[str, str]) -> str:
    """The code a header cell names: “申请人”, “applicant_name” and “申请人（applicant_name）”
    (the template's form, both at once) all name ``applicant_name``. Unknown → itself."""
    text = _normalise_header(cell)
    if text in names:
        return names[text]
    both = _CODE_IN_HEADER.match(text.replace("（", "(").replace("）", ")"))
    if both and both[2] in names.values() and names.get(both[1], both[2]) == both[2]:
        return both[2]
    return text


def header_cell(column: LedgerColumn) -> str:
    """The template's header for ``column``: its Chinese label with its code."""
    return f"{column.label}（{column.name}）"


def _rows_from_table(
    table: Iterable[list[str]],
    columns: Sequence[LedgerColumn],
    limits: ReadLimits = DEFAULT_LIMITS,
) -> Iterator[RawRow]:
    """The data rows of a table read row by row, under ``limits``, after its header.

    The header is checked when the first row is asked for (before any data row)."""
    records = iter(table)
    first = next(records, None)
    if first is None or not any(c.strip() for c in first):
        example = "、".join(c.name for c in columns[:2])
        raise LedgerFileError(f"文件是空的，或第1行不是表头（第1行应为列名，如 {example} …）")
    if len(first) > limits.columns:
        raise LedgerFileError(f"第1行有{len(first)}列以上，超过{limits.columns}列，请检查文件")
    aliases = header_names(columns)
    skipped = (
        {_normalise_header(h) for h in EXPORT_ONLY_HEADERS} if columns is LEDGER_COLUMNS else set()
    )
    header = [
        ""
        if not c.strip()
        else _SKIPPED
        if _normalise_header(c) in skipped
        else _column_of(c, aliases)
        for c in first
    ]
    _check_header(header, columns)
    names = [c.name for c in columns]
    rows = 0
    blank = 0
    unnamed_with_data: set[int] = set()
    for index, record in enumerate(records, start=2):
        if len(record) > limits.columns:
            raise LedgerFileError(f"第{index}行超过{limits.columns}列，请检查文件")
        long = next((c for c in record if len(c) > limits.cell), None)
        if long is not None:
            raise LedgerFileError(f"第{index}行有单元格超过{limits.cell}个字符，请检查文件")
        if not any(cell.strip() for cell in record):
            blank += 1
            if blank > limits.blank_rows:
                raise LedgerFileError(
                    f"文件中的空行超过{limits.blank_rows}行（读到第{index}行），"
                    "请删除多余的空行后重新导入"
                )
            continue
        if rows >= limits.rows:
            raise LedgerFileError(f"文件超过{limits.rows}行数据，请分批导入")
        cells = dict.fromkeys(names, "")
        for position, (name, value) in enumerate(zip(header, record, strict=False)):
            if name == _SKIPPED:
                continue  # an export-only column (docs/domain.md §11.2)
            if name:
                cells[name] = value.strip()
            elif value.strip():
                unnamed_with_data.add(position)
        if len(record) > len(header) and any(v.strip() for v in record[len(header) :]):
            cells["__extra__"] = "yes"
        rows += 1
        yield RawRow(index, cells)
    if unnamed_with_data:
        letters = "、".join(_column_letter(i) for i in sorted(unnamed_with_data))
        raise LedgerFileError(f"表头（第1行）有误：第{letters}列有数据但没有列名")


def _check_header(header: list[str], columns: Sequence[LedgerColumn]) -> None:
    problems: list[str] = []
    named = [h for h in header if h and h != _SKIPPED]
    names = [c.name for c in columns]
    missing = [c.name for c in columns if c.required and c.name not in named]
    if missing:
        problems.append("缺少必填列：" + "、".join(missing))
    unknown = [h for h in named if h not in names]
    if unknown:
        problems.append(
            "无法识别的列："
            + "、".join(unknown)
            + "（可用的列："
            + "、".join(f"{c.name}（{c.label}）" for c in columns)
            + "）"
        )
    duplicated = sorted({h for h in named if named.count(h) > 1})
    if duplicated:
        problems.append("列名重复：" + "、".join(duplicated))
    if problems:
        raise LedgerFileError("表头（第1行）有误：" + "；".join(problems))


def _column_letter(index: int) -> str:
    """Excel's column name (A, B, …, AA) so the user finds the column at once."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class LedgerRow:
    """One valid ledger row, typed; codes are resolved (labels become codes)."""

    line: int
    agency: str
    ref: str
    applicant_name: str
    applicant_kind: str
    channel: str
    received_on: date
    subject: str
    supplement_requested_on: date | None = None
    supplement_received_on: date | None = None
    extended_on: date | None = None
    concluded_on: date | None = None
    outcome: str | None = None
    voided: bool = False
    extension_approver: str = ""
    fee_notice_on: date | None = None
    fee_amount: int | None = None
    fee_method: str | None = None
    fee_paid_on: date | None = None

    @property
    def awaiting_supplement(self) -> bool:
        """Supplement asked for and never received: the request never reached review."""
        return self.supplement_requested_on is not None and self.supplement_received_on is None

    @property
    def last_date(self) -> date:
        return max(d for d in (getattr(self, c) for c in DATE_ORDER) if d is not None)


_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)


@lru_cache(maxsize=16384)
def parse_ledger_date(text: str) -> date:
    """YYYY-MM-DD; Excel's local renderings are accepted too: 2026/3/2 (with a 0:00 time),
    2026.3.2 and 2026年3月2日 (the 长日期 format), with or without leading zeros.

    Chinese spreadsheets save dates like that when exported to CSV; the order is
    unambiguous (year first), so refusing them would only send clerks back to Excel.
    XLSX date cells arrive as dates already (:func:`_cell_text`).
    """
    match = _DATE.match(text.strip())
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise ValueError(f"“{text[:20]}”不是有效日期，请按 YYYY-MM-DD 填写")


@lru_cache(maxsize=1024)
def outcome_from_cell(text: str) -> str | None:
    """Resolve an outcome cell: a code, a report label (half- or full-width brackets,
    with or without the group prefix such as “（三）”), or the 2019 format's single
    (六) row (``other`` / “其他处理”), which stands for ``other.other``; or
    :data:`WITHDRAWN` (“申请人撤回”), the ledger's word for a withdrawal.
    """
    value = text.strip().replace("(", "（").replace(")", "）")
    other = GROUP_BY_CODE["other"]
    if value.lower() in _WITHDRAWN_WORDS:
        return WITHDRAWN
    if value in ("other", other.label, other.label.removeprefix("（六）")):
        return "other.other"
    found = outcome_from_text(value)
    if found is None and value.startswith("（") and "）" in value:
        found = outcome_from_text(value.split("）", 1)[1])
    return found.code if found else None


@lru_cache(maxsize=256)
def _channel_from_cell(text: str) -> str | None:
    value = text.strip()
    if not value:
        return DEFAULT_CHANNEL
    if value in CHANNEL_BY_CODE:
        return value
    for channel in CHANNELS:
        if value == channel.label or value == channel.label.split("（")[0]:
            return channel.code
    return None


def validate_rows(
    raw_rows: Iterable[RawRow], today: date | None = None
) -> tuple[list[LedgerRow], list[RowError]]:
    """Check every row; return the valid ones and every problem (all rows, all columns).

    ``today`` (the agency's local date) refuses future dates here, with the column named,
    rather than later as a machine guard. Duplicate (agency, ref) pairs are reported on
    the later line, naming the first.
    """
    rows: list[LedgerRow] = []
    errors: list[RowError] = []
    with closing(RowValidator(today)) as validator:
        for raw in raw_rows:
            row, row_errors = validator.check(raw)
            if row_errors:
                errors.extend(row_errors)
            elif row is not None:
                rows.append(row)
    return rows, sorted(errors)


class RowValidator:
    """:func:`validate_rows` one row at a time, for a ledger streamed in chunks.

    To report a duplicate (agency, ref) on its later line it must remember every pair
    seen and its line: they are kept in a private temporary SQLite database on disk
    (``sqlite3.connect("")``, a page cache of a few MB, deleted on :meth:`close`), so
    memory does not grow with the rows of a 200,000-row ledger.
    """

    def __init__(self, today: date | None = None) -> None:
        self.today = today
        self._seen = sqlite3.connect("")
        self._seen.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
            "CREATE TABLE seen (agency TEXT, ref TEXT, line INTEGER NOT NULL,"
            " PRIMARY KEY (agency, ref)) WITHOUT ROWID"
        )

    def close(self) -> None:
        self._seen.close()

    def _first_line(self, key: tuple[str, str], line: int) -> int:
        """The line ``key`` was first seen on (``line`` itself if this is the first)."""
        added = self._seen.execute("INSERT OR IGNORE INTO seen VALUES (?, ?, ?)", (*key, line))
        if added.rowcount:
            return line
        found = self._seen.execute("SELECT line FROM seen WHERE agency = ? AND ref = ?", key)
        return int(found.fetchone()[0])

    def check(self, raw: RawRow) -> tuple[LedgerRow | None, list[RowError]]:
        row, row_errors = validate_row(raw, self.today)
        key = (raw.cells.get("agency", "").strip(), raw.cells.get("ref", "").strip())
        if all(key):
            first = self._first_line(key, raw.line)
            if first != raw.line:
                row_errors.append(
                    RowError(
                        raw.line,
                        "ref",
                        f"编号“{key[1]}”与第{first}行重复（同一机关的编号不能重复）",
                    )
                )
        return (None if row_errors else row), row_errors


def shape_errors(raw: RawRow, columns: Sequence[LedgerColumn] = LEDGER_COLUMNS) -> list[RowError]:
    """What is wrong with a row before any value is read: cells beyond the header's last
    column, and required cells left empty (any ledger: ``columns`` is its contract)."""
    errors = []
    if raw.cells.get("__extra__"):
        errors.append(RowError(raw.line, "—", "本行的单元格比表头多，多出的内容没有列名"))
    for column in columns:
        if column.required and not raw.cells.get(column.name, "").strip():
            errors.append(RowError(raw.line, column.name, f"{column.label}为必填项，不能为空"))
    return errors


def validate_row(raw: RawRow, today: date | None = None) -> tuple[LedgerRow | None, list[RowError]]:
    """One row's cells and cross-column rules; the row is ``None`` when anything is wrong."""
    cells = raw.cells
    errors: list[RowError] = shape_errors(raw)

    def fail(column: str, reason: str) -> None:
        errors.append(RowError(raw.line, column, reason))

    ref = cells.get("ref", "").strip()
    if len(ref) > MAX_REF:
        fail("ref", f"编号不能超过{MAX_REF}个字符")

    kind = None
    if cells.get("applicant_kind", "").strip():
        kind = kind_from_text(cells["applicant_kind"])
        if kind is None:
            choices = "、".join(f"{k.code}（{k.label}）" for k in APPLICANT_KINDS)
            fail(
                "applicant_kind",
                f"无法识别的申请人类型“{cells['applicant_kind']}”，可填：{choices}",
            )

    channel = _channel_from_cell(cells.get("channel", ""))
    if channel is None:
        fail(
            "channel",
            f"无法识别的提交方式“{cells['channel']}”，可填：" + "、".join(CHANNEL_BY_CODE),
        )

    dates: dict[str, date | None] = {}
    for name in DATE_ORDER:
        text = cells.get(name, "").strip()
        dates[name] = None
        if not text:
            continue
        try:
            dates[name] = parse_ledger_date(text)
        except ValueError as exc:
            fail(name, str(exc))
            continue
        if today is not None and dates[name] > today:
            fail(name, f"{COLUMN_BY_NAME[name].label}（{text}）不能晚于今天（{today.isoformat()}）")
    errors.extend(_order_errors(raw.line, dates))

    outcome: str | None = None
    outcome_text = cells.get("outcome", "").strip()
    if outcome_text:
        outcome = outcome_from_cell(outcome_text)
        if outcome is None:
            fail("outcome", f"无法识别的处理结果“{outcome_text}”，请填写处理结果代码或报表中的名称")

    voided_text = cells.get("voided", "").strip().lower()
    if voided_text not in _TRUE | _FALSE:
        fail("voided", f"“{cells['voided']}”无法识别：登记错误的填 yes（或“是”），否则留空")

    approver = cells.get("extension_approver", "").strip()
    if approver and not cells.get("extended_on", "").strip():
        fail("extension_approver", "填写了延期批准人，但没有批准延期日期（extended_on）")
    if len(approver) > MAX_APPROVER:
        fail("extension_approver", f"延期批准人不能超过{MAX_APPROVER}个字符")
    fee_amount, fee_method = _fee_cells(cells, dates, fail)

    concluded = bool(cells.get("concluded_on", "").strip())
    if concluded and not outcome_text:
        fail("outcome", "填写了办结日期（concluded_on），必须同时填写处理结果")
    if outcome_text and not concluded:
        fail("outcome", "填写了处理结果但没有办结日期（concluded_on）；尚未办结的请留空处理结果")
    if (
        cells.get("supplement_received_on", "").strip()
        and not cells.get("supplement_requested_on", "").strip()
    ):
        fail("supplement_received_on", "有收到补正材料日期，但没有告知补正日期")

    for column, reason in _lifecycle_problems(dates, outcome, fee_amount is not None):
        fail(column, reason)

    if errors or kind is None or channel is None:
        return None, errors
    received = dates["received_on"]
    assert received is not None  # required and parsed, else errors above
    return (
        LedgerRow(
            line=raw.line,
            agency=cells["agency"].strip(),
            ref=ref,
            applicant_name=cells["applicant_name"].strip(),
            applicant_kind=kind.code,
            channel=channel,
            received_on=received,
            subject=cells["subject"].strip(),
            supplement_requested_on=dates["supplement_requested_on"],
            supplement_received_on=dates["supplement_received_on"],
            extended_on=dates["extended_on"],
            concluded_on=dates["concluded_on"],
            outcome=outcome,
            voided=voided_text in _TRUE,
            extension_approver=approver,
            fee_notice_on=dates["fee_notice_on"],
            fee_amount=fee_amount,
            fee_method=fee_method,
            fee_paid_on=dates["fee_paid_on"],
        ),
        [],
    )


def _fee_cells(
    cells: Mapping[str, str], dates: Mapping[str, date | None], fail: Callable[[str, str], None]
) -> tuple[int | None, str | None]:
    """The fee notice's amount and method; the three fee-notice cells go together."""
    amount_text = cells.get("fee_amount", "").strip().removesuffix("元").strip()
    method_text = cells.get("fee_method", "").strip()
    notice_text = cells.get("fee_notice_on", "").strip()
    if not (amount_text or method_text or notice_text):
        if cells.get("fee_paid_on", "").strip():
            fail(
                "fee_paid_on",
                "填写了缴费日期，但没有收费通知（fee_notice_on、fee_amount、fee_method）",
            )
        return None, None
    missing = [
        COLUMN_BY_NAME[name].label
        for name, text in (
            ("fee_notice_on", notice_text),
            ("fee_amount", amount_text),
            ("fee_method", method_text),
        )
        if not text
    ]
    if missing:
        fail(
            "fee_amount"
            if not amount_text
            else "fee_method"
            if not method_text
            else "fee_notice_on",
            "收费通知的日期、金额和计收方式须一并填写，缺少：" + "、".join(missing),
        )
        return None, None
    amount: int | None = None
    try:
        amount = int(Decimal(amount_text))
        if amount != Decimal(amount_text) or not 1 <= amount <= MAX_FEE:
            raise ValueError
    except (ArithmeticError, ValueError):
        fail("fee_amount", f"收费金额“{amount_text[:20]}”须为1至{MAX_FEE}之间的整数（元）")
        amount = None
    method = _FEE_METHOD.get(method_text.lower())
    if method is None:
        choices = "、".join(f"{code}（{label}）" for code, label in FEE_METHODS)
        fail("fee_method", f"无法识别的计收方式“{method_text[:20]}”，可填：{choices}")
    if amount is None or method is None or dates.get("fee_notice_on") is None:
        return None, None
    return amount, method


def _order_errors(line: int, dates: Mapping[str, date | None]) -> list[RowError]:
    """Each date no earlier than the last earlier-stage date that is filled in, along
    each chain of :data:`DATE_CHAINS` (each problem once)."""
    errors: list[RowError] = []
    for chain in DATE_CHAINS:
        previous: tuple[str, date] | None = None
        for name in chain:
            day = dates.get(name)
            if day is None:
                continue
            if previous is not None and day < previous[1]:
                before = COLUMN_BY_NAME[previous[0]].label
                error = RowError(
                    line,
                    name,
                    f"{COLUMN_BY_NAME[name].label}（{day.isoformat()}）不能早于"
                    f"{before}（{previous[1].isoformat()}）",
                )
                if error not in errors:
                    errors.append(error)
            else:
                previous = (name, day)
    return errors


def _lifecycle_problems(
    dates: Mapping[str, date | None], outcome: str | None, fee_notice: bool
) -> Iterator[tuple[str, str]]:
    """Combinations the state machine cannot reach, explained in the ledger's terms."""
    requested = dates.get("supplement_requested_on")
    received = dates.get("supplement_received_on")
    concluded = dates.get("concluded_on")
    waiting = requested is not None and received is None
    if waiting and dates.get("extended_on") is not None:
        yield (
            "extended_on",
            "已告知补正但没有收到补正材料日期：申请尚未进入办理，不能延期",
        )
    if waiting and fee_notice:
        yield "fee_notice_on", "已告知补正但没有收到补正材料日期：申请尚未进入办理，不能收费"
    unpaid = fee_notice and dates.get("fee_paid_on") is None
    if unpaid and outcome not in (None, "other.fee_lapsed", WITHDRAWN):
        yield (
            "outcome",
            "已发出收费通知但没有缴费日期（fee_paid_on）的申请，只能以逾期未缴费"
            "（other.fee_lapsed）或申请人撤回（withdrawn）办结",
        )
    if outcome == "other.fee_lapsed" and fee_notice and not unpaid:
        yield "outcome", "已缴费的申请不能以逾期未缴费办结"
    if outcome == "other.supplement_lapsed":
        if requested is None:
            yield "outcome", "逾期未补正须有告知补正日期（supplement_requested_on）"
        elif received is not None:
            yield "outcome", "已收到补正材料的申请不能以逾期未补正办结"
        elif concluded is not None and concluded - requested < timedelta(days=2):
            yield (
                "concluded_on",
                "逾期未补正的办结日期须晚于补正期限，至少比告知补正日期晚2天",
            )
    elif outcome == "other.fee_lapsed":
        if waiting:
            yield "outcome", "已告知补正但没有收到补正材料的申请不能以逾期未缴费办结"
    elif outcome is not None and outcome != WITHDRAWN and waiting:
        yield (
            "outcome",
            "已告知补正但没有收到补正材料的申请，只能以逾期未补正（other.supplement_lapsed）"
            "或申请人撤回（withdrawn）办结",
        )


def parse_ledger(
    path: str | Path, today: date | None = None
) -> tuple[list[LedgerRow], list[RowError], int]:
    """Read and validate a file: (valid rows, errors, number of data rows).

    Raises :class:`LedgerFileError` when the file as a whole is unusable.
    """
    raw = read_ledger(path)
    rows, errors = validate_rows(raw, today)
    return rows, errors, len(raw)


# --------------------------------------------------------------------------- planning


class PlannedEvent(NamedTuple):
    """One step of a row's replay; ``register``'s payload is the intake form's values.

    ``as_recorded`` marks a payload that is not a form's input and is recorded as is: the
    fee notice a ledger implies without holding its amount (:data:`FEE_NOT_IN_LEDGER`), a
    decision whose reasons the ledger does not hold.
    """

    trigger: str
    effective_date: date
    payload: dict[str, Any]
    as_recorded: bool = False


def plan_events(row: LedgerRow, *, calendar: WorkingCalendar | None = None) -> list[PlannedEvent]:
    """The events a clerk would have recorded for ``row``, in order.

    An extension names the ledger's ``extension_approver``, else
    :data:`APPROVAL_PER_LEDGER` (Art. 33 requires an approval; the ledger attests it).
    ``calendar`` is the agency's working-day calendar, needed to tell whether a fee lapse
    can lie after the 20-working-day payment deadline. Texts the ledger does not hold say
    “台账导入”; amounts, methods and approvers are never made up. Raises
    :class:`PlanError` when no valid sequence exists.
    """
    calendar = calendar or DEFAULT_CALENDAR
    received = row.received_on
    plan = [
        PlannedEvent(
            "register",
            received,
            {
                "applicant_name": row.applicant_name,
                "applicant_kind": row.applicant_kind,
                "channel": row.channel,
                "submitted_on": received.isoformat(),
                "received_on": received.isoformat(),
                "subject": row.subject,
            },
        )
    ]
    requested, supplied = row.supplement_requested_on, row.supplement_received_on
    lapsed = row.outcome == "other.supplement_lapsed"
    if requested is not None:
        due = requested + SUPPLEMENT_PERIOD
        if supplied is not None:
            due = max(due, supplied)
        elif lapsed and row.concluded_on is not None:
            # The machine accepts a lapse only after the deadline, so the deadline is put
            # before the day the ledger says the request was closed.
            due = min(due, row.concluded_on - timedelta(days=1))
        if due <= requested:
            raise PlanError("concluded_on", "逾期未补正的办结日期须至少比告知补正日期晚2天")
        plan.append(
            PlannedEvent(
                "request_supplement", requested, {"items": IMPORT_NOTE, "due_on": due.isoformat()}
            )
        )
        if supplied is not None:
            plan.append(PlannedEvent("receive_supplement", supplied, {"note": IMPORT_NOTE}))
    else:
        plan.append(PlannedEvent("accept", received, {}))
    review: list[PlannedEvent] = []
    if row.extended_on is not None:
        approver = row.extension_approver or APPROVAL_PER_LEDGER
        review.append(
            PlannedEvent(
                "extend",
                row.extended_on,
                {"days": EXTENSION_DAYS, "reason": IMPORT_NOTE, "approver": approver},
            )
        )
    if row.fee_notice_on is not None:
        fee: dict[str, Any] = {"method": row.fee_method, "amount": row.fee_amount}
        per_page = row.fee_method == PER_PAGE and row.fee_amount
        pages = pages_for_amount(row.fee_amount) if per_page and row.fee_amount else None
        if pages is not None:  # computed again from its pages, as the form does
            fee["pages"] = pages
        review.append(PlannedEvent("issue_fee_notice", row.fee_notice_on, fee))
        if row.fee_paid_on is not None:
            review.append(PlannedEvent("fee_paid", row.fee_paid_on, {"note": IMPORT_NOTE}))
    # Stable: on the same day the extension comes first, and payment follows its notice.
    plan.extend(sorted(review, key=lambda step: step.effective_date))
    if row.concluded_on is not None and row.outcome is not None:
        plan.extend(_conclusion(row, plan[-1].effective_date, calendar))
    if row.voided:
        plan.append(PlannedEvent("void", row.last_date, {"reason": VOID_REASON}))
    return plan


def _conclusion(row: LedgerRow, last: date, calendar: WorkingCalendar) -> list[PlannedEvent]:
    concluded, outcome = row.concluded_on, row.outcome
    assert concluded is not None and outcome is not None
    if outcome == "other.supplement_lapsed":
        return [PlannedEvent("supplement_lapsed", concluded, {"note": IMPORT_NOTE})]
    if outcome == WITHDRAWN:
        return [PlannedEvent("withdraw", concluded, {"reason": IMPORT_NOTE})]
    if outcome == "other.fee_lapsed":
        return [*_fee_notice_implied(row, last, calendar), _fee_lapse(row, last, calendar)]
    assert outcome in OUTCOME_BY_CODE
    payload: dict[str, Any] = {
        "outcome": outcome,
        "delivery": _DELIVERY_FOR_CHANNEL.get(row.channel, "post"),
    }
    # A ledger holds the outcome, not the reasons (or the law, the agency responsible…)
    # the reply stated, nor the steps some outcomes presuppose: the decision is recorded
    # as made, marked so that no reply is ever printed from it (guards.UNRECORDED).
    unrecorded = list(OUTCOME_BY_CODE[outcome].requires)
    if outcome in UNRECORDED_FOR_OUTCOME:
        unrecorded.append(UNRECORDED_FOR_OUTCOME[outcome])
    if not unrecorded:
        return [PlannedEvent("decide", concluded, payload)]
    payload[UNRECORDED] = unrecorded
    return [PlannedEvent("decide", concluded, payload, as_recorded=True)]


#: What a decision with these outcomes records that a ledger row has no cell for: the
#: Art. 35 request for reasons before a (五)4, the channel a (五)1 applicant was referred to
#: (docs/domain.md §18). Marked ``unrecorded``: the guards that ask for them
#: accept the imported decision, and no reply can be printed from it.
UNRECORDED_FOR_OUTCOME: dict[str, str] = {
    EXCESSIVE: REASONS_PROCEDURE,
    PETITION: "referred_to",
}


def _fee_notice_implied(
    row: LedgerRow, last: date, calendar: WorkingCalendar
) -> list[PlannedEvent]:
    """A fee lapse without the fee notice's cells: the notice that must have gone out is
    recorded on the earliest day the ledger allows, with no amount and no method, so no
    fee is counted anywhere (section 六) and no 收费通知书 can be printed from it."""
    if row.fee_notice_on is not None:
        return []
    payload = {"note": FEE_NOT_IN_LEDGER, "unrecorded": ["method", "amount"]}
    return [PlannedEvent("issue_fee_notice", last, payload, as_recorded=True)]


def _fee_lapse(row: LedgerRow, last: date, calendar: WorkingCalendar) -> PlannedEvent:
    """The lapse, after the 20 working days (2020 fee measures) from the notice."""
    concluded = row.concluded_on
    assert concluded is not None
    noticed = row.fee_notice_on or last
    due = calendar.add_working_days(noticed, FEE_PAYMENT_DAYS).day
    if concluded <= due:
        earliest = "" if row.fee_notice_on else "最早"
        raise PlanError(
            "concluded_on",
            f"逾期未缴费须在收费通知发出20个工作日后认定：收费通知{earliest}于"
            f"{noticed.isoformat()}发出，缴费期限至{due.isoformat()}，办结日期须晚于该日",
        )
    return PlannedEvent("fee_lapsed", concluded, {"note": IMPORT_NOTE})


#: Which ledger column a failing step is about, for error messages.
COLUMN_OF_TRIGGER: dict[str, str] = {
    "register": "received_on",
    "accept": "received_on",
    "request_supplement": "supplement_requested_on",
    "receive_supplement": "supplement_received_on",
    "extend": "extended_on",
    "issue_fee_notice": "fee_notice_on",
    "fee_paid": "fee_paid_on",
    "fee_lapsed": "concluded_on",
    "supplement_lapsed": "concluded_on",
    "decide": "concluded_on",
    "withdraw": "concluded_on",
    "void": "voided",
}


# --------------------------------------------------------------------------- template


def template_rows() -> list[dict[str, str]]:
    """Two example rows: one concluded after supplement and extension, one still open.

    They are valid ledger rows (tested), so a clerk who overwrites them cell by cell
    keeps a file that imports.
    """
    example = {name: "" for name in COLUMN_NAMES}
    return [
        {
            **example,
            "agency": "my-agency",
            "ref": "2025-001",
            "applicant_name": "张三",
            "applicant_kind": "自然人",
            "channel": "online",
            "received_on": "2025-03-03",
            "subject": "某路段改造工程的立项批复文件",
            "supplement_requested_on": "2025-03-05",
            "supplement_received_on": "2025-03-10",
            "extended_on": "2025-04-03",
            "concluded_on": "2025-04-25",
            "outcome": "partially_disclosed",
        },
        {
            **example,
            "agency": "my-agency",
            "ref": "2025-002",
            "applicant_name": "某某科技有限公司",
            "applicant_kind": "commercial_enterprise",
            "channel": "post",
            "received_on": "2025-06-16",
            "subject": "2024年度企业扶持资金发放名单",
        },
    ]


def template_table() -> list[list[str]]:
    """The template's header (“申请人姓名或名称（applicant_name）”: the Chinese label and
    the code, either of which a header may use alone) and its example rows."""
    header = [header_cell(c) for c in LEDGER_COLUMNS]
    return [header, *([row[name] for name in COLUMN_NAMES] for row in template_rows())]


def template_csv_bytes() -> bytes:
    """The template as UTF-8 CSV with a BOM, so Excel shows the Chinese correctly."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(template_table())
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx_bytes() -> bytes:
    """The template as an XLSX workbook (one sheet, the same header and rows)."""
    from openpyxl import Workbook  # heavy import, only when the template is asked for

    book = Workbook()
    sheet = book.active
    sheet.title = "申请台账"
    for record in template_table():
        sheet.append([cell or None for cell in record])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_template_csv(path: str | Path) -> None:
    Path(path).write_bytes(template_csv_bytes())
