"""Importing a ledger of requests (docs/domain.md §11): replayed through the workflow, all or
nothing, recorded as the importer's act with the file's name and hash on every event."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Agency, Event, Request, RequestFacts, User
from tests.conftest import NOW, make_user
from tests.integration.test_cli import cli
from workflow.kernel.actor import local_today
from workflow.ledger.importer import ImportReport, ImportSource, import_ledger
from workflow.ledger.reader import (
    APPROVAL_PER_LEDGER,
    COLUMN_NAMES,
    FEE_NOT_IN_LEDGER,
    LedgerFileError,
    read_ledger,
    validate_rows,
)

TODAY = local_today(NOW)

GOOD_ROWS: list[dict[str, str]] = [
    {  # line 2: the whole story, with Chinese labels
        "agency": "test-agency",
        "ref": "2026-001",
        "applicant_name": "某某科技有限公司",
        "applicant_kind": "商业企业",
        "channel": "post",
        "received_on": "2026-03-02",
        "subject": "某项目环评批复",
        "supplement_requested_on": "2026-03-04",
        "supplement_received_on": "2026-03-09",
        "extended_on": "2026-04-01",
        "concluded_on": "2026-04-20",
        "outcome": "(二)部分公开",
    },
    {  # line 3: still open
        "agency": "test-agency",
        "ref": "2026-002",
        "applicant_name": "张三",
        "applicant_kind": "natural_person",
        "received_on": "2026-11-02",
        "subject": "拆迁补偿标准",
    },
    {  # line 4: waiting for the applicant's supplement
        "agency": "test-agency",
        "ref": "2026-003",
        "applicant_name": "李四",
        "applicant_kind": "自然人",
        "channel": "in_person",
        "received_on": "2026-11-10",
        "subject": "某文件",
        "supplement_requested_on": "2026-11-12",
    },
    {  # line 5: registered in error
        "agency": "test-agency",
        "ref": "2026-004",
        "applicant_name": "王五",
        "applicant_kind": "natural_person",
        "received_on": "2026-05-06",
        "subject": "重复登记",
        "concluded_on": "2026-05-20",
        "outcome": "disclosed",
        "voided": "是",
    },
    {  # line 6: supplement never came
        "agency": "test-agency",
        "ref": "2026-005",
        "applicant_name": "赵六",
        "applicant_kind": "natural_person",
        "received_on": "2026-06-01",
        "subject": "不明确的申请",
        "supplement_requested_on": "2026-06-03",
        "concluded_on": "2026-06-30",
        "outcome": "other.supplement_lapsed",
    },
    {  # line 7: the 2019 format's single (六) row: a neutral decision, not a withdrawal
        "agency": "test-agency",
        "ref": "2026-006",
        "applicant_name": "某律师事务所",
        "applicant_kind": "legal_service_org",
        "received_on": "2026-07-01",
        "subject": "某案卷",
        "concluded_on": "2026-07-03",
        "outcome": "other",
    },
    {  # line 8: fee notice never paid, the ledger holds no fee
        "agency": "test-agency",
        "ref": "2026-007",
        "applicant_name": "钱七",
        "applicant_kind": "natural_person",
        "received_on": "2026-08-03",
        "subject": "大量文件",
        "concluded_on": "2026-09-15",
        "outcome": "其他处理·逾期未缴费",
    },
    {  # line 9: a subordinate agency in the same file
        "agency": "other-agency",
        "ref": "2026-001",
        "applicant_name": "孙八",
        "applicant_kind": "research_institution",
        "received_on": "2026-09-01",
        "subject": "科研项目清单",
        "concluded_on": "2026-09-10",
        "outcome": "withheld.third_party",
    },
]

EXPECTED = {
    "2026-001": (
        "concluded",
        ["register", "request_supplement", "receive_supplement", "extend", "decide"],
        "partially_disclosed",
    ),
    "2026-002": ("in_review", ["register", "accept"], None),
    "2026-003": ("supplement_requested", ["register", "request_supplement"], None),
    "2026-004": ("voided", ["register", "accept", "decide", "void"], "disclosed"),
    "2026-005": (
        "concluded",
        ["register", "request_supplement", "supplement_lapsed"],
        "other.supplement_lapsed",
    ),
    "2026-006": ("concluded", ["register", "accept", "decide"], "other.other"),
    "2026-007": (
        "concluded",
        ["register", "accept", "issue_fee_notice", "fee_lapsed"],
        "other.fee_lapsed",
    ),
}


def write_csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8-sig") -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMN_NAMES))
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[dict[str, str]]) -> Path:
    """Dates as real date cells and the ref as a number, the way Excel keeps them."""
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMN_NAMES))
    for row in rows:
        cells: list[object] = []
        for name in COLUMN_NAMES:
            value = row.get(name, "")
            if name.endswith("_on") and value:
                cells.append(datetime.fromisoformat(value))
            else:
                cells.append(value or None)
        sheet.append(cells)
    book.save(path)
    return path


@pytest.fixture
def other_agency(session: Session) -> Agency:
    row = Agency(code="other-agency", name="下级机关")
    session.add(row)
    session.commit()
    make_user(session, row, "other-approver", "approver")
    return row


def run(
    session: Session,
    path: Path,
    dry_run: bool = False,
    by: User | None = None,
    progress=None,
) -> ImportReport:
    raw = read_ledger(path)
    rows, problems = validate_rows(raw, TODAY)
    return import_ledger(
        session,
        rows,
        ImportSource.of_file("import-ledger", path.name, path.read_bytes(), by),
        NOW,
        dry_run,
        prior_errors=problems,
        total_rows=len(raw),
        progress=progress,
    )


def request_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Request)) or 0


def events_of(session: Session, request: Request) -> list[Event]:
    stmt = select(Event).where(Event.request_id == request.id).order_by(Event.seq)
    return list(session.scalars(stmt))


def assert_imported(session: Session, agency: Agency) -> None:
    for ref, (state, triggers, outcome) in EXPECTED.items():
        request = session.scalar(
            select(Request).where(Request.agency_id == agency.id, Request.external_ref == ref)
        )
        assert request is not None, ref
        assert request.state == state, ref
        assert [e.trigger for e in events_of(session, request)] == triggers, ref
        facts = session.get(RequestFacts, request.id)
        assert facts is not None and facts.outcome == outcome, ref
        assert facts.voided == (state == "voided")


def test_good_csv_with_bom_lands_every_row(session, agency, users, other_agency, tmp_path) -> None:
    path = write_csv(tmp_path / "ledger.csv", GOOD_ROWS)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    seen: list[tuple[int, int]] = []
    report = run(session, path, progress=lambda done, total: seen.append((done, total)))
    assert report.ok and report.stored, report.errors
    session.commit()
    assert report.rows == report.imported == 8
    assert report.by_state == {
        "concluded": 5,
        "in_review": 1,
        "supplement_requested": 1,
        "voided": 1,
    }
    assert "已办结 5" in report.state_summary()
    assert seen[-1] == (8, 8) and len(seen) == 8
    assert_imported(session, agency)

    full = session.scalar(select(Request).where(Request.external_ref == "2026-001"))
    assert full.applicant_kind == "commercial_enterprise" and full.channel == "post"
    assert full.received_on == date(2026, 3, 2) and full.tracking_no == "2026-0001"
    events = events_of(session, full)
    assert [e.effective_date for e in events] == [
        date(2026, 3, 2),
        date(2026, 3, 4),
        date(2026, 3, 9),
        date(2026, 4, 1),
        date(2026, 4, 20),
    ]
    # No colleague is named for what the ledger says: the approval is the ledger's, the
    # events are the system's import of this very file.
    assert events[3].payload["approver"] == APPROVAL_PER_LEDGER
    assert full.handler_id is None
    every = session.scalars(select(Event)).all()
    assert {e.actor_id for e in every} == {None}
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert {tuple(sorted(e.payload["imported"].items())) for e in every} == {
        (("by", "import-ledger"), ("file", "ledger.csv"), ("sha256", sha))
    }

    other = session.scalar(select(Request).where(Request.agency_id == other_agency.id))
    assert other.external_ref == "2026-001" and other.state == "concluded"


def test_fee_lapse_without_fee_columns_invents_no_fee(session, agency, tmp_path) -> None:
    """The lapse implies a notice; its amount and method are not in the ledger, so none
    is recorded and section 六 counts no notice and no fee."""
    from workflow.annual_report.narrative import fee_summary

    report = run(session, write_csv(tmp_path / "fee.csv", [GOOD_ROWS[6]]))
    assert report.stored, report.errors
    session.commit()
    request = session.scalar(select(Request).where(Request.external_ref == "2026-007"))
    notice = events_of(session, request)[2]
    assert notice.trigger == "issue_fee_notice"
    assert "amount" not in notice.payload and "method" not in notice.payload
    assert notice.payload["note"] == FEE_NOT_IN_LEDGER
    fees = fee_summary([events_of(session, request)], 2026)
    assert (fees.notices, fees.charged) == (0, 0)


def test_fee_columns_carry_the_real_notice(session, agency, tmp_path) -> None:
    paid = {
        **GOOD_ROWS[1],
        "ref": "F-1",
        "received_on": "2026-03-02",
        "fee_notice_on": "2026/3/10",
        "fee_amount": "300",
        "fee_method": "按件计收",
        "fee_paid_on": "2026-03-16",
        "concluded_on": "2026-04-01",
        "outcome": "disclosed",
    }
    lapsed = {
        **GOOD_ROWS[6],
        "fee_notice_on": "2026-08-05",
        "fee_amount": "120",
        "fee_method": "per_page",
    }
    report = run(session, write_csv(tmp_path / "fee.csv", [paid, lapsed]))
    assert report.stored, report.errors
    session.commit()
    first = session.scalar(select(Request).where(Request.external_ref == "F-1"))
    events = events_of(session, first)
    assert [e.trigger for e in events] == [
        "register",
        "accept",
        "issue_fee_notice",
        "fee_paid",
        "decide",
    ]
    assert events[2].effective_date == date(2026, 3, 10)
    assert (events[2].payload["method"], events[2].payload["amount"]) == ("per_request", 300)
    second = session.scalar(select(Request).where(Request.external_ref == "2026-007"))
    notice = events_of(session, second)[2]
    assert (notice.effective_date, notice.payload["amount"]) == (date(2026, 8, 5), 120)


def test_withdrawal_is_its_own_outcome_and_approver_column(session, agency, tmp_path) -> None:
    rows = [
        {**GOOD_ROWS[5], "ref": "W-1", "outcome": "申请人撤回"},
        {**GOOD_ROWS[0], "extension_approver": "李主任"},
    ]
    report = run(session, write_csv(tmp_path / "w.csv", rows))
    assert report.stored, report.errors
    session.commit()
    withdrawn = session.scalar(select(Request).where(Request.external_ref == "W-1"))
    assert [e.trigger for e in events_of(session, withdrawn)][-1] == "withdraw"
    assert session.get(RequestFacts, withdrawn.id).outcome == "other.other"
    extended = session.scalar(select(Request).where(Request.external_ref == "2026-001"))
    extension = events_of(session, extended)[3]
    assert extension.trigger == "extend" and extension.payload["approver"] == "李主任"


def test_good_xlsx_lands_every_row(session, agency, users, other_agency, tmp_path) -> None:
    path = write_xlsx(tmp_path / "ledger.xlsx", GOOD_ROWS)
    report = run(session, path)
    assert report.ok, report.errors
    session.commit()
    assert report.imported == 8
    assert_imported(session, agency)


BAD_ROWS: list[dict[str, str]] = [
    GOOD_ROWS[1],  # line 2: fine
    {**GOOD_ROWS[2], "agency": "no-such-agency"},  # line 3
    {**GOOD_ROWS[1], "ref": "B-1", "received_on": "2026-02-30"},  # line 4
    {**GOOD_ROWS[1], "ref": "B-2", "concluded_on": "2026-11-10"},  # line 5
    {**GOOD_ROWS[1], "ref": "B-3", "outcome": "disclosed"},  # line 6
    {**GOOD_ROWS[2], "ref": "2026-002"},  # line 7: duplicate of line 2
    {**GOOD_ROWS[6], "ref": "B-4", "concluded_on": "2026-08-20"},  # line 8: fee not yet due
    GOOD_ROWS[0],  # line 9: fine
]


def test_bad_ledger_reports_every_row_and_stores_nothing(session, agency, users, tmp_path) -> None:
    before = request_count(session)
    report = run(session, write_csv(tmp_path / "bad.csv", BAD_ROWS))
    assert not report.ok and not report.stored
    by_line = {(e.line, e.column) for e in report.errors}
    assert by_line == {
        (3, "agency"),
        (4, "received_on"),
        (5, "outcome"),
        (6, "outcome"),
        (7, "ref"),
        (8, "concluded_on"),
    }
    messages = [str(e) for e in report.errors]
    assert "第3行 [agency] 机关代码“no-such-agency”不存在" in messages
    assert any(m.startswith("第4行 [received_on] “2026-02-30”不是有效日期") for m in messages)
    assert any("与第2行重复" in m for m in messages)
    assert any("缴费期限" in m for m in messages)
    assert report.refused_lines == [3, 4, 5, 6, 7, 8]
    # Lines 2 and 9 replayed fine but were rolled back with the rest; a careless commit
    # by the caller stores nothing either.
    assert report.imported == 2 and report.rows == 8
    session.commit()
    assert request_count(session) == before == 0
    assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_user_of_another_agency_is_refused_once(
    session, agency, users, other_agency, tmp_path
) -> None:
    """``--as`` a user of a sibling agency: refused once for the agency, not per row."""
    outsider = session.scalar(select(User).where(User.username == "other-approver"))
    report = run(session, write_csv(tmp_path / "l.csv", GOOD_ROWS), by=outsider)
    agency_errors = [e for e in report.errors if e.column == "agency"]
    assert len(agency_errors) == 1
    assert agency_errors[0].line == 2
    assert "无权导入机关“test-agency”" in agency_errors[0].reason
    assert "第2–8行，共7行" in agency_errors[0].reason
    assert request_count(session) == 0


def test_unknown_agency_is_reported_once(session, agency, tmp_path) -> None:
    rows = [{**GOOD_ROWS[1], "agency": "nowhere", "ref": f"N-{n}"} for n in range(50)]
    report = run(session, write_csv(tmp_path / "l.csv", rows))
    assert [str(e) for e in report.errors] == [
        "第2行 [agency] 机关代码“nowhere”不存在（第2–51行，共50行）"
    ]


def test_agency_without_staff_imports(session, agency, tmp_path) -> None:
    """docs/domain.md §11: create-agency, then import-ledger — no user account needed."""
    report = run(session, write_csv(tmp_path / "l.csv", GOOD_ROWS[:7]))
    assert report.stored, report.errors
    session.commit()
    assert request_count(session) == 7


def test_dry_run_stores_nothing(session, agency, users, other_agency, tmp_path) -> None:
    report = run(session, write_csv(tmp_path / "ledger.csv", GOOD_ROWS), dry_run=True)
    assert report.ok and not report.stored
    assert report.imported == 8 and report.by_state["concluded"] == 5
    session.commit()
    assert request_count(session) == 0
    # The dry run left the session clean: the real import afterwards works.
    assert run(session, write_csv(tmp_path / "ledger.csv", GOOD_ROWS)).stored


def test_reimport_refuses_refs_already_imported(
    session, agency, users, other_agency, tmp_path
) -> None:
    path = write_csv(tmp_path / "ledger.csv", GOOD_ROWS)
    assert run(session, path).stored
    session.commit()
    again = run(session, path)
    assert len(again.errors) == 8
    assert all(e.column == "ref" and "已导入过" in e.reason for e in again.errors)
    # Every line, each refused for its own ref.
    assert [e.line for e in again.errors] == list(range(2, 2 + len(GOOD_ROWS)))
    assert all(f"“{r['ref']}”" in e.reason for e, r in zip(again.errors, GOOD_ROWS, strict=True))
    # A ref is the agency's own: the same refs in another agency's ledger are new there.
    taken = {r["ref"] for r in GOOD_ROWS if r["agency"] == "other-agency"}
    theirs = [
        {**r, "agency": "other-agency"}
        for r in GOOD_ROWS
        if r["agency"] == "test-agency" and r["ref"] not in taken
    ]
    assert theirs
    assert run(session, write_csv(tmp_path / "theirs.csv", theirs)).stored
    session.commit()
    assert request_count(session) == 8 + len(theirs)


def test_gbk_file_is_read_and_utf16_and_missing_column_are_refused(tmp_path) -> None:
    gbk = read_ledger(write_csv(tmp_path / "gbk.csv", GOOD_ROWS[:2], encoding="gbk"))
    assert gbk[0].cells["applicant_name"] == "某某科技有限公司"
    with pytest.raises(LedgerFileError, match="UTF-16"):
        read_ledger(write_csv(tmp_path / "u16.csv", GOOD_ROWS[:2], encoding="utf-16"))
    path = tmp_path / "no-subject.csv"
    path.write_text("agency,ref,applicant_name,applicant_kind,received_on\n", encoding="utf-8")
    with pytest.raises(LedgerFileError, match="缺少必填列：subject"):
        read_ledger(path)


# --------------------------------------------------------------------------- CLI


def test_cli_bad_file_exits_non_zero_with_line_numbers(
    db_url, session, agency, users, tmp_path
) -> None:
    done = cli(db_url, "import-ledger", str(write_csv(tmp_path / "bad.csv", BAD_ROWS)))
    assert done.returncode != 0
    assert "第3行 [agency] 机关代码“no-such-agency”不存在" in done.stderr
    for line in (4, 5, 6, 7, 8):
        assert f"第{line}行 [" in done.stderr
    assert "未写入任何数据" in done.stderr
    assert request_count(session) == 0

    utf16 = cli(db_url, "import-ledger", str(write_csv(tmp_path / "g.csv", GOOD_ROWS, "utf-16")))
    assert utf16.returncode != 0 and "UTF-16" in utf16.stderr


def test_cli_good_file_dry_run_then_import(
    db_url, session, agency, users, other_agency, tmp_path
) -> None:
    path = str(write_xlsx(tmp_path / "ledger.xlsx", GOOD_ROWS))
    dry = cli(db_url, "import-ledger", path, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "检查通过，未写入" in dry.stdout
    assert request_count(session) == 0

    done = cli(db_url, "import-ledger", path)
    assert done.returncode == 0, done.stderr
    assert "已导入 8 行" in done.stdout and "已办结 5" in done.stdout
    session.expire_all()
    assert request_count(session) == 8

    again = cli(db_url, "import-ledger", path)
    assert again.returncode != 0 and "已导入过" in again.stderr


def test_cli_as_user(db_url, session, agency, users, tmp_path) -> None:
    path = str(write_csv(tmp_path / "ledger.csv", GOOD_ROWS[1:3]))
    missing = cli(db_url, "import-ledger", path, "--as", "nobody")
    assert missing.returncode != 0 and "用户“nobody”不存在" in missing.stderr
    done = cli(db_url, "import-ledger", path, "--as", "registrar")
    assert done.returncode == 0, done.stderr
    events = session.scalars(select(Event)).all()
    assert {e.actor_id for e in events} == {users["registrar"].id}
    assert {e.payload["imported"]["by"] for e in events} == {"registrar"}


def test_cli_template_imports_cleanly(db_url, session, tmp_path) -> None:
    target = tmp_path / "template.csv"
    done = cli(db_url, "ledger-template", str(target))
    assert done.returncode == 0, done.stderr
    mine = Agency(code="my-agency", name="本机关")
    session.add(mine)
    session.commit()
    imported = cli(db_url, "import-ledger", str(target))
    assert imported.returncode == 0, imported.stderr
    assert "已导入 2 行" in imported.stdout


def test_cli_big_file_shows_progress_on_stderr(db_url, session, agency, users, tmp_path) -> None:
    rows = [
        {**GOOD_ROWS[1], "ref": f"BIG-{n:03d}", "received_on": f"2026-10-{1 + n % 28:02d}"}
        for n in range(60)
    ]
    done = cli(db_url, "import-ledger", str(write_csv(tmp_path / "big.csv", rows)))
    assert done.returncode == 0, done.stderr
    assert "导入中" in done.stderr and "导入中" not in done.stdout
    assert "已导入 60 行（办理中 60）" in done.stdout
    assert request_count(session) == 60
