"""Art. 49 report deadlines by agency level, with December's reminder for the coming one."""

from __future__ import annotations

from datetime import date

from workflow.requests.reminders import report_deadlines


def test_department_is_reminded_of_31_january_from_december() -> None:
    """B11: on 2026-12-03 the 2026 report is due 2027-01-31."""
    found = report_deadlines("department", date(2026, 12, 3))
    assert [(r.report_year, r.due) for r in found] == [
        (2025, date(2026, 1, 31)),
        (2026, date(2027, 1, 31)),
    ]
    assert "政府部门" in found[1].text and "第四十九条" in found[1].text


def test_government_reports_by_31_march_and_no_advance_before_december() -> None:
    found = report_deadlines("government", date(2026, 2, 10))
    assert [(r.report_year, r.due) for r in found] == [(2025, date(2026, 3, 31))]


def test_agency_without_level_sees_both_dates() -> None:
    found = report_deadlines(None, date(2026, 1, 5))
    assert [r.due for r in found] == [date(2026, 1, 31), date(2026, 3, 31)]
