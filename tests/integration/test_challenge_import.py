"""Importing the ledger of challenges (docs/domain.md §11): replayed, all or nothing."""

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

from models import Agency, Challenge, ChallengeEvent, Request
from tests.conftest import NOW, decision_facts, make_user
from tests.integration.test_cli import cli
from workflow.challenges.ledger import (
    CHALLENGE_COLUMNS,
    ChallengeImportReport,
    default_legal_actor,
    import_challenges,
    validate_challenge_rows,
)
from workflow.kernel.actor import Actor, local_today
from workflow.ledger.importer import actor_named
from workflow.ledger.reader import LedgerFileError, read_ledger
from workflow.requests import operations as ops
from workflow.statistics.queries import derive
from workflow.statistics.scope import Scope

TODAY = local_today(NOW)
COLUMNS = [c.name for c in CHALLENGE_COLUMNS]

#: (ref, received, decided, outcome); decided None = still open (a failure to reply).
REQUESTS = [
    ("R-1", "2026-03-02", "2026-03-20", "disclosed"),
    ("R-2", "2026-03-02", "2026-04-10", "withheld.state_secret"),
    ("R-3", "2026-04-01", "2026-04-20", "disclosed"),
    ("R-4", "2026-07-01", None, None),
]

GOOD_ROWS: list[dict[str, str]] = [
    {  # line 2: the lawsuit after the reconsideration of line 3 (filing order wins)
        "agency": "test-agency",
        "request_ref": "R-1",
        "kind": "litigation",
        "route": "after_reconsideration",
        "filed_on": "2026-06-20",
        "body": "某某区人民法院",
        "case_no": "（2026）某0102行初1号",
    },
    {  # line 3: reconsideration upheld, Chinese labels
        "agency": "test-agency",
        "request_ref": "R-1",
        "kind": "行政复议",
        "filed_on": "2026/4/15",
        "body": "某某区人民政府",
        "case_no": "某府复〔2026〕1号",
        "concluded_on": "2026-06-10",
        "result": "维持",
    },
    {  # line 4: direct lawsuit against a refusal decided after 2024: stored with a warning
        "agency": "test-agency",
        "request_ref": "R-2",
        "kind": "行政诉讼",
        "route": "未经复议直接起诉",
        "filed_on": "2026-05-01",
        "body": "某某区人民法院",
        "case_no": "（2026）某0102行初2号",
        "concluded_on": "2026-09-01",
        "result": "upheld",
    },
    {  # line 5: a result ordering a new reply reopens the request
        "agency": "test-agency",
        "request_ref": "R-3",
        "kind": "reconsideration",
        "filed_on": "2026-06-01",
        "body": "某某区人民政府",
        "case_no": "某府复〔2026〕5号",
        "concluded_on": "2026-07-15",
        "result": "撤销并责令重新答复",
    },
    {  # line 6: a lawsuit for failure to reply, still pending, instance as a label
        "agency": "test-agency",
        "request_ref": "R-4",
        "kind": "litigation",
        "route": "direct",
        "filed_on": "2026-09-15",
        "body": "某某区人民法院",
        "case_no": "（2026）某0102行初9号",
        "instance": "一审",
    },
]


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] = COLUMNS) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))
    return path


def write_xlsx(path: Path, rows: list[dict[str, str]]) -> Path:
    """Dates as real date cells, the way Excel keeps them."""
    book = Workbook()
    sheet = book.active
    sheet.append(COLUMNS)
    for row in rows:
        cells: list[object] = []
        for name in COLUMNS:
            value = row.get(name, "")
            if name.endswith("_on") and value:
                cells.append(datetime.strptime(value.replace("/", "-"), "%Y-%m-%d"))
            else:
                cells.append(value or None)
        sheet.append(cells)
    book.save(path)
    return path


@pytest.fixture
def ledger_requests(session: Session, agency: Agency, users) -> dict[str, Request]:
    """The requests the rows name, as an earlier ``import-ledger`` would have left them."""
    clerk = Actor.of(users["registrar"])
    made = {}
    for ref, received, decided, outcome in REQUESTS:
        req = ops.register(
            session,
            clerk,
            NOW,
            {
                "applicant_name": "张三",
                "applicant_kind": "natural_person",
                "subject": "某文件",
                "channel": "in_person",
                "submitted_on": received,
            },
            agency=agency,
            external_ref=ref,
        )
        ops.fire(session, req, "accept", clerk, NOW, {"effective_date": received})
        if decided:
            ops.fire(
                session,
                req,
                "decide",
                Actor.of(users["handler"]),
                NOW,
                {
                    "effective_date": decided,
                    "outcome": outcome,
                    "delivery": "post",
                    **decision_facts(outcome),
                },
            )
        made[ref] = req
    session.commit()
    return made


