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

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from workflow.catalog.applicants import APPLICANT_KINDS, kind_from_text
from workflow.catalog.channels import CHANNEL_BY_CODE, CHANNELS, DEFAULT_CHANNEL
from workflow.catalog.outcomes import GROUP_BY_CODE, OUTCOME_BY_CODE, outcome_from_text
from workflow.kernel.calendar import DEFAULT_CALENDAR, WorkingCalendar
from workflow.requests.deadlines import FEE_PAYMENT_DAYS

# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class LedgerColumn:
    name: str
    label: str
    required: bool


#: The ledger's columns in the contract's order (docs/domain.md §11); the template uses this order.
LEDGER_COLUMNS: tuple[LedgerColumn, ...] = (
    LedgerColumn("agency", "机关代码", True),
    LedgerColumn("ref", "本机关编号", True),
    LedgerColumn("applicant_name", "申请人姓名或名称", True),
    LedgerColumn("applicant_kind", "申请人类型", True),
    LedgerColumn("channel", "提交方式", False),
    LedgerColumn("received_on", "收到申请日期", True),
    LedgerColumn("subject", "所需信息", True),
    LedgerColumn("supplement_requested_on", "告知补正日期", False),
    LedgerColumn("supplement_received_on", "收到补正材料日期", False),
    LedgerColumn("extended_on", "批准延期日期", False),
    LedgerColumn("concluded_on", "办结日期", False),
    LedgerColumn("outcome", "处理结果", False),
    LedgerColumn("voided", "登记错误作废", False),
)
COLUMN_BY_NAME: dict[str, LedgerColumn] = {c.name: c for c in LEDGER_COLUMNS}
COLUMN_NAMES: tuple[str, ...] = tuple(COLUMN_BY_NAME)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in LEDGER_COLUMNS if c.required)

#: The date columns in the order the events must have happened.
DATE_ORDER: tuple[str, ...] = (
    "received_on",
    "supplement_requested_on",
    "supplement_received_on",
    "extended_on",
    "concluded_on",
)

#: Marks every text the import has to invent, so a reader of the timeline can tell.
IMPORT_NOTE = "（台账导入）"
VOID_REASON = "台账标记为登记错误"
#: Days the applicant is given to supplement when the ledger does not say (a usual period).
SUPPLEMENT_PERIOD = timedelta(days=15)
EXTENSION_DAYS = 20
#: The fee notice's amount when a ledger says only "fee lapsed": the smallest per-request
#: fee the 2020 measures charge (the 11th–30th request of a month). Ledgers carry no amount.
PLACEHOLDER_FEE = 100
MAX_REF = 64  # requests.external_ref is VARCHAR(64)

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


