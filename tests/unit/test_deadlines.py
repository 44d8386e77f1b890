"""The legal clocks (docs/domain.md §3, §8) replayed from events, against the real 2026 calendar.

Each expected date was counted by hand on the 2026 arrangement; the comments name the
holidays and make-up days a wrong implementation would trip over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.kernel.calendar import DEFAULT_CALENDAR, WorkingCalendar
from workflow.requests.deadlines import (
    DEADLINE_NAMES,
    Deadlines,
    EventLike,
    compute_deadlines,
    lateness,
    stored_clock,
    trace_total,
)

CAL = DEFAULT_CALENDAR
FEB_10 = date(2026, 2, 10)  # receipt: notice due 02-26, reply due 03-16
APR_30 = date(2026, 4, 30)  # receipt: notice due 05-13, reply due 06-01


@dataclass(frozen=True)
class Event:
    trigger: str
    effective_date: date
    payload: Mapping[str, Any] = field(default_factory=dict)


def ev(trigger: str, iso: str, **payload: Any) -> Event:
    return Event(trigger, date.fromisoformat(iso), payload)


def deadlines(
    received: date,
    *events: EventLike,
    today: date | None = None,
    calendar: WorkingCalendar = CAL,
) -> Deadlines:
    """Deadlines of a request registered on its receipt date, followed by ``events``."""
    log = [ev("register", received.isoformat()), *events]
    return compute_deadlines(received, log, calendar, today or received)


# -- the SPEC's worked examples -------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "notice_due", "reply_due"),
    [
        (FEB_10, date(2026, 2, 26), date(2026, 3, 16)),  # make-up Sat 02-14, 02-28 count
        (APR_30, date(2026, 5, 13), date(2026, 6, 1)),  # Labour Day, make-up Sat 05-09
        (date(2026, 9, 24), date(2026, 10, 12), date(2026, 10, 29)),  # Mid-Autumn, National
    ],
)
def test_spec_worked_examples(received: date, notice_due: date, reply_due: date) -> None:
    d = deadlines(received)
    assert (d.supplement_notice_due, d.reply_due) == (notice_due, reply_due)
    assert not (d.provisional or d.paused or d.concluded)
    assert d.consultation_due is d.fee_due is d.applicant_supplement_due is None


def test_deadline_in_unannounced_year_is_provisional_then_settles() -> None:
    received = date(2026, 12, 10)
    guess = deadlines(received)
    assert (guess.supplement_notice_due, guess.reply_due) == (date(2026, 12, 21), date(2027, 1, 8))
    assert guess.provisional

    entered = WorkingCalendar(overrides={date(2027, 1, 4): False}, announced_years=[2027])
    settled = deadlines(received, calendar=entered)
    assert settled.reply_due == date(2027, 1, 11)
    assert not settled.provisional


# -- supplementation (Art. 30) --------------------------------------------------------


def test_reply_clock_stops_while_supplement_is_awaited() -> None:
    d = deadlines(FEB_10, ev("request_supplement", "2026-02-12", due_on="2026-02-27"))
    assert d.reply_due is None
    assert d.applicant_supplement_due == date(2026, 2, 27)
    assert d.supplement_notice_due == date(2026, 2, 26)
    assert d.days_left(FEB_10) is None and not d.overdue(date(2026, 12, 31))


def test_supplement_without_applicant_deadline() -> None:
    d = deadlines(FEB_10, ev("request_supplement", "2026-02-12"))
    assert d.reply_due is None and d.applicant_supplement_due is None


def test_received_supplement_restarts_reply_clock() -> None:
    d = deadlines(
        FEB_10,
        ev("request_supplement", "2026-02-12", due_on="2026-02-27"),
        ev("receive_supplement", "2026-03-02"),
    )
    assert d.reply_due == date(2026, 3, 30)  # 20 wd after Mon 03-02
    assert d.applicant_supplement_due is None


def test_supplement_lapsed_concludes() -> None:
    d = deadlines(
        FEB_10,
        ev("request_supplement", "2026-02-12", due_on="2026-02-27"),
        ev("supplement_lapsed", "2026-03-02"),
    )
    assert d.concluded


# -- extension (Art. 33) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "reply_due"),
    [
        (1, date(2026, 3, 17)),
        (10, date(2026, 3, 30)),
        (20, date(2026, 4, 14)),  # Qingming Mon 04-06 skipped
    ],
)
def test_extension_adds_exactly_n_working_days(days: int, reply_due: date) -> None:
    d = deadlines(FEB_10, ev("accept", "2026-02-10"), ev("extend", "2026-03-10", days=days))
    assert d.reply_due == reply_due
    assert CAL.working_days_between(date(2026, 3, 16), reply_due) == days


# -- pauses: consultations (Art. 32, 34) and fees (Art. 42) ---------------------------


@pytest.mark.parametrize(
    ("consult", "replied"),
    [("consult_third_party", "third_party_replied"), ("consult_agency", "agency_replied")],
)
def test_finished_consultation_adds_its_working_days(consult: str, replied: str) -> None:
    d = deadlines(
        APR_30,
        ev(consult, "2026-05-06"),
        ev(replied, "2026-05-13"),  # 05-07, 08, 09 (make-up Sat), 11, 12, 13: 6 wd
        today=date(2026, 5, 20),
    )
    assert d.reply_due == date(2026, 6, 9)  # 06-01 + 6 wd
    assert not d.paused
    assert d.consultation_due is None


@pytest.mark.parametrize("today", [date(2026, 5, 6), date(2026, 5, 11), date(2026, 5, 26)])
def test_running_consultation_pauses_at_most_until_the_partys_deadline(today: date) -> None:
    """Art. 32: the reply deadline during a consultation is the one a silent party leaves:
    06-01 + the 15 wd of the consultation (Dragon Boat 06-19 off) — it no longer slides."""
    d = deadlines(APR_30, ev("consult_third_party", "2026-05-06"), today=today)
    assert d.paused
    assert d.reply_due == date(2026, 6, 23)
    assert d.consultation_due == date(2026, 5, 26)  # 15 wd after 05-06
    assert d.fee_due is None


def test_forgotten_consultation_runs_again_and_becomes_overdue() -> None:
    consult = ev("consult_third_party", "2026-05-06")
    resumed = deadlines(APR_30, consult, today=date(2026, 5, 27))
    assert not resumed.paused  # the clock runs again from the party's deadline
    assert resumed.reply_due == date(2026, 6, 23)
    assert resumed.days_left(date(2026, 6, 22)) == 1
    assert deadlines(APR_30, consult, today=date(2026, 6, 24)).overdue(date(2026, 6, 24))


def test_no_reply_recorded_late_adds_only_the_partys_period() -> None:
    """G40: a silent party recorded months later pauses 15 wd, not the whole delay."""
    d = deadlines(
        APR_30,
        ev("consult_third_party", "2026-05-06"),
        ev("third_party_replied", "2026-07-15", opinion="no_reply"),
        today=date(2026, 7, 15),
    )
    assert d.reply_due == date(2026, 6, 23)
    assert d.overdue(date(2026, 7, 15))


def test_fee_notice_pauses_and_sets_payment_deadline() -> None:
    notice = ev("issue_fee_notice", "2026-03-02")
    running = deadlines(FEB_10, notice, today=date(2026, 3, 3))
    assert running.paused
    assert running.fee_due == date(2026, 3, 30)  # 20 wd after 03-02
    assert running.consultation_due is None
    assert running.reply_due == date(2026, 3, 17)  # 1 wd paused so far

    paid = deadlines(FEB_10, notice, ev("fee_paid", "2026-03-09"), today=date(2026, 4, 1))
    assert not paid.paused and paid.fee_due is None
    assert paid.reply_due == date(2026, 3, 23)  # 5 wd paused: 03-16 → 03-23


def test_fee_lapsed_concludes_and_freezes_the_clock() -> None:
    d = deadlines(
        FEB_10,
        ev("issue_fee_notice", "2026-03-02"),
        ev("fee_lapsed", "2026-03-31"),
        today=date(2026, 6, 1),
    )
    assert d.concluded and not d.paused
    assert d.reply_due == date(2026, 4, 15)  # 03-16 + 21 wd paused (Qingming 04-06 off)


# -- conclusion, reopening, voiding ---------------------------------------------------


@pytest.mark.parametrize("trigger", ["decide", "withdraw"])
def test_concluded_request_has_no_days_left(trigger: str) -> None:
    d = deadlines(FEB_10, ev(trigger, "2026-03-20"))
    assert d.concluded
    assert d.reply_due == date(2026, 3, 16)  # kept, so the decision can be judged late
    assert d.days_left(date(2026, 4, 1)) is None
    assert not d.overdue(date(2026, 4, 1))


def test_reopen_restarts_clock_and_forgets_earlier_extension() -> None:
    before = [ev("extend", "2026-03-02", days=10), ev("decide", "2026-03-20")]
    reopened = deadlines(FEB_10, *before, ev("reopen", "2026-04-01"))
    assert not reopened.concluded
    assert reopened.reply_due == date(2026, 4, 30)  # 20 wd from 04-01, Qingming skipped

    extended = deadlines(
        FEB_10, *before, ev("reopen", "2026-04-01"), ev("extend", "2026-04-20", days=5)
    )
    assert extended.reply_due == date(2026, 5, 11)  # Labour Day off, make-up Sat 05-09


def test_undone_reopen_gives_the_first_procedures_clock_back() -> None:
    """A reversed order: the first reply's deadline (with its extension) is the clock again."""
    before = [ev("extend", "2026-03-02", days=10), ev("decide", "2026-03-20")]
    first = deadlines(FEB_10, *before)
    reopened = [ev("reopen", "2026-04-01"), ev("extend", "2026-04-20", days=5)]
    undone = deadlines(
        FEB_10, *before, *reopened, ev("reopen_undone", "2026-06-01"), today=date(2026, 7, 1)
    )
    assert undone.concluded and not undone.overdue(date(2026, 7, 1))
    assert undone.reply_due == first.reply_due == date(2026, 3, 30)
    assert undone.trace == first.trace