def run(
    session: Session, path: Path, dry_run: bool = False, actor=default_legal_actor
) -> ChallengeImportReport:
    raw = read_ledger(path, CHALLENGE_COLUMNS)
    rows, problems = validate_challenge_rows(raw, TODAY)
    return import_challenges(
        session, rows, actor, NOW, dry_run, prior_errors=problems, total_rows=len(raw)
    )


def case_count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Challenge)) or 0


def case(session: Session, case_no: str) -> Challenge:
    return session.scalars(select(Challenge).where(Challenge.case_no == case_no)).one()


def assert_imported(session: Session, agency: Agency, requests: dict[str, Request]) -> None:
    session.expire_all()
    recon = case(session, "某府复〔2026〕1号")
    assert (recon.kind, recon.instance, recon.state) == (
        "reconsideration",
        "reconsideration",
        "concluded",
    )
    suit = case(session, "（2026）某0102行初1号")
    assert suit.prior_id == recon.id and suit.state == "pending"
    direct = case(session, "（2026）某0102行初2号")
    assert direct.route == "direct" and direct.filed_on == date(2026, 5, 1)
    log = session.scalars(
        select(ChallengeEvent)
        .where(ChallengeEvent.challenge_id == direct.id)
        .order_by(ChallengeEvent.seq)
    ).all()
    assert [e.trigger for e in log] == ["file", "conclude"]
    assert "应当先申请行政复议" in log[0].payload["warning"]
    assert log[1].payload["result"] == "upheld" and log[1].effective_date == date(2026, 9, 1)
    assert session.get(Request, requests["R-3"].id).state == "in_review"  # reopened
    assert session.get(Request, requests["R-1"].id).state == "concluded"
    table = derive(session, Scope.of(agency), 2026).table4
    assert table["reconsideration"] == {
        "upheld": 1,
        "corrected": 1,
        "other": 0,
        "pending": 0,
        "total": 2,
    }
    assert table["litigation_direct"]["upheld"] == 1 and table["litigation_direct"]["pending"] == 1
    assert table["litigation_after_reconsideration"]["pending"] == 1


def test_good_csv_lands_every_row(session, agency, users, ledger_requests, tmp_path) -> None:
    report = run(session, write_csv(tmp_path / "cases.csv", GOOD_ROWS))
    assert report.ok and report.stored, report.errors
    session.commit()
    assert report.rows == report.imported == 5
    assert report.by_state == {"concluded": 3, "pending": 2}
    assert report.state_summary() == "审理中 2，已审结 3"
    assert report.reopened == 1
    assert [w.line for w in report.warnings] == [4]
    assert_imported(session, agency, ledger_requests)


def test_good_xlsx_lands_every_row(session, agency, users, ledger_requests, tmp_path) -> None:
    report = run(session, write_xlsx(tmp_path / "cases.xlsx", GOOD_ROWS))
    assert report.ok, report.errors
    session.commit()
    assert report.imported == 5
    assert_imported(session, agency, ledger_requests)


BAD_ROWS: list[dict[str, str]] = [
    {**GOOD_ROWS[4], "agency": "nowhere"},  # 2
    {**GOOD_ROWS[4], "request_ref": "R-404"},  # 3
    {**GOOD_ROWS[4], "kind": "appeal"},  # 4
    {**GOOD_ROWS[3], "route": "direct"},  # 5: a reconsideration has no route
    {**GOOD_ROWS[4], "route": ""},  # 6: a lawsuit needs one
    {**GOOD_ROWS[4], "filed_on": "2026-13-01"},  # 7
    {**GOOD_ROWS[3], "concluded_on": "2026-05-01"},  # 8: before filing
    {**GOOD_ROWS[4], "result": "upheld"},  # 9: result without conclusion date
    {**GOOD_ROWS[2], "result": "maintained"},  # 10: a reconsideration result on a lawsuit
    {**GOOD_ROWS[4], "filed_on": "2099-01-01"},  # 11: future
    {**GOOD_ROWS[4], "case_no": "（2026）重复1号"},  # 12: fine by itself …
    {**GOOD_ROWS[4], "case_no": "（2026）重复1号"},  # 13: … but twice
    {**GOOD_ROWS[4], "filed_on": "2026-06-01"},  # 14: before R-4 was received
    {**GOOD_ROWS[0], "request_ref": "R-2"},  # 15: after a reconsideration that does not exist
    {**GOOD_ROWS[4], "body": ""},  # 16
    {**GOOD_ROWS[3], "result": "大获全胜"},  # 17
]