def read_ledger(path: str | Path, columns: Sequence[LedgerColumn] = LEDGER_COLUMNS) -> list[RawRow]:
    """Read a ledger file from disk; see :func:`read_ledger_bytes`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LedgerFileError(f"无法读取文件“{path.name}”：{exc.strerror or exc}") from exc
    return read_ledger_bytes(data, path.name, columns)


def read_ledger_bytes(
    data: bytes, filename: str = "", columns: Sequence[LedgerColumn] = LEDGER_COLUMNS
) -> list[RawRow]:
    """Read CSV or XLSX bytes (sniffed from the content, not trusted from the name).

    Rows whose cells are all empty are skipped (spreadsheets keep trailing blank rows),
    but line numbers still count them so they match what the user sees in Excel.
    ``columns`` is the contract the header is checked against: the ledger of requests
    by default, or another ledger's (the challenges ledger reads through the same code).
    """
    if data.startswith(_OLE_MAGIC) or filename.lower().endswith(".xls"):
        raise LedgerFileError("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 UTF-8 CSV")
    table = _xlsx_table(data) if data.startswith(_ZIP_MAGIC) else _csv_table(data)
    return _rows_from_table(table, columns)


def _csv_table(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LedgerFileError("文件不是UTF-8编码，请另存为UTF-8 CSV") from None
    try:
        return [list(record) for record in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise LedgerFileError(f"CSV 格式错误：{exc}") from exc


def _xlsx_table(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # heavy import, only when an XLSX arrives

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise LedgerFileError(f"无法读取 XLSX 文件，请确认文件未损坏：{exc}") from exc
    try:
        if not book.worksheets:
            raise LedgerFileError("XLSX 文件中没有工作表")
        sheet = book.worksheets[0]
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
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


def _normalise_header(cell: str) -> str:
    return cell.replace("\ufeff", "").strip().lower()


def _rows_from_table(table: list[list[str]], columns: Sequence[LedgerColumn]) -> list[RawRow]:
    if not table or not any(c.strip() for c in table[0]):
        example = "、".join(c.name for c in columns[:2])
        raise LedgerFileError(f"文件是空的，或第1行不是表头（第1行应为列名，如 {example} …）")
    header = [_normalise_header(c) for c in table[0]]
    body = table[1:]
    _check_header(header, body, columns)
    names = [c.name for c in columns]
    rows: list[RawRow] = []
    for index, record in enumerate(body, start=2):
        if not any(cell.strip() for cell in record):
            continue
        cells = dict.fromkeys(names, "")
        for name, value in zip(header, record, strict=False):
            if name:
                cells[name] = value.strip()
        if len(record) > len(header) and any(v.strip() for v in record[len(header) :]):
            cells["__extra__"] = "yes"
        rows.append(RawRow(index, cells))
    return rows


def _check_header(
    header: list[str], body: list[list[str]], columns: Sequence[LedgerColumn]
) -> None:
    problems: list[str] = []
    named = [h for h in header if h]
    names = [c.name for c in columns]
    missing = [c.name for c in columns if c.required and c.name not in named]
    if missing:
        problems.append("缺少必填列：" + "、".join(missing))
    unknown = [h for h in named if h not in names]
    if unknown:
        problems.append(
            "无法识别的列：" + "、".join(unknown) + "（可用的列：" + "、".join(names) + "）"
        )
    duplicated = sorted({h for h in named if named.count(h) > 1})
    if duplicated:
        problems.append("列名重复：" + "、".join(duplicated))
    for index, name in enumerate(header):
        if not name and any(index < len(r) and r[index].strip() for r in body):
            problems.append(f"第{_column_letter(index)}列有数据但没有列名")
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

    @property
    def awaiting_supplement(self) -> bool:
        """Supplement asked for and never received: the request never reached review."""
        return self.supplement_requested_on is not None and self.supplement_received_on is None

    @property
    def last_date(self) -> date:
        return max(d for d in (getattr(self, c) for c in DATE_ORDER) if d is not None)


_DATE = re.compile(
    r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)


def parse_ledger_date(text: str) -> date:
    """YYYY-MM-DD; Excel's local renderings (2026/3/2, with a 0:00 time) are accepted too.

    Chinese spreadsheets save dates as ``2026/3/2`` when exported to CSV; the order is
    unambiguous (year first), so refusing it would only send clerks back to Excel.
    """
    match = _DATE.match(text.strip())
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise ValueError(f"“{text[:20]}”不是有效日期，请按 YYYY-MM-DD 填写")


def outcome_from_cell(text: str) -> str | None:
    """Resolve an outcome cell: a code, a report label (half- or full-width brackets,
    with or without the group prefix such as “（三）”), or the 2019 format's single
    (六) row (``other`` / “其他处理”), which stands for ``other.other``.
    """
    value = text.strip().replace("(", "（").replace(")", "）")
    other = GROUP_BY_CODE["other"]
    if value in ("other", other.label, other.label.removeprefix("（六）")):
        return "other.other"
    found = outcome_from_text(value)
    if found is None and value.startswith("（") and "）" in value:
        found = outcome_from_text(value.split("）", 1)[1])
    return found.code if found else None


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
    first_line: dict[tuple[str, str], int] = {}
    for raw in raw_rows:
        row, row_errors = validate_row(raw, today)
        key = (raw.cells.get("agency", "").strip(), raw.cells.get("ref", "").strip())
        if all(key):
            if key in first_line:
                row_errors.append(
                    RowError(
                        raw.line,
                        "ref",
                        f"编号“{key[1]}”与第{first_line[key]}行重复（同一机关的编号不能重复）",
                    )
                )
            else:
                first_line[key] = raw.line
        if row_errors:
            errors.extend(row_errors)
        elif row is not None:
            rows.append(row)
    return rows, sorted(errors)


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

    for column, reason in _lifecycle_problems(dates, outcome):
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
        ),
        [],
    )


def _order_errors(line: int, dates: Mapping[str, date | None]) -> list[RowError]:
    """Each date no earlier than the last earlier-stage date that is filled in."""
    errors: list[RowError] = []
    previous: tuple[str, date] | None = None
    for name in DATE_ORDER:
        day = dates.get(name)
        if day is None:
            continue
        if previous is not None and day < previous[1]:
            before = COLUMN_BY_NAME[previous[0]].label
            errors.append(
                RowError(
                    line,
                    name,
                    f"{COLUMN_BY_NAME[name].label}（{day.isoformat()}）不能早于"
                    f"{before}（{previous[1].isoformat()}）",
                )
            )
        else:
            previous = (name, day)
    return errors


def _lifecycle_problems(
    dates: Mapping[str, date | None], outcome: str | None
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
    elif outcome is not None and outcome != "other.other" and waiting:
        yield (
            "outcome",
            "已告知补正但没有收到补正材料的申请，只能以逾期未补正（other.supplement_lapsed）"
            "或撤回（other）办结",
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
    """One step of a row's replay; ``register``'s payload is the intake form's values."""

    trigger: str
    effective_date: date
    payload: dict[str, Any]