def test_void_is_no_longer_anyones_deadline() -> None:
    d = deadlines(FEB_10, ev("void", "2026-02-11"))
    assert d.voided
    assert d.days_left(date(2026, 4, 1)) is None
    assert not d.overdue(date(2026, 4, 1))


def test_unknown_triggers_and_duck_typed_events() -> None:
    odd = SimpleNamespace(trigger="annotate", effective_date=date(2026, 2, 11), payload={})
    assert deadlines(FEB_10, odd).reply_due == date(2026, 3, 16)


# -- days left / overdue --------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "left", "overdue"),
    [
        (date(2026, 2, 10), 20, False),
        (date(2026, 3, 13), 1, False),  # Fri before a Monday deadline
        (date(2026, 3, 14), 1, False),  # Sat
        (date(2026, 3, 16), 0, False),  # due today
        (date(2026, 3, 17), -1, True),
        (date(2026, 3, 20), -4, True),
        (date(2026, 3, 23), -5, True),
    ],
)
def test_days_left_and_overdue(today: date, left: int, overdue: bool) -> None:
    d = deadlines(FEB_10)
    assert d.days_left(today) == left
    assert d.overdue(today) is overdue


@pytest.mark.parametrize("today", [date(2026, 3, 21), date(2026, 3, 22), date(2026, 3, 23)])
def test_deadline_missed_over_a_weekend_is_overdue_at_once(today: date) -> None:
    d = deadlines(FEB_10, ev("extend", "2026-03-02", days=4))
    assert d.reply_due == date(2026, 3, 20)  # a Friday
    assert d.days_left(today) == -1
    assert d.overdue(today)


