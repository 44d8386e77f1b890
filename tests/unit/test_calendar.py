"""Working-day arithmetic against the real 2026 State Council arrangement (docs/domain.md §3).

The expected dates are the worked examples of docs/domain.md §3, checked by hand against the 2026
notice, so a regression in counting (off-by-one on the start day, a make-up Saturday
not counted, an override ignored) fails here before it mis-dates a legal deadline.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.kernel.calendar import DEFAULT_CALENDAR, WorkdayResult, WorkingCalendar

CAL = DEFAULT_CALENDAR


# -- which days are working days ----------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 4),  # Sun, make-up for New Year
        date(2026, 2, 14),  # Sat, make-up for Spring Festival
        date(2026, 2, 28),  # Sat, make-up for Spring Festival
        date(2026, 5, 9),  # Sat, make-up for Labour Day
        date(2026, 9, 20),  # Sun, make-up for National Day
        date(2026, 10, 10),  # Sat, make-up for National Day
    ],
)
def test_make_up_weekend_days_are_workdays(day: date) -> None:
    assert day.weekday() >= 5
    assert CAL.is_workday(day)
    assert not CAL.is_provisional(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 2),  # Fri, New Year
        date(2026, 2, 16),  # Mon, Spring Festival
        date(2026, 2, 23),  # Mon, Spring Festival
        date(2026, 4, 6),  # Mon, Qingming
        date(2026, 5, 5),  # Tue, Labour Day
        date(2026, 6, 19),  # Fri, Dragon Boat
        date(2026, 9, 25),  # Fri, Mid-Autumn
        date(2026, 10, 7),  # Wed, National Day
        date(2026, 3, 7),  # an ordinary Saturday
    ],
)
def test_holidays_and_ordinary_weekends_are_days_off(day: date) -> None:
    assert not CAL.is_workday(day)


@pytest.mark.parametrize(
    ("day", "override"),
    [
        (date(2026, 10, 8), False),  # package: workday; a local closure says otherwise
        (date(2026, 10, 1), True),  # package: holiday
        (date(2026, 2, 14), False),  # package: make-up Saturday
    ],
)
def test_override_beats_package(day: date, override: bool) -> None:
    assert CAL.is_workday(day) is not override
    assert WorkingCalendar(overrides={day: override}).is_workday(day) is override


def test_overrides_are_snapshotted_at_construction() -> None:
    overrides = {date(2026, 10, 8): False}
    cal = WorkingCalendar(overrides=overrides)
    overrides[date(2026, 10, 8)] = True
    assert not cal.is_workday(date(2026, 10, 8))


def test_covered_years_come_from_the_package() -> None:
    assert CAL.covered_years() == range(2004, 2027)


# -- years the package does not cover ------------------------------------------------


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        (date(2027, 1, 1), False),  # Fri, New Year's Day (fixed)
        (date(2027, 1, 2), False),  # Sat
        (date(2027, 1, 4), True),  # Mon: no guess at the real 调休
        (date(2027, 10, 1), False),  # Fri, National Day (fixed)
        (date(2027, 10, 4), True),  # Mon: only Oct 1–3 are fixed
        (date(2028, 5, 1), False),  # Mon, Labour Day (fixed)
        (date(2028, 5, 2), False),  # Tue, Labour Day (fixed)
        (date(2028, 5, 3), True),  # Wed: only May 1–2 are fixed
        (date(2028, 10, 3), False),  # Tue, National Day (fixed)
        (date(2003, 1, 1), False),  # before the package's data: same fallback
        (date(2003, 1, 2), True),
    ],
)
def test_fallback_is_weekends_plus_fixed_holidays_and_provisional(day: date, workday: bool) -> None:
    assert CAL.is_workday(day) is workday
    assert CAL.is_provisional(day)


def test_announced_year_is_not_provisional() -> None:
    cal = WorkingCalendar(overrides={date(2027, 2, 8): False}, announced_years=[2027])
    assert not cal.is_provisional(date(2027, 3, 1))
    assert not cal.is_workday(date(2027, 2, 8))
    assert cal.is_workday(date(2027, 3, 1))


def test_an_overridden_day_is_settled_even_in_an_unannounced_year() -> None:
    cal = WorkingCalendar(overrides={date(2027, 2, 8): False})
    assert not cal.is_provisional(date(2027, 2, 8))
    assert cal.is_provisional(date(2027, 2, 9))


# -- counting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "notice_due", "reply_due"),
    [
        (date(2026, 2, 10), date(2026, 2, 26), date(2026, 3, 16)),  # Spring Festival
        (date(2026, 4, 30), date(2026, 5, 13), date(2026, 6, 1)),  # Labour Day
        (date(2026, 9, 24), date(2026, 10, 12), date(2026, 10, 29)),  # Mid-Autumn, National
    ],
)
def test_spec_worked_examples(received: date, notice_due: date, reply_due: date) -> None:
    assert CAL.add_working_days(received, 7) == WorkdayResult(notice_due, provisional=False)
    assert CAL.add_working_days(received, 20) == WorkdayResult(reply_due, provisional=False)


def test_deadline_into_unannounced_year_is_provisional_until_entered() -> None:
    assert CAL.add_working_days(date(2026, 12, 10), 20) == WorkdayResult(
        date(2027, 1, 8), provisional=True
    )
    announced = WorkingCalendar(overrides={date(2027, 1, 4): False}, announced_years=[2027])
    assert announced.add_working_days(date(2026, 12, 10), 20) == WorkdayResult(
        date(2027, 1, 11), provisional=False
    )


def test_result_is_provisional_if_any_day_crossed_is() -> None:
    # The result day itself is settled by an override, but New Year 2027 and the
    # weekend before it are guesses: a holiday found there would move the result.
    cal = WorkingCalendar(overrides={date(2027, 1, 5): True})
    assert cal.add_working_days(date(2026, 12, 31), 2) == WorkdayResult(
        date(2027, 1, 5), provisional=True
    )
    assert not cal.add_working_days(date(2026, 12, 21), 5).provisional  # stays in 2026


def test_counting_starts_the_day_after_start() -> None:
    assert CAL.add_working_days(date(2026, 3, 9), 1).day == date(2026, 3, 10)  # Mon → Tue
    assert CAL.add_working_days(date(2026, 3, 6), 1).day == date(2026, 3, 9)  # Fri → Mon
    assert CAL.add_working_days(date(2026, 3, 7), 1).day == date(2026, 3, 9)  # Sat → Mon


def test_zero_days_is_start_and_negative_is_refused() -> None:
    assert CAL.add_working_days(date(2026, 3, 7), 0) == WorkdayResult(date(2026, 3, 7), False)
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2026, 3, 7), -1)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 2, 10), date(2026, 2, 26), 7),
        (date(2026, 2, 10), date(2026, 3, 16), 20),
        (date(2026, 2, 13), date(2026, 2, 24), 2),  # make-up Sat 02-14 and Tue 02-24
        (date(2026, 3, 9), date(2026, 3, 9), 0),
        (date(2026, 3, 16), date(2026, 3, 9), 0),
        (date(2026, 3, 6), date(2026, 3, 8), 0),  # Fri → Sun
    ],
)
def test_working_days_between(start: date, end: date, expected: int) -> None:
    assert CAL.working_days_between(start, end) == expected


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 6, 30)),
    n=st.integers(min_value=0, max_value=60),
)
def test_between_is_the_inverse_of_add(start: date, n: int) -> None:
    """Pauses are measured with one and added with the other: they must agree."""
    result = CAL.add_working_days(start, n)
    assert CAL.working_days_between(start, result.day) == n
    if n:
        assert CAL.is_workday(result.day)
        assert CAL.working_days_between(start, result.day - timedelta(days=1)) == n - 1
