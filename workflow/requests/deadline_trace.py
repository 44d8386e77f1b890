"""The "期限如何计算" trace: the steps a deadline was computed from, in words.

Why a separate module: the steps are built by ``workflow.requests.deadlines`` *while* it computes
each date (the date is the sum of the steps, never recomputed beside them), and the same
steps are shown on the request page, printed for a 复议 file and returned by the API.
This module only knows how to describe a stretch of the calendar; the rules live in
``workflow.requests.deadlines``.

Invariant (checked by a property test): for every deadline,
``calendar.add_working_days(steps[0].start, sum(s.working_days + s.paused_days))`` is
the deadline. ``working_days`` are days counted toward the period, ``paused_days`` the
working days passed over while the clock stood still (a pause).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from workflow.kernel.calendar import WorkingCalendar

StepKind = Literal[
    "start",  # the day counting starts from (the day itself never counts)
    "count",  # working days counted toward the period
    "pause",  # the clock stood still (consultation, fee notice)
    "pause_ignored",  # a pause that began after the period had run out
    "extension",  # an extension granted within the period (counted in the "count" steps)
    "extension_late",  # an extension decided after the period: no effect on the date
    "deferral",  # an Art. 35 deferral fixed within the period (counted like an extension)
    "fixed",  # a period fixed by a decision (复议决定书 / 判决书)
    "provisional",  # the result rests on a year whose holidays are not yet announced
]

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class TraceStep:
    """One line of a deadline's explanation."""

    kind: StepKind
    start: date
    end: date | None
    text: str
    working_days: int = 0
    paused_days: int = 0


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days grouped into (first, last) runs."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + _ONE_DAY == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _run_text(runs: list[tuple[date, date]]) -> str:
    return "、".join(
        a.isoformat() if a == b else f"{a.isoformat()}至{b.isoformat()}" for a, b in runs
    )


def calendar_notes(calendar: WorkingCalendar, start: date, end: date) -> str:
    """The rest days passed over and the make-up working days counted in (start, end]."""
    rest, makeup = [], []
    day = start + _ONE_DAY
    while day <= end:
        workday = calendar.is_workday(day)
        if not workday:
            rest.append(day)
        elif day.weekday() >= 5:
            makeup.append(day)
        day += _ONE_DAY
    notes = []
    if rest:
        notes.append(f"跳过休息日 {_run_text(_runs(rest))}")
    if makeup:
        notes.append(f"调休上班日 {_run_text(_runs(makeup))} 计入")
    return "；".join(notes)


def count_step(
    calendar: WorkingCalendar, start: date, end: date, days: int, first: int
) -> TraceStep:
    """``days`` working days counted after ``start`` up to ``end`` (numbered from ``first``).

    The step depends on the calendar and its arguments only (a frozen value), so a
    memoising calendar may hand the same step to every request that asks.
    """
    return calendar.remembered(
        ("count_step", start, end, days, first),
        lambda: _count_step(calendar, start, end, days, first),
    )


def _count_step(
    calendar: WorkingCalendar, start: date, end: date, days: int, first: int
) -> TraceStep:
    if days <= 0:
        text = f"{start.isoformat()} 起未计入工作日"
    else:
        last = first + days - 1
        numbers = f"第{first}个工作日" if days == 1 else f"第{first}至第{last}个工作日"
        text = f"{(start + _ONE_DAY).isoformat()} 至 {end.isoformat()}：计{numbers}"
        notes = calendar_notes(calendar, start, end)
        if notes:
            text += f"（{notes}）"
    return TraceStep("count", start, end, text, working_days=max(days, 0))


def provisional_step(calendar: WorkingCalendar, start: date, end: date) -> TraceStep | None:
    """Which calendar years in (start, end] are not yet announced, if any (remembered by a
    memoising calendar, as :func:`count_step`)."""
    return calendar.remembered(
        ("provisional_step", start, end), lambda: _provisional_step(calendar, start, end)
    )


def _provisional_step(calendar: WorkingCalendar, start: date, end: date) -> TraceStep | None:
    years = sorted(
        {
            day.year
            for day in (start + timedelta(days=i) for i in range(1, (end - start).days + 1))
            if calendar.is_provisional(day)
        }
    )
    if not years:
        return None
    names = "、".join(f"{y}年" for y in years)
    return TraceStep(
        "provisional",
        start,
        end,
        f"{names}节假日安排尚未公布，暂按周末及法定固定节日推算（暂定），公布后自动重新计算",
    )


def total_days(steps: Iterable[TraceStep]) -> int:
    """Working days from the first step's start to the deadline: what the steps add up to."""
    return sum(s.working_days + s.paused_days for s in steps)
