"""Importing a ledger of requests (docs/domain.md §11): replayed, all or nothing."""

from __future__ import annotations

import csv
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
from workflow.ledger.importer import ImportReport, actor_named, default_actor, import_ledger
from workflow.ledger.reader import COLUMN_NAMES, LedgerFileError, read_ledger, validate_rows

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
    {  # line 7: the 2019 format's single (六) row: a withdrawal
        "agency": "test-agency",
        "ref": "2026-006",
        "applicant_name": "某律师事务所",
        "applicant_kind": "legal_service_org",
        "received_on": "2026-07-01",
        "subject": "某案卷",
        "concluded_on": "2026-07-03",
        "outcome": "other",
    },
    {  # line 8: fee notice never paid
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
    "2026-006": ("concluded", ["register", "accept", "withdraw"], "other.other"),
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
    session: Session, path: Path, dry_run: bool = False, actor=default_actor, progress=None
) -> ImportReport:
    raw = read_ledger(path)
    rows, problems = validate_rows(raw, TODAY)
    return import_ledger(
        session,
        rows,
        actor,
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
    assert events[3].payload["approver"] == "approver"
    assert {e.actor_id for e in events} == {users["approver"].id}

    other = session.scalar(select(Request).where(Request.agency_id == other_agency.id))
    assert other.external_ref == "2026-001" and other.state == "concluded"
    approver = session.scalar(select(User).where(User.username == "other-approver"))
    assert {e.actor_id for e in events_of(session, other)} == {approver.id}


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


def test_machine_refusals_are_reported_per_row(session, agency, users, tmp_path) -> None:
    """A registrar may not decide or extend: each such row is refused, the others tried."""
    rows = [GOOD_ROWS[1], GOOD_ROWS[0], GOOD_ROWS[2], GOOD_ROWS[5], GOOD_ROWS[7]]
    path = write_csv(tmp_path / "ledger.csv", [r for r in rows if r["agency"] == "test-agency"])
    report = run(session, path, actor=actor_named("registrar"))
    assert [(e.line, e.column) for e in report.errors] == [(3, "extended_on")]
    assert "延期答复" in report.errors[0].reason and "只有" in report.errors[0].reason
    assert report.imported == 3
    session.commit()
    assert request_count(session) == 0


def test_actor_of_another_agency_is_refused(session, agency, users, other_agency, tmp_path) -> None:
    report = run(
        session, write_csv(tmp_path / "l.csv", GOOD_ROWS), actor=actor_named("other-approver")
    )
    agency_errors = [e for e in report.errors if e.column == "agency"]
    assert len(agency_errors) == 7
    # Exactly the rows of test-agency (lines 2–8), not the other agency's own row 9.
    own_lines = [n for n, r in enumerate(GOOD_ROWS, start=2) if r["agency"] == "test-agency"]
    assert [e.line for e in agency_errors] == own_lines
    assert "不属于机关“test-agency”" in agency_errors[0].reason
    assert request_count(session) == 0


def test_agency_without_staff_is_refused(session, agency, tmp_path) -> None:
    report = run(session, write_csv(tmp_path / "l.csv", GOOD_ROWS[1:3]))
    assert [e.line for e in report.errors] == [2, 3]
    assert "没有审核人或承办人账号" in report.errors[0].reason


def test_handler_only_agency_imports_what_it_can_decide(session, agency, tmp_path) -> None:
    make_user(session, agency, "clerk", "handler")
    report = run(session, write_csv(tmp_path / "l.csv", GOOD_ROWS[:4]))
    assert [(e.line, e.column) for e in report.errors] == [(2, "extended_on"), (5, "voided")]
    assert "没有审核人账号" in report.errors[0].reason


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
    session.commit()
    assert request_count(session) == 8


def test_gbk_file_and_missing_column_are_refused(tmp_path) -> None:
    with pytest.raises(LedgerFileError, match="UTF-8"):
        read_ledger(write_csv(tmp_path / "gbk.csv", GOOD_ROWS[:2], encoding="gbk"))
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

    gbk = cli(db_url, "import-ledger", str(write_csv(tmp_path / "g.csv", GOOD_ROWS, "gbk")))
    assert gbk.returncode != 0 and "文件不是UTF-8编码，请另存为UTF-8 CSV" in gbk.stderr


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


def test_cli_template_imports_cleanly(db_url, session, tmp_path) -> None:
    target = tmp_path / "template.csv"
    done = cli(db_url, "ledger-template", str(target))
    assert done.returncode == 0, done.stderr
    mine = Agency(code="my-agency", name="本机关")
    session.add(mine)
    session.commit()
    make_user(session, mine, "boss", "approver")
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
