"""The memoising calendar every page and replay shares gives the plain calendar's
answers, and stays bounded in a long-lived process."""

from __future__ import annotations

from datetime import date, timedelta

from workflow.kernel import calendar as kernel
from workflow.kernel.calendar import MemoCalendar, WorkingCalendar

OVERRIDES = {date(2026, 10, 10): True, date(2026, 11, 2): False}


def test_memo_calendar_answers_as_the_plain_calendar_twice_over() -> None:
    plain, memo = WorkingCalendar(OVERRIDES, {2027}), MemoCalendar(OVERRIDES, {2027})
    start = date(2026, 9, 20)
    for _ in range(2):  # the second round is answered from memory
        for offset in range(0, 120, 3):
            day = start + timedelta(days=offset)
            assert memo.is_workday(day) == plain.is_workday(day)
            for n in (1, 10, 15, 20):
                assert memo.add_working_days(day, n) == plain.add_working_days(day, n)
            end = day + timedelta(days=40)
            assert memo.working_days_between(day, end) == plain.working_days_between(day, end)


def test_memo_calendar_starts_afresh_past_its_limit(monkeypatch) -> None:
    monkeypatch.setattr(kernel, "MEMO_LIMIT", 5)
    memo = MemoCalendar()
    calls: list[str] = []
    for n in range(12):
        memo.remembered(n, lambda n=n: calls.append(str(n)) or n)
    assert len(memo._remembered) <= 5
    assert memo.remembered(11, lambda: -1) == 11  # the latest answers are kept
    assert memo.remembered(0, lambda: -1) == -1  # the oldest were dropped
