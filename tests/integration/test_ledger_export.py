"""The full 台账 export (issue 15 item 7): every column an office keeps, the request
columns exactly the import format, so that export → import into an empty database gives
the same statistics, cell for cell, in every year and agency."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from documents.ledger_xlsx import ledger_xlsx
from models import Agency, CalendarOverride, Request
from models.db import make_engine, make_session_factory
from tests.conftest import NOW, login
from tests.integration.world import intake
from workflow.annual_report.narrative import fee_summary
from workflow.annual_report.report import fee_histories
from workflow.kernel.actor import Actor, local_today
from workflow.ledger import export
from workflow.ledger.importer import ImportSource, import_ledger
from workflow.ledger.reader import (
    COLUMN_NAMES,
    LEDGER_COLUMNS,
    header_cell,
    read_ledger_bytes,
    validate_rows,
)
from workflow.requests import operations as ops
from workflow.statistics.layouts import format_for_year
from workflow.statistics.queries import table3_for, years_with_data
from workflow.statistics.scope import Scope

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _all_requests_xlsx(session) -> bytes:
    found = list(session.scalars(select(Request).order_by(Request.id)))
    return ledger_xlsx(export.header(), export.export_rows(session, found))


def _statistics(session) -> dict[tuple[str, int], object]:
    """Table 三 (folded from the log) and the fee figures of every agency and year."""
    found: dict[tuple[str, int], object] = {}
    for agency in session.scalars(select(Agency).order_by(Agency.code)):
        scope = Scope.of(agency)
        for year in years_with_data(session, scope):
            fmt = format_for_year(year)
            found[(agency.code, year)] = (
                table3_for(session, scope, year, fmt, fast=False),
                table3_for(session, scope, year, fmt, fast=True),
                fee_summary(fee_histories(session, scope, year), year),
            )
    return found


@pytest.mark.demo
def test_export_imported_into_an_empty_database_counts_the_same(
    session, templates, tmp_path: Path
) -> None:
    data = _all_requests_xlsx(session)
    before = _statistics(session)
    assert len(before) >= 4  # the demo's agencies and years, 2019 among them

    target_url = templates.copy("empty", "roundtrip", tmp_path)
    engine = make_engine(target_url)
    target = make_session_factory(engine)()
    try:
        # An empty database with the same agencies and working calendar, nothing else.
        codes: dict[int, Agency] = {}
        for agency in session.scalars(select(Agency).order_by(Agency.id)):
            copy = Agency(
                code=agency.code,
                name=agency.name,
                report_level=agency.report_level,
                parent=codes.get(agency.parent_id) if agency.parent_id else None,
            )
            codes[agency.id] = copy
            target.add(copy)
        for day in session.scalars(select(CalendarOverride)):
            target.add(CalendarOverride(day=day.day, is_workday=day.is_workday, note=day.note))
        target.commit()

        raw = read_ledger_bytes(data, "台账.xlsx")
        rows, errors = validate_rows(raw, local_today(NOW))
        assert errors == []
        assert len(rows) == session.query(Request).count()
        report = import_ledger(target, rows, ImportSource.of_file("test", "台账.xlsx", data), NOW)
        assert report.errors == []
        target.commit()
        after = _statistics(target)
        assert after == before
        # And the imported database exports the same ledger columns again.
        again = load_workbook(io.BytesIO(_all_requests_xlsx(target)), read_only=True)
        first = load_workbook(io.BytesIO(data), read_only=True)
        width = len(LEDGER_COLUMNS)

        def ledger_part(book) -> list[tuple]:
            cells = [row[:width] for row in book.worksheets[0].iter_rows(values_only=True)]
            return sorted(cells[1:], key=lambda r: (r[0], r[1]))

        assert ledger_part(again) == ledger_part(first)
    finally:
        target.close()
        engine.dispose()


def test_every_column_an_office_keeps_and_text_stays_text(session, agency, users, client) -> None:
    clerk, handler = users["registrar"], users["handler"]
    req = ops.register(
        session,
        Actor.of(clerk),
        NOW,
        {**intake('=HYPERLINK("http://x")', "+1 某文件"), "phone": "13800000001"},
        agency=agency,
    )
    ops.fire(session, req, "accept", Actor.of(clerk), NOW, {"effective_date": "2026-11-03"})
    ops.fire(
        session,
        req,
        "decide",
        Actor.of(handler),
        NOW,
        {"effective_date": "2026-11-10", "outcome": "disclosed", "delivery": "post"},
    )
    req.handler_id = handler.id
    session.commit()
    login(client, "viewer")
    response = client.get("/requests/export.xlsx", query_string={"year": 2026})
    assert response.status_code == 200
    assert response.mimetype == XLSX
    assert response.headers["Content-Disposition"].startswith("attachment;")
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[: len(LEDGER_COLUMNS)] == [header_cell(c) for c in LEDGER_COLUMNS]
    for wanted in (
        "承办人",
        "受理日期",
        "征求意见",
        "延期",
        "缴费",
        "送达日期",
        "文书号",
        "复议诉讼",
    ):
        assert wanted in header
    row = {h: c for h, c in zip(header, sheet[2], strict=True)}
    name = row[header_cell(LEDGER_COLUMNS[COLUMN_NAMES.index("applicant_name")])]
    assert name.value == '=HYPERLINK("http://x")' and name.data_type == "s"  # not a formula
    assert row[header_cell(LEDGER_COLUMNS[COLUMN_NAMES.index("outcome")])].value == "disclosed"
    assert row["承办人"].value == "handler"
    assert row["受理日期"].value == "2026-11-03"
    assert row["联系电话"].value == "13800000001"
    # A year without requests exports the header alone; another agency's rows never.
    empty = load_workbook(io.BytesIO(client.get("/requests/export.xlsx?year=2020").data))
    assert empty.worksheets[0].max_row == 1


@pytest.mark.demo
def test_export_ledger_command_writes_an_importable_year(db_url, session, tmp_path: Path) -> None:
    from tests.integration.test_cli import cli

    path = tmp_path / "台账2019.xlsx"
    done = cli(db_url, "export-ledger", str(path), "--agency", "nanchang-etdz", "--year", "2019")
    assert done.returncode == 0, done.stderr
    assert "已导出 10 件申请" in done.stdout
    rows, errors = validate_rows(read_ledger_bytes(path.read_bytes(), path.name), local_today(NOW))
    assert errors == [] and len(rows) == 10
    assert {r.received_on.year for r in rows} == {2019}
    again = cli(db_url, "export-ledger", str(path), "--agency", "nanchang-etdz")
    assert again.returncode != 0 and "文件已存在" in again.stderr
    unknown = cli(db_url, "export-ledger", str(tmp_path / "x.xlsx"), "--agency", "nope")
    assert unknown.returncode != 0 and "不存在" in unknown.stderr
