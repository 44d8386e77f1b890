"""Chinese working days, the unit every legal clock of the Regulation is counted in.

Art. 30, 32, 33 and 34 count in working days (工作日), which follow the State Council's
yearly holiday arrangement *including* make-up working days on weekends (调休). That
arrangement is only published late in the preceding year, so the calendar has three
sources, strongest first:

1. admin overrides (an admin types in the State Council notice, or corrects a local
   deviation) — they always win;
2. the ``chinesecalendar`` package, which ships the published arrangements;
3. for years neither covers, a fallback of weekends plus the fixed-date statutory
   holidays. Answers resting on the fallback are *provisional*: the deadline shown to
   staff may still move once the real arrangement is known, and the UI must say so.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import TypeVar

import chinese_calendar

#: Fixed-date public holidays of 全国年节及纪念日放假办法 (2025 revision): New Year's Day,
#: Labour Day (2 days), National Day (3 days). The lunar holidays are deliberately not
#: approximated: their dates and the 调休 around them are only known from the notice.
FIXED_HOLIDAYS: frozenset[tuple[int, int]] = frozenset(
    {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}
)

_ONE_DAY = timedelta(days=1)
_T = TypeVar("_T")
_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


def _package_years() -> range:
    """The years the installed package has data for, read from its own tables.

    Deriving it (rather than hard-coding 2004–2026) means upgrading the package extends
    the covered range without touching this module.
    """
    known = chinese_calendar.holidays.keys()
    return range(min(known).year, max(known).year + 1)


_COVERED_YEARS: range = _package_years()


@lru_cache(maxsize=8192)
def _package_is_workday(day: date) -> bool:
    """Package lookup, cached because list pages compute deadlines for many rows."""
    return bool(chinese_calendar.is_workday(day))


def _fallback_is_workday(day: date) -> bool:
    """Weekends and fixed-date statutory holidays: the best guess before the notice."""
    return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS


@dataclass(frozen=True)
class WorkdayResult:
    """A computed day, with whether it rests on a not-yet-announced arrangement."""

    day: date
    provisional: bool


class WorkingCalendar:
    """Working-day arithmetic over package data, admin overrides and a fallback.

    The overrides are copied on construction so one calendar always gives the same
    answers, even if the caller's mapping later changes; build a new calendar when the
    admin edits the calendar.
    """

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        announced_years: Iterable[int] = (),
    ) -> None:
        self._overrides: dict[date, bool] = dict(overrides or {})
        self._announced: frozenset[int] = frozenset(announced_years)

    def remembered(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """``compute()``, an answer that depends only on this calendar and ``key``.

        A plain calendar computes it afresh. A :class:`MemoCalendar` keeps it under
        ``key``: a calendar never changes once built, and replaying a ledger (or listing
        a page of requests) asks the same few thousand questions (a deadline's
        explanation of the days it stepped over) over and over.
        """
        return compute()

    def covered_years(self) -> range:
        """Years for which the ``chinesecalendar`` package has the real arrangement."""
        return _COVERED_YEARS

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is a working day: override, else package, else fallback."""
        override = self._overrides.get(day)
        if override is not None:
            return override
        if day.year in _COVERED_YEARS:
            return _package_is_workday(day)
        return _fallback_is_workday(day)

    def is_provisional(self, day: date) -> bool:
        """Whether the answer for ``day`` may change once the year's notice is entered.

        A day the admin has overridden is settled even in an unannounced year: someone
        stated it explicitly. Every other day of an uncovered, unannounced year is a guess.
        """
        if day in self._overrides:
            return False
        return day.year not in _COVERED_YEARS and day.year not in self._announced

    def add_working_days(self, start: date, n: int) -> WorkdayResult:
        """The ``n``-th working day after ``start`` (``start`` itself never counts).

        docs/domain.md §3: "counting starts the day after the starting day". The result is
        provisional if any day stepped over was, since a holiday found there later would
        push the result back. ``n == 0`` returns ``start`` unchanged.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        day, remaining, provisional = start, n, False
        while remaining:
            day += _ONE_DAY
            provisional = provisional or self.is_provisional(day)
            if self.is_workday(day):
                remaining -= 1
        return WorkdayResult(day=day, provisional=provisional)

    def working_days_between(self, start: date, end: date) -> int:
        """Number of working days ``d`` with ``start < d <= end``; 0 if ``end <= start``.

        This is the inverse of :meth:`add_working_days` (same half-open convention), so
        a pause from P to R is worth exactly the days it pushed the deadline back.
        """
        count, day = 0, start + _ONE_DAY
        while day <= end:
            count += self.is_workday(day)
            day += _ONE_DAY
        return count


_MISSING = object()
#: Answers a :class:`MemoCalendar` keeps per kind before starting afresh: a web process
#: lives for months, and its questions (pairs of dates) would otherwise only accumulate.
MEMO_LIMIT = 200_000


class MemoCalendar(WorkingCalendar):
    """The same working-day answers, memoised: a calendar never changes once built
    (``WorkingCalendar`` copies its overrides), and replaying millions of events, or a
    web process serving list pages all day, asks the same questions over and over.
    ``workflow.store.calendar.load_calendar`` hands one out per calendar revision."""

    def __init__(
        self, overrides: Mapping[date, bool] | None = None, announced_years: Iterable[int] = ()
    ) -> None:
        super().__init__(overrides, announced_years)
        self._add: dict[tuple[date, int], WorkdayResult] = {}
        self._between: dict[tuple[date, date], int] = {}
        self._workday: dict[date, bool] = {}
        self._remembered: dict[Hashable, object] = {}

    @staticmethod
    def _keep(memo: dict[_K, _V], key: _K, value: _V) -> _V:
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[key] = value
        return value

    def remembered(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        found = self._remembered.get(key, _MISSING)
        if found is _MISSING:
            found = self._keep(self._remembered, key, compute())
        return found  # type: ignore[return-value]

    def is_workday(self, day: date) -> bool:
        found = self._workday.get(day)
        if found is None:
            found = self._keep(self._workday, day, super().is_workday(day))
        return found

    def add_working_days(self, start: date, n: int) -> WorkdayResult:
        key = (start, n)
        found = self._add.get(key)
        if found is None:
            found = self._keep(self._add, key, super().add_working_days(start, n))
        return found

    def working_days_between(self, start: date, end: date) -> int:
        key = (start, end)
        found = self._between.get(key)
        if found is None:
            found = self._keep(self._between, key, super().working_days_between(start, end))
        return found


#: A calendar with no admin overrides, for code and tests that have none.
DEFAULT_CALENDAR = WorkingCalendar()
