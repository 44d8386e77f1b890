"""Remedy periods (行政复议法 Arts. 20, 62, 88; 行政诉讼法 Arts. 45, 101 → 民诉法 Art. 85)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from workflow.challenges.remedies import (
    agency_deadlines,
    lawsuit_after_reconsideration_by,
    period_end,
    reconsideration_decision_by,
    reply_remedies,
)
from workflow.kernel.calendar import DEFAULT_CALENDAR as CAL


@dataclass(frozen=True)
class Event:
    trigger: str
    effective_date: date
    payload: dict[str, Any] = field(default_factory=dict)


@pytest.mark.parametrize(
    ("decided", "reconsideration_by"),
    [
        (date(2026, 12, 1), date(2027, 2, 1)),  # B5: 01-30 is a Saturday
        (date(2026, 12, 2), date(2027, 2, 1)),  # 01-31 a Sunday
        (date(2026, 12, 3), date(2027, 2, 1)),  # a Monday: unchanged
    ],
)
def test_reconsideration_period_runs_past_rest_days(
    decided: date, reconsideration_by: date
) -> None:
    found = reply_remedies([Event("decide", decided)], calendar=CAL)
    assert found is not None and found.reconsideration_by == reconsideration_by
    assert found.outer_limit_by is None


def test_lawsuit_period_ending_in_national_day_runs_to_the_next_working_day() -> None:
    found = reply_remedies([Event("decide", date(2025, 4, 4))], calendar=CAL)
    assert found is not None
    assert found.lawsuit_by == date(2025, 10, 9)  # 10-04 falls in the 10-01..08 holiday


def test_make_up_working_day_ends_a_period_itself() -> None:
    assert period_end(date(2026, 10, 10), CAL) == date(2026, 10, 10)  # make-up Saturday


def test_fifteen_days_to_sue_run_from_service_of_the_decision() -> None:
    assert lawsuit_after_reconsideration_by(date(2026, 9, 16), CAL) == date(2026, 10, 8)
    assert lawsuit_after_reconsideration_by(date(2026, 9, 25), CAL) == date(2026, 10, 10)


def test_decision_period_offers_the_simplified_procedure() -> None:
    accepted = date(2026, 3, 2)
    assert reconsideration_decision_by(accepted, CAL) == date(2026, 5, 6)  # 05-01..05 off
    assert reconsideration_decision_by(accepted, CAL, simplified=True) == date(2026, 4, 1)


def test_outer_limit_when_the_reply_stated_no_remedies() -> None:
    found = reply_remedies(
        [Event("decide", date(2025, 10, 8))], calendar=CAL, remedies_stated=False
    )
    assert found is not None and found.outer_limit_by == date(2026, 10, 8)


def test_agency_answers_a_reconsideration_within_ten_working_days() -> None:
    [answer] = agency_deadlines(
        "reconsideration", "reconsideration", True, date(2026, 9, 28), date(2026, 9, 25), None, CAL
    )
    assert answer.day == date(2026, 10, 16)  # National Day 10-01..07 off, make-up Sat 10-10
    assert "2026-10-10" in answer.note  # simplified: 5 wd, ending on the make-up Saturday
    assert "推定" not in answer.note


def test_agency_defends_in_court_within_fifteen_days_of_service() -> None:
    [defence] = agency_deadlines("litigation", "first", True, None, date(2026, 9, 16), None, CAL)
    assert defence.day == date(2026, 10, 8) and "推定" in defence.note


def test_agencys_own_appeal_period_judgment_and_ruling() -> None:
    decided = (date(2026, 9, 1), date(2026, 9, 3), "ordered_to_perform")
    [judgment] = agency_deadlines(
        "litigation", "first", False, None, date(2026, 7, 1), decided, CAL
    )
    assert judgment.day == date(2026, 9, 18)
    ruling = (date(2026, 9, 1), None, "suit_rejected")
    [appeal] = agency_deadlines("litigation", "first", False, None, date(2026, 7, 1), ruling, CAL)
    assert appeal.day == date(2026, 9, 11) and "裁定" in appeal.note


def test_agency_answers_the_other_partys_appeal_within_fifteen_days() -> None:
    """Copy of the appeal received 09-16: 15 days end 10-01, in the National Day holiday
    (10-01..07), so the answer is due on the first working day after, 10-08."""
    [answer] = agency_deadlines(
        "litigation", "second", True, date(2026, 9, 16), date(2026, 9, 10), None, CAL
    )
    assert answer.label == "本机关提交二审答辩状" and answer.day == date(2026, 10, 8)
    # Without the copy's date the agency may be the appellant itself: nothing to answer.
    assert agency_deadlines("litigation", "second", True, None, date(2026, 9, 10), None, CAL) == []