def unique_cases(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Each row its own case number (unless it already names one of its own)."""
    return [
        row if "重复" in row["case_no"] else {**row, "case_no": f"{row['case_no']}-{i}"}
        for i, row in enumerate(rows)
    ]


def test_bad_rows_are_all_reported_and_nothing_stored(
    session, agency, users, ledger_requests, tmp_path
) -> None:
    rows = [*GOOD_ROWS, *unique_cases(BAD_ROWS)]
    report = run(session, write_csv(tmp_path / "bad.csv", rows))
    assert not report.ok and not report.stored
    by_line = {(e.line - len(GOOD_ROWS), e.column) for e in report.errors}
    assert by_line >= {
        (2, "agency"),
        (3, "request_ref"),
        (4, "kind"),
        (5, "route"),
        (6, "route"),
        (7, "filed_on"),
        (8, "concluded_on"),
        (9, "result"),
        (10, "result"),
        (11, "filed_on"),
        (13, "case_no"),
        (14, "filed_on"),
        (15, "route"),
        (16, "body"),
        (17, "result"),
    }
    assert 12 + len(GOOD_ROWS) not in report.refused_lines
    texts = [str(e) for e in report.errors]
    assert any(t.startswith(f"第{4 + len(GOOD_ROWS)}行 [kind] 无法识别") for t in texts)
    assert any("与第" in t and "行重复" in t for t in texts)
    assert any("不能早于收到申请日期" in t or "不能早于该申请的收到日期" in t for t in texts)
    assert case_count(session) == 0
    assert session.get(Request, ledger_requests["R-3"].id).state == "concluded"


def test_dry_run_stores_nothing(session, agency, users, ledger_requests, tmp_path) -> None:
    report = run(session, write_csv(tmp_path / "cases.csv", GOOD_ROWS), dry_run=True)
    assert report.ok and not report.stored
    assert report.imported == 5 and report.reopened == 1
    session.commit()
    assert case_count(session) == 0
    assert session.get(Request, ledger_requests["R-3"].id).state == "concluded"


def test_reimport_is_refused(session, agency, users, ledger_requests, tmp_path) -> None:
    path = write_csv(tmp_path / "cases.csv", GOOD_ROWS)
    assert run(session, path).ok
    session.commit()
    again = run(session, path)
    assert not again.ok
    assert len(again.refused_lines) == 5
    assert sorted(again.refused_lines) == list(range(2, 2 + len(GOOD_ROWS)))  # every line
    assert all("已登记过" in e.reason for e in again.errors)
    assert case_count(session) == 5


def test_acting_user(session, agency, users, ledger_requests, tmp_path) -> None:
    path = write_csv(tmp_path / "cases.csv", GOOD_ROWS)
    as_registrar = run(session, path, actor=actor_named("registrar"))
    assert not as_registrar.ok
    refusals = {e.line: e.reason for e in as_registrar.errors}
    assert all("只有法制员可以进行此操作" in refusals[line] for line in (3, 4, 5, 6))
    assert "改正它所在的行" in refusals[2]  # its reconsideration (line 3) was refused
    assert run(session, path, actor=actor_named("legal")).ok


def test_agency_without_legal_officer(session, agency, tmp_path) -> None:
    clerk = make_user(session, agency, "clerk", "registrar", "handler")
    ops.register(
        session,
        Actor.of(clerk),
        NOW,
        {
            "applicant_name": "张三",
            "applicant_kind": "natural_person",
            "subject": "某文件",
            "channel": "in_person",
            "submitted_on": "2026-07-01",
        },
        agency=agency,
        external_ref="R-4",
    )
    session.commit()
    report = run(session, write_csv(tmp_path / "cases.csv", [GOOD_ROWS[4]]))
    assert report.ok and report.stored, report.errors
    session.expire_all()
    [event] = session.scalars(select(ChallengeEvent)).all()
    assert event.actor_id is None  # the system recorded it; no colleague is named


def test_file_problems_are_refused_whole(tmp_path) -> None:
    request_ledger = write_csv(tmp_path / "requests.csv", [], ["agency", "ref", "subject"])
    with pytest.raises(LedgerFileError, match=r"缺少必填列.*request_ref"):
        read_ledger(request_ledger, CHALLENGE_COLUMNS)
    with pytest.raises(LedgerFileError, match="如 agency、request_ref"):
        read_ledger(write_csv(tmp_path / "empty.csv", [], [""]), CHALLENGE_COLUMNS)


def test_results_resolve_in_the_kind_of_the_case() -> None:
    from workflow.challenges.ledger import result_from_cell

    assert result_from_cell("维持", "reconsideration") == "maintained"
    assert result_from_cell("维持", "litigation") == "upheld"
    assert result_from_cell("判决驳回原告诉讼请求", "litigation") == "claims_dismissed"
    assert result_from_cell("Corrected", "litigation") == "corrected"
    assert result_from_cell("其他", "litigation") == "other"
    assert result_from_cell("胜诉", "litigation") is None


# --------------------------------------------------------------------------- the command


def test_cli_dry_run_then_import(db_url, session, agency, users, ledger_requests, tmp_path) -> None:
    path = str(write_csv(tmp_path / "cases.csv", GOOD_ROWS))
    dry = cli(db_url, "import-challenges", path, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "检查通过，未写入：共 5 行均可导入（审理中 2，已审结 3）" in dry.stdout
    assert "第4行 [route] 提示：" in dry.stdout
    assert "将转为重新办理" in dry.stdout
    assert case_count(session) == 0

    done = cli(db_url, "import-challenges", path)
    assert done.returncode == 0, done.stderr
    assert "已导入 5 行（审理中 2，已审结 3）" in done.stdout
    assert "其中 1 件申请因责令重新答复已转为重新办理" in done.stdout
    assert_imported(session, agency, ledger_requests)
    # Every event says it was imported, by whom and from which file (its SHA-256), and
    # the system recorded it: no legal officer is named for what they never did.
    events = session.scalars(select(ChallengeEvent)).all()
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    assert {e.trigger for e in events} == {"file", "conclude"}
    assert all(e.actor_id is None for e in events)
    assert all(
        e.payload["imported"] == {"by": "import-challenges", "file": "cases.csv", "sha256": digest}
        for e in events
    )

    again = cli(db_url, "import-challenges", path)
    assert again.returncode != 0 and "已登记过" in again.stderr
    assert case_count(session) == 5


def test_cli_bad_file_exits_non_zero_with_line_numbers(
    db_url, session, agency, users, ledger_requests, tmp_path
) -> None:
    bad = write_csv(tmp_path / "bad.csv", unique_cases(BAD_ROWS))
    done = cli(db_url, "import-challenges", str(bad))
    assert done.returncode == 1
    assert "第3行 [request_ref]" in done.stderr and "第5行 [route]" in done.stderr
    assert "导入被拒绝" in done.stderr and "未写入任何数据" in done.stderr
    assert case_count(session) == 0

    wrong = cli(db_url, "import-challenges", str(write_csv(tmp_path / "r.csv", [], ["ref"])))
    assert wrong.returncode != 0 and "表头（第1行）有误" in wrong.stderr


def test_cli_as_user(db_url, session, agency, users, ledger_requests, tmp_path) -> None:
    path = str(write_csv(tmp_path / "cases.csv", GOOD_ROWS))
    missing = cli(db_url, "import-challenges", path, "--as", "nobody")
    assert missing.returncode != 0 and "用户“nobody”不存在" in missing.stderr
    registrar = cli(db_url, "import-challenges", path, "--as", "registrar")
    assert registrar.returncode == 1 and "只有法制员可以进行此操作" in registrar.stderr
    legal = cli(db_url, "import-challenges", path, "--as", "legal")
    assert legal.returncode == 0, legal.stderr
    assert case_count(session) == 5
    events = session.scalars(select(ChallengeEvent)).all()
    assert {e.actor_id for e in events} == {users["legal"].id}
    assert {e.payload["imported"]["by"] for e in events} == {"legal"}