# -- lateness -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "on", "expected"),
    [
        ("request_supplement", "2026-02-26", None),
        (
            "request_supplement",
            "2026-02-27",
            "补正告知晚于法定期限（收到申请后7个工作日，截止 2026-02-26）",
        ),
        ("decide", "2026-03-16", None),
        ("decide", "2026-03-17", "答复晚于法定期限（答复期限截止 2026-03-16）"),
        ("extend", "2026-03-16", None),
        (
            "extend",
            "2026-03-17",
            "延期决定晚于答复期限（延期须在答复期限内决定，截止 2026-03-16）",
        ),
        ("accept", "2026-12-31", None),
    ],
)
def test_lateness(trigger: str, on: str, expected: str | None) -> None:
    assert lateness(trigger, date.fromisoformat(on), deadlines(FEB_10)) == expected


def test_decision_is_not_late_when_no_reply_clock_runs() -> None:
    awaiting = deadlines(FEB_10, ev("request_supplement", "2026-02-12"))
    assert lateness("decide", date(2026, 12, 31), awaiting) is None


# -- the clock the projection stores (workflow.requests.clocks selects by it in SQL) -------------

_CLOCK_TRIGGERS = (
    "request_supplement",
    "receive_supplement",
    "extend",
    "consult_third_party",
    "third_party_replied",
    "consult_agency",
    "agency_replied",
    "issue_fee_notice",
    "fee_paid",
    "decide",
    "withdraw",
    "reopen",
    "reopen_undone",
    "void",
    "note",
)


