"""Golden tables for the clock rules of docs/domain.md §3.11: receipt → events → each
deadline, on the real 2019–2026 arrangements and an unannounced 2027.

Every expected date was counted independently (a day-by-day walk over the State
Council arrangement as shipped by ``chinesecalendar``, not through workflow.requests.deadlines),
and the ones named in the audit (G38–G48, B4, B9) were checked by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from workflow.kernel.calendar import DEFAULT_CALENDAR
from workflow.requests.deadlines import (
    Deadlines,
    compute_deadlines,
    lateness,
    stored_clock,
    trace_total,
)

CAL = DEFAULT_CALENDAR
APR_30 = date(2026, 4, 30)  # reply due 06-01 (Labour Day, make-up Sat 05-09)


@dataclass(frozen=True)
class Event:
    trigger: str
    effective_date: date
    payload: Mapping[str, Any] = field(default_factory=dict)


def ev(trigger: str, iso: str, **payload: Any) -> Event:
    return Event(trigger, date.fromisoformat(iso), payload)


def clocks(
    received: date, *events: Event, today: date | None = None, served: dict[int, date] | None = None
) -> Deadlines:
    """``served`` is keyed by the position of the event among ``events`` (1-based after
    the register event, as in the log)."""
    log = [ev("register", received.isoformat()), *events]
    return compute_deadlines(received, log, CAL, today or log[-1].effective_date, served)


# -- every year's holidays: notice and reply deadlines from receipt -------------------


@pytest.mark.parametrize(
    ("received", "notice_due", "reply_due"),
    [
        ("2019-05-15", "2019-05-24", "2019-06-13"),  # first day of the 2019 Regulation
        ("2019-09-27", "2019-10-12", "2019-10-30"),  # National Day, make-up Sat 10-12
        ("2019-12-20", "2019-12-31", "2020-01-19"),  # year boundary, make-up Sun 01-19
        ("2020-01-16", "2020-02-03", "2020-02-20"),  # Spring Festival extended to 02-02
        ("2020-04-28", "2020-05-11", "2020-05-28"),  # Labour Day, make-up Sat 05-09
        ("2021-02-05", "2021-02-20", "2021-03-10"),  # make-up Sat 02-20 is the deadline
        ("2021-09-16", "2021-09-27", "2021-10-20"),  # Mid-Autumn and National Day
        ("2022-01-25", "2022-02-08", "2022-02-25"),
        ("2022-09-28", "2022-10-12", "2022-10-31"),
        ("2023-01-13", "2023-01-29", "2023-02-15"),  # make-up Sun 01-29
        ("2023-04-25", "2023-05-08", "2023-05-25"),
        ("2024-02-02", "2024-02-18", "2024-03-06"),  # make-up Sun 02-18
        ("2024-09-25", "2024-10-10", "2024-10-28"),
        ("2024-12-20", "2024-12-31", "2025-01-20"),
        ("2025-01-20", "2025-02-05", "2025-02-21"),  # 2025 rules: 除夕 a holiday
        ("2025-04-27", "2025-05-09", "2025-05-28"),  # Labour Day 05-01..05
        ("2025-09-26", "2025-10-13", "2025-10-30"),
        ("2026-02-10", "2026-02-26", "2026-03-16"),
        ("2026-09-24", "2026-10-12", "2026-10-29"),
    ],
)
def test_notice_and_reply_deadlines_every_year(
    received: str, notice_due: str, reply_due: str
) -> None:
    d = clocks(date.fromisoformat(received))
    assert d.supplement_notice_due == date.fromisoformat(notice_due)
    assert d.reply_due == date.fromisoformat(reply_due)
    assert not d.provisional


# -- 1. a silent consulted party pauses for at most its own period --------------------


def test_prompt_no_reply_adds_the_fifteen_days_only() -> None:
    """G38: the day after the party's deadline is the first day silence can be recorded;
    it no longer adds a 16th paused day."""
    d = clocks(
        APR_30,
        ev("consult_agency", "2026-05-06"),
        ev("agency_replied", "2026-05-27", opinion="no_reply"),
    )
    assert d.reply_due == date(2026, 6, 23)  # 06-01 + 15 wd (Dragon Boat 06-19 off)


def test_a_forgotten_consultation_is_stored_with_its_latest_deadline() -> None:
    """G48: listed under overdue and on the workbench from the SQL date alone."""
    log = [ev("register", "2026-04-30"), ev("consult_third_party", "2026-05-06")]
    stored = stored_clock(APR_30, log, CAL)
    assert stored.reply_due == date(2026, 6, 23)
    assert stored.paused and stored.pause_due == date(2026, 5, 26)


def test_a_consultation_after_the_deadline_revives_nothing() -> None:
    d = clocks(
        APR_30,
        ev("consult_third_party", "2026-06-03"),
        ev("third_party_replied", "2026-06-10", opinion="agree"),
    )
    assert d.reply_due == date(2026, 6, 1)
    kinds = [s.kind for s in d.trace["reply_due"]]
    assert "pause_ignored" in kinds and "pause" not in kinds


def test_fee_pause_slides_but_is_listed_once_the_applicant_deadline_passes() -> None:
    log = [ev("register", "2026-02-10"), ev("issue_fee_notice", "2026-03-02")]
    stored = stored_clock(date(2026, 2, 10), log, CAL)
    assert stored.reply_due is None and stored.paused
    assert stored.pause_due == date(2026, 3, 30)


# -- 2. the other side's time runs from its receipt ----------------------------------


def test_consultation_by_post_is_presumed_received_three_days_later() -> None:
    d = clocks(APR_30, ev("consult_third_party", "2026-05-06", delivery="post"))
    assert d.consultation_due == date(2026, 5, 29)  # 15 wd after Sat 05-09
    assert d.reply_due == date(2026, 6, 26)
    assert d.presumed == {"consultation_due", "reply_due"}
    assert "推定" in d.trace["consultation_due"][0].text


def test_recorded_service_date_replaces_the_presumption() -> None:
    d = clocks(
        APR_30,
        ev("consult_third_party", "2026-05-06", delivery="post"),
        served={1: date(2026, 5, 12)},
    )
    assert d.consultation_due == date(2026, 6, 2)
    assert d.reply_due == date(2026, 6, 30)
    assert not d.presumed
    assert "已记录" in d.trace["consultation_due"][0].text


def test_fee_deadline_counts_from_the_day_after_receipt() -> None:
    electronic = clocks(
        date(2026, 2, 10), ev("issue_fee_notice", "2026-03-02", delivery="electronic")
    )
    assert electronic.fee_due == date(2026, 3, 30)
    posted = clocks(date(2026, 2, 10), ev("issue_fee_notice", "2026-03-02", delivery="post"))
    assert posted.fee_due == date(2026, 4, 2)  # received Thu 03-05


# -- 3. no extension after the deadline ----------------------------------------------


def test_a_late_extension_changes_nothing_and_the_decision_stays_late() -> None:
    """B4: received 10-15, due 11-12; an extension on 11-20 (approver override)."""
    received = date(2026, 10, 15)
    late = ev("extend", "2026-11-20", days=20, approver="shenhe", late_reason="漏报")
    d = clocks(received, late, today=date(2026, 12, 2))
    assert d.reply_due == date(2026, 11, 12)
    assert d.late_extension and d.overdue(date(2026, 12, 2))
    assert lateness("decide", date(2026, 12, 2), d) == "答复晚于法定期限（答复期限截止 2026-11-12）"
    assert [s.kind for s in d.trace["reply_due"]][1] == "extension_late"


def test_an_extension_on_the_last_day_counts() -> None:
    d = clocks(date(2026, 10, 15), ev("extend", "2026-11-12", days=5, approver="shenhe"))
    assert d.reply_due == date(2026, 11, 19) and not d.late_extension


# -- 7. receipts under the 2008 Regulation -------------------------------------------


def test_receipt_before_15_may_2019_runs_on_the_2008_clock() -> None:
    d = clocks(date(2019, 4, 1))
    assert d.reply_due == date(2019, 4, 23)  # 15 wd, Qingming 04-05 off
    assert d.supplement_notice_due is None and d.extension_limit == 15
    extended = clocks(date(2019, 4, 1), ev("extend", "2019-04-20", days=15, approver="a"))
    assert extended.reply_due == date(2019, 5, 15)  # May Day 05-01..04, make-up 05-05
    assert lateness("request_supplement", date(2019, 4, 30), d) is None


def test_the_day_before_the_2019_regulation() -> None:
    d = clocks(date(2019, 5, 14))
    assert d.reply_due == date(2019, 6, 4) and d.extension_limit == 15
    assert clocks(date(2019, 5, 15)).extension_limit == 20


# -- 8. provisional per deadline ------------------------------------------------------


def test_only_a_deadline_in_the_unannounced_year_is_provisional() -> None:
    """B9: the 补正 deadline 2026-12-14 rests on 2026 alone."""
    d = clocks(date(2026, 12, 3), ev("extend", "2026-12-10", days=20, approver="shenhe"))
    assert d.supplement_notice_due == date(2026, 12, 14)
    assert d.provisional == {"reply_due"}
    assert d.trace["reply_due"][-1].kind == "provisional"
    assert "2027年" in d.trace["reply_due"][-1].text


# -- 4. reopen with the time limit the decision fixes -------------------------------


def test_reopen_uses_the_ordered_time_limit() -> None:
    d = clocks(
        date(2026, 2, 10),
        ev("decide", "2026-03-10", outcome="withheld.state_secret"),
        ev("reopen", "2026-06-01", order="某府复决〔2026〕1号", due_on="2026-06-30"),
    )
    assert d.reply_due == date(2026, 6, 30) and not d.concluded
    assert "决定书要求" in d.trace["reply_due"][0].text


# -- 9. the trace explains the count --------------------------------------------------


def test_trace_names_rest_days_make_up_days_and_pauses() -> None:
    d = clocks(
        APR_30,
        ev("consult_third_party", "2026-05-06"),
        ev("third_party_replied", "2026-05-13", opinion="agree"),
    )
    steps = d.trace["reply_due"]
    assert [s.kind for s in steps] == ["start", "count", "pause", "count"]
    assert "2026-05-01至2026-05-05" in steps[1].text  # Labour Day passed over
    assert "2026-05-09" in steps[2].text or steps[2].paused_days == 6  # make-up Sat paused
    assert steps[2].paused_days == 6
    assert sum(s.working_days for s in steps) == 20
    assert trace_total(d, "reply_due") == d.reply_due == date(2026, 6, 9)
