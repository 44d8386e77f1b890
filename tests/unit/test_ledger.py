"""Ledger reading, row checks and event planning (no database)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from workflow.kernel.calendar import WorkingCalendar
from workflow.ledger.reader import (
    APPROVAL_PER_LEDGER,
    COLUMN_NAMES,
    LedgerFileError,
    LedgerRow,
    PlanError,
    RawRow,
    RowError,
    _csv_table,
    outcome_from_cell,
    parse_ledger_date,
    plan_events,
    read_ledger,
    read_ledger_bytes,
    template_csv_bytes,
    template_rows,
    validate_rows,
    write_template_csv,
)

TODAY = date(2026, 11, 20)
BASE = {
    "agency": "a",
    "ref": "R1",
    "applicant_name": "张三",
    "applicant_kind": "natural_person",
    "received_on": "2026-03-02",
    "subject": "某文件",
}


def raw(line: int = 2, **cells: str) -> RawRow:
    full = dict.fromkeys(COLUMN_NAMES, "")
    full.update(BASE)
    full.update(cells)
    return RawRow(line, full)


def check(**cells: str) -> tuple[list[LedgerRow], list[RowError]]:
    return validate_rows([raw(**cells)], TODAY)


def only_error(**cells: str) -> RowError:
    rows, errors = check(**cells)
    assert not rows and len(errors) == 1, errors
    return errors[0]


def csv_bytes(rows: list[dict[str, str]], bom: bool = True) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig" if bom else "utf-8")


# --------------------------------------------------------------------------- reading


def test_csv_with_bom_reads_rows_keyed_by_column() -> None:
    rows = read_ledger_bytes(csv_bytes([BASE, {**BASE, "ref": "R2"}]), "x.csv")
    assert [r.line for r in rows] == [2, 3]
    assert rows[0].cells["agency"] == "a" and rows[0].cells["channel"] == ""
    assert rows[1].cells["ref"] == "R2"


def test_blank_lines_are_skipped_but_still_counted() -> None:
    second = csv_bytes([{**BASE, "ref": "R9"}]).split(b"\r\n", 1)[1]
    data = csv_bytes([BASE]) + b",,,,,\r\n" + second
    rows = read_ledger_bytes(data)
    assert [(r.line, r.cells["ref"]) for r in rows] == [(2, "R1"), (4, "R9")]


def test_gbk_and_gb18030_files_from_chinese_excel_are_read() -> None:
    """Chinese Excel saves “CSV（逗号分隔）” as GBK; GB18030 also covers rarer characters."""
    text = "申请人,申请人类型,收到日期\n张三,自然人,2025年3月3日\n䶮,自然人,2025/3/3\n"
    for encoding in ("gbk", "gb18030"):
        usable = text if encoding == "gb18030" else text.replace("䶮", "李")
        table = list(_csv_table(usable.encode(encoding)))
        assert table[1] == ["张三", "自然人", "2025年3月3日"]


def test_other_encodings_are_refused_with_a_hint() -> None:
    with pytest.raises(LedgerFileError, match="UTF-16"):
        read_ledger_bytes("agency,ref\n".encode("utf-16"), "x.csv")
    with pytest.raises(LedgerFileError, match="GBK"):
        read_ledger_bytes(b"agency,ref\n\x81\x20\xff\xff\n", "x.csv")


def test_chinese_headers_and_the_templates_double_form() -> None:
    header = (
        "机关代码,本机关编号,申请人,申请人类型,收到日期,申请内容（subject）,处理结果 ,办结日期\n"
    )
    rows = read_ledger_bytes(
        (header + "a,R1,张三,自然人,2025年3月3日,某文件,disclosed,2025/3/20\n").encode(), "x.csv"
    )
    cells = rows[0].cells
    assert cells["applicant_name"] == "张三" and cells["subject"] == "某文件"
    assert cells["received_on"] == "2025年3月3日" and cells["concluded_on"] == "2025/3/20"
    template = read_ledger_bytes(template_csv_bytes(), "t.csv")
    assert template[0].cells["ref"] == "2025-001"


def test_excel_date_renderings() -> None:
    for text in ("2025-03-03", "2025/3/3", "2025.3.3", "2025年3月3日", "2025/3/3 0:00"):
        assert parse_ledger_date(text) == date(2025, 3, 3), text


def test_old_excel_is_refused() -> None:
    with pytest.raises(LedgerFileError, match=r"\.xls"):
        read_ledger_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100, "x.xls")


def test_missing_required_columns_is_one_error() -> None:
    data = csv_bytes([{k: v for k, v in BASE.items() if k not in ("subject", "ref")}])
    with pytest.raises(LedgerFileError) as info:
        read_ledger_bytes(data)
    assert "缺少必填列：ref、subject" in str(info.value)


def test_unknown_columns_are_listed() -> None:
    data = csv_bytes([{**BASE, "remark": "x", "Phone": "1"}])
    with pytest.raises(LedgerFileError, match="无法识别的列：remark、phone"):
        read_ledger_bytes(data)


def test_header_is_trimmed_and_case_insensitive() -> None:
    data = csv_bytes([{f" {k.upper()} ": v for k, v in BASE.items()}])
    assert read_ledger_bytes(data)[0].cells["subject"] == "某文件"


def test_empty_file() -> None:
    with pytest.raises(LedgerFileError, match="空"):
        read_ledger_bytes(b"")


def test_xlsx_cells_dates_and_numbers(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append([*BASE, "concluded_on", "outcome", "voided"])
    received, concluded = datetime(2026, 3, 2), date(2026, 3, 20)
    sheet.append(["a", 1001, "张三", "自然人", received, "x", concluded, "予以公开", True])
    book.create_sheet("ignored").append(["nothing"])
    path = tmp_path / "ledger.xlsx"
    book.save(path)
    [row] = read_ledger(path)
    assert row.cells["ref"] == "1001"
    assert row.cells["received_on"] == "2026-03-02"
    assert row.cells["concluded_on"] == "2026-03-20"
    assert row.cells["voided"] == "yes"


# --------------------------------------------------------------------------- row checks


def test_valid_row_with_labels() -> None:
    rows, errors = check(
        applicant_kind="商业企业", outcome="（二）部分公开", concluded_on="2026-03-20"
    )
    assert not errors
    assert rows[0].applicant_kind == "commercial_enterprise"
    assert rows[0].outcome == "partially_disclosed"
    assert rows[0].channel == "online"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("disclosed", "disclosed"),
        ("(一)予以公开", "disclosed"),
        ("予以公开", "disclosed"),
        ("(三)4.保护第三方合法权益", "withheld.third_party"),
        ("4.保护第三方合法权益", "withheld.third_party"),
        ("本机关不掌握相关政府信息", "unavailable.not_held"),
        ("other", "other.other"),
        ("(六)其他处理", "other.other"),
        ("其他处理", "other.other"),
        ("other.supplement_lapsed", "other.supplement_lapsed"),
        ("重复申请", "not_processed.duplicate"),
        ("瞎填", None),
    ],
)
def test_outcome_cells(text: str, code: str | None) -> None:
    assert outcome_from_cell(text) == code


def test_dates_accept_excel_renderings_and_refuse_impossible_days() -> None:
    assert parse_ledger_date("2026/3/2") == date(2026, 3, 2)
    assert parse_ledger_date("2026-03-02 0:00") == date(2026, 3, 2)
    for bad in ("2026-02-30", "02/03/2026", "昨天", "2026-13-01"):
        with pytest.raises(ValueError, match="不是有效日期"):
            parse_ledger_date(bad)


def test_every_problem_of_a_row_is_reported() -> None:
    rows, errors = check(
        applicant_name="",
        applicant_kind="外星人",
        channel="pigeon",
        received_on="2026-02-30",
        voided="maybe",
    )
    assert not rows
    assert [e.column for e in errors] == [
        "applicant_kind",
        "applicant_name",
        "channel",
        "received_on",
        "voided",
    ]
    assert all(e.line == 2 for e in errors)
    assert str(errors[0]).startswith("第2行 [applicant_kind] ")


def test_concluded_without_outcome_and_outcome_without_conclusion() -> None:
    assert "必须同时填写处理结果" in only_error(concluded_on="2026-03-20").reason
    error = only_error(outcome="disclosed")
    assert error.column == "outcome" and "没有办结日期" in error.reason


def test_dates_must_follow_the_lifecycle_order() -> None:
    error = only_error(supplement_requested_on="2026-03-01")
    assert error.column == "supplement_requested_on" and "不能早于收到申请日期" in error.reason
    error = only_error(
        supplement_requested_on="2026-03-03",
        supplement_received_on="2026-03-10",
        extended_on="2026-03-09",
    )
    assert error.column == "extended_on"
    error = only_error(concluded_on="2026-03-01", outcome="disclosed")
    assert error.column == "concluded_on"


def test_future_dates_are_refused() -> None:
    error = only_error(received_on="2026-11-21")
    assert error.column == "received_on" and "不能晚于今天" in error.reason


def test_supplement_rules() -> None:
    assert only_error(supplement_received_on="2026-03-05").column == "supplement_received_on"
    lapsed = {"outcome": "other.supplement_lapsed", "concluded_on": "2026-03-30"}
    assert "告知补正日期" in only_error(**lapsed).reason
    error = only_error(
        **lapsed, supplement_requested_on="2026-03-03", supplement_received_on="2026-03-05"
    )
    assert "已收到补正材料" in error.reason
    error = only_error(
        supplement_requested_on="2026-03-03", concluded_on="2026-03-20", outcome="disclosed"
    )
    assert "只能以逾期未补正" in error.reason
    error = only_error(supplement_requested_on="2026-03-03", extended_on="2026-03-20")
    assert error.column == "extended_on"
    rows, errors = check(
        supplement_requested_on="2026-03-03", concluded_on="2026-03-20", outcome="申请人撤回"
    )
    assert rows and not errors  # a withdrawal while waiting for the supplement
    error = only_error(
        supplement_requested_on="2026-03-03", concluded_on="2026-03-20", outcome="other"
    )
    assert "只能以逾期未补正" in error.reason  # other is a decision, which needs review


def test_duplicate_refs_within_the_file() -> None:
    rows, errors = validate_rows([raw(2), raw(3), raw(4, agency="b")], TODAY)
    assert [r.line for r in rows] == [2, 4]
    assert errors == [RowError(3, "ref", "编号“R1”与第2行重复（同一机关的编号不能重复）")]


def test_voided_values() -> None:
    for text in ("yes", "是", "TRUE", "1"):
        assert check(voided=text)[0][0].voided
    for text in ("", "no", "否"):
        assert not check(voided=text)[0][0].voided


# --------------------------------------------------------------------------- planning


def row(**cells: str) -> LedgerRow:
    rows, errors = check(**cells)
    assert not errors, errors
    return rows[0]


def triggers(plan: list) -> list[str]:
    return [step.trigger for step in plan]


def test_plan_full_history() -> None:
    plan = plan_events(
        row(
            supplement_requested_on="2026-03-03",
            supplement_received_on="2026-03-10",
            extended_on="2026-03-30",
            concluded_on="2026-04-20",
            outcome="partially_disclosed",
            channel="post",
            extension_approver="boss",
        ),
    )
    assert triggers(plan) == [
        "register",
        "request_supplement",
        "receive_supplement",
        "extend",
        "decide",
    ]
    register, supplement, _, extend, decide = plan
    assert register.payload["received_on"] == register.payload["submitted_on"] == "2026-03-02"
    assert supplement.payload["due_on"] == "2026-03-18"
    assert extend.payload == {"days": 20, "reason": "（台账导入）", "approver": "boss"}
    assert decide.effective_date == date(2026, 4, 20)
    # The ledger does not hold the reasons: recorded as made, no reply printable from it.
    assert decide.payload == {
        "outcome": "partially_disclosed",
        "delivery": "post",
        "unrecorded": ["grounds"],
    }
    assert decide.as_recorded


def test_plan_open_row_is_accepted_only() -> None:
    assert triggers(plan_events(row())) == ["register", "accept"]


def test_plan_supplement_lapse_puts_the_deadline_before_the_conclusion() -> None:
    plan = plan_events(
        row(
            supplement_requested_on="2026-03-03",
            concluded_on="2026-03-10",
            outcome="other.supplement_lapsed",
        )
    )
    assert triggers(plan) == ["register", "request_supplement", "supplement_lapsed"]
    assert plan[1].payload["due_on"] == "2026-03-09"


def test_plan_late_supplement_moves_the_deadline() -> None:
    plan = plan_events(
        row(supplement_requested_on="2026-03-03", supplement_received_on="2026-04-01")
    )
    assert plan[1].payload["due_on"] == "2026-04-01"


def test_plan_lapse_needs_two_days() -> None:
    _rows, errors = check(
        supplement_requested_on="2026-03-03",
        concluded_on="2026-03-04",
        outcome="other.supplement_lapsed",
    )
    assert errors and errors[0].column == "concluded_on"


def test_plan_other_is_a_decision_withdrawal_its_own_and_void() -> None:
    plan = plan_events(row(concluded_on="2026-03-05", outcome="其他", voided="是"))
    assert triggers(plan) == ["register", "accept", "decide", "void"]
    assert plan[2].payload["outcome"] == "other.other"
    assert plan[-1].effective_date == date(2026, 3, 5)
    assert plan[-1].payload == {"reason": "台账标记为登记错误"}
    withdrawn = plan_events(row(concluded_on="2026-03-05", outcome="withdrawn"))
    assert triggers(withdrawn) == ["register", "accept", "withdraw"]
    open_void = plan_events(row(extended_on="2026-03-20", voided="yes"))
    assert open_void[-1].effective_date == date(2026, 3, 20)


def test_plan_extension_without_a_named_approver_is_approval_per_ledger() -> None:
    plan = plan_events(row(extended_on="2026-03-20"))
    assert plan[-1].trigger == "extend"
    assert plan[-1].payload["approver"] == APPROVAL_PER_LEDGER
    assert only_error(extension_approver="李主任").column == "extension_approver"


def test_fee_cells_go_together_and_are_checked() -> None:
    lapse = {"concluded_on": "2026-04-30", "outcome": "other.fee_lapsed"}
    assert "缺少" in only_error(**lapse, fee_amount="100").reason
    error = only_error(
        **lapse, fee_notice_on="2026-03-03", fee_amount="0.5", fee_method="per_request"
    )
    assert error.column == "fee_amount"
    error = only_error(**lapse, fee_notice_on="2026-03-03", fee_amount="100", fee_method="按页")
    assert error.column == "fee_method"
    fee = row(**lapse, fee_notice_on="2026-03-03", fee_amount="100元", fee_method="按件计收")
    assert (fee.fee_amount, fee.fee_method) == (100, "per_request")
    plan = plan_events(fee)
    assert plan[2].payload == {"method": "per_request", "amount": 100}


def test_plan_fee_lapse_respects_the_payment_deadline() -> None:
    calendar = WorkingCalendar()
    ok = plan_events(row(concluded_on="2026-04-15", outcome="other.fee_lapsed"), calendar=calendar)
    assert triggers(ok) == ["register", "accept", "issue_fee_notice", "fee_lapsed"]
    assert ok[2].effective_date == date(2026, 3, 2)
    with pytest.raises(PlanError, match="缴费期限至2026-03-30"):
        plan_events(row(concluded_on="2026-03-30", outcome="other.fee_lapsed"), calendar=calendar)


# --------------------------------------------------------------------------- template


def test_template_is_a_valid_ledger(tmp_path: Path) -> None:
    path = tmp_path / "template.csv"
    write_template_csv(path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert path.read_bytes() == template_csv_bytes()
    raw_rows = read_ledger(path)
    assert len(raw_rows) == len(template_rows()) == 2
    rows, errors = validate_rows(raw_rows, TODAY)
    assert not errors and len(rows) == 2
    assert list(template_rows()[0]) == list(COLUMN_NAMES)