@st.composite
def _histories(draw: st.DrawFn) -> tuple[date, list[Event]]:
    """Histories the state machine allows: each step from a state it may leave."""
    from workflow.catalog.states import State
    from workflow.requests.spec import SPEC_BY_TRIGGER

    received = draw(st.dates(date(2025, 12, 1), date(2027, 1, 31)))
    day, events, state = received, [], State.REGISTERED
    for _ in range(draw(st.integers(0, 8))):
        allowed = [
            t
            for t in _CLOCK_TRIGGERS
            if t not in SPEC_BY_TRIGGER or state in SPEC_BY_TRIGGER[t].sources
        ]
        if not allowed:
            break
        trigger = draw(st.sampled_from(allowed))
        day = day + timedelta(days=draw(st.integers(0, 20)))
        payload: dict[str, Any] = {"days": draw(st.integers(1, 20))} if trigger == "extend" else {}
        events.append(Event(trigger, day, payload))
        state = SPEC_BY_TRIGGER[trigger].dest if trigger in SPEC_BY_TRIGGER else state
    return received, events


@settings(max_examples=300, deadline=None)
@given(_histories(), st.integers(0, 120))
def test_stored_clock_agrees_with_the_full_computation(
    history: tuple[date, list[Event]], offset: int
) -> None:
    """A stored date is the deadline on every later day; only a running fee pause slides.

    This is what lets the workbench and the "overdue" filter trust the stored date
    without replaying the events (workflow.requests.clocks).
    """
    received, events = history
    log = [ev("register", received.isoformat()), *events]
    today = (events[-1].effective_date if events else received) + timedelta(days=offset)
    full = compute_deadlines(received, log, CAL, today)
    stored = stored_clock(received, log, CAL)
    open_clock = full.days_left(today) is not None
    if stored.reply_due is not None:  # the SQL selection by stored date is the whole answer
        assert open_clock and stored.reply_due == full.reply_due
        assert full.overdue(today) == (stored.reply_due < today)
    elif stored.paused:
        assert full.paused and full.fee_due is not None
    else:
        assert not open_clock
    if stored.paused:
        assert stored.pause_due == (full.consultation_due or full.fee_due)


@settings(max_examples=300, deadline=None)
@given(_histories(), st.integers(0, 120))
def test_every_trace_adds_up_to_its_deadline(
    history: tuple[date, list[Event]], offset: int
) -> None:
    """The explanation is the computation: each deadline is the sum of its steps, and the
    counted steps of the reply add up to the period (20 wd plus a timely extension)."""
    received, events = history
    log = [ev("register", received.isoformat()), *events]
    today = (events[-1].effective_date if events else received) + timedelta(days=offset)
    full = compute_deadlines(received, log, CAL, today)
    for name in DEADLINE_NAMES:
        assert trace_total(full, name) == getattr(full, name)
        steps = full.trace.get(name, ())
        assert bool(steps) == (getattr(full, name) is not None)
        assert (name in full.provisional) == any(s.kind == "provisional" for s in steps)
    reply = full.trace.get("reply_due", ())
    counted = sum(s.working_days for s in reply if s.kind == "count")
    extended = sum(
        int(s.text.split("延长")[1].split("个")[0]) for s in reply if s.kind == "extension"
    )
    assert (
        not reply
        or counted in (20 + extended, 15 + extended)
        or any(s.kind == "start" and "决定书" in s.text for s in reply)
    )