def plan_events(
    row: LedgerRow, *, approver: str = "", calendar: WorkingCalendar | None = None
) -> list[PlannedEvent]:
    """The events a clerk would have recorded for ``row``, in order.

    ``approver`` is the username named as having approved an extension (Art. 33 requires
    an approver of the agency); ``calendar`` is the agency's working-day calendar, needed
    to tell whether a fee lapse can lie after the 20-working-day payment deadline.
    Facts the ledger does not hold are filled with the least surprising value, and every
    invented text says “台账导入”. Raises :class:`PlanError` when no valid sequence exists.
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
    if row.extended_on is not None:
        if not approver:
            raise PlanError("extended_on", "该机关没有审核人账号，无法导入延期记录")
        plan.append(
            PlannedEvent(
                "extend",
                row.extended_on,
                {"days": EXTENSION_DAYS, "reason": IMPORT_NOTE, "approver": approver},
            )
        )
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
    if outcome == "other.other":
        return [PlannedEvent("withdraw", concluded, {"reason": IMPORT_NOTE})]
    if outcome == "other.fee_lapsed":
        # The notice goes out as early as the ledger allows, giving the 20 working days
        # (2020 fee measures) the best chance to have run out by the conclusion date.
        due = calendar.add_working_days(last, FEE_PAYMENT_DAYS).day
        if concluded <= due:
            raise PlanError(
                "concluded_on",
                f"逾期未缴费须在收费通知发出20个工作日后认定：收费通知最早于{last.isoformat()}"
                f"发出，缴费期限至{due.isoformat()}，办结日期须晚于该日",
            )
        return [
            PlannedEvent(
                "issue_fee_notice", last, {"method": "per_request", "amount": PLACEHOLDER_FEE}
            ),
            PlannedEvent("fee_lapsed", concluded, {"note": IMPORT_NOTE}),
        ]
    assert outcome in OUTCOME_BY_CODE
    return [
        PlannedEvent(
            "decide",
            concluded,
            {"outcome": outcome, "delivery": _DELIVERY_FOR_CHANNEL.get(row.channel, "post")},
        )
    ]


#: Which ledger column a failing step is about, for error messages.
COLUMN_OF_TRIGGER: dict[str, str] = {
    "register": "received_on",
    "accept": "received_on",
    "request_supplement": "supplement_requested_on",
    "receive_supplement": "supplement_received_on",
    "extend": "extended_on",
    "issue_fee_notice": "outcome",
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


def template_csv_bytes() -> bytes:
    """The template as UTF-8 CSV with a BOM, so Excel shows the Chinese correctly."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMN_NAMES), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(template_rows())
    return buffer.getvalue().encode("utf-8-sig")


def write_template_csv(path: str | Path) -> None:
    Path(path).write_bytes(template_csv_bytes())
