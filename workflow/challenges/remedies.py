"""Remedy time limits the system shows (docs/domain.md §4–§5; Art. 51 of the Regulation).

Calendar days, not working days: 60 days for reconsideration and 6 months for a lawsuit
from the day the applicant learns of the reply (its service date when recorded, else the
reply date), and 15 days for a lawsuit from the service of a reconsideration decision.

A period whose last day is a rest day runs to the next working day (行政复议法 Art. 88
para 1 and 行政诉讼法 Art. 101, both applying 民事诉讼法 Art. 85 para 2 —
"期间届满的最后一日是法定休假日的，以法定休假日后的第一日为期间届满的日期"); a make-up
working day is a working day. Where a reply did not state the remedies, the applicant's
period runs at most one year from learning of it (行政复议法 Art. 20 para 3).
"""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from workflow.catalog.challenges import (
    LAWSUIT_AFTER_RECONSIDERATION_DAYS,
    LAWSUIT_MONTHS,
    RECONSIDERATION_DAYS,
    RECONSIDERATION_DECISION_DAYS,
    RECONSIDERATION_FIRST_FROM,
)
from workflow.catalog.outcomes import OUTCOME_BY_CODE
from workflow.kernel.calendar import DEFAULT_CALENDAR, WorkingCalendar
from workflow.kernel.guards import EventLike
from workflow.requests.spec import DECISION_TRIGGERS

#: 行政复议法 Art. 62 para 2: an OGI case (Art. 53 para 1 item 4) may be heard in the
#: simplified procedure, decided within 30 days of acceptance.
SIMPLIFIED_DECISION_DAYS = 30
#: 行政复议法 Art. 20 para 3: remedies not stated → at most one year from learning of it.
OUTER_LIMIT_YEARS = 1


def reconsideration_first(outcome_code: str | None, decided_on: date) -> bool:
    """Whether the applicant must apply for reconsideration before suing.

    行政复议法 (2023) Art. 23 para 1 item (四): "申请政府信息公开，行政机关不予公开" goes
    to reconsideration first, for decisions dated from 2024-01-01 (the law's entry into
    force; the reading for older decisions is in docs/domain.md §19). The
    outcome catalogue says which outcomes are refusals in this sense: every 不予公开 but
    the 36(七) referral, and 部分公开, whose withheld part is a refusal. (四)/(五) outcomes
    are not, a contested point documented in docs/domain.md §19.
    """
    outcome = OUTCOME_BY_CODE.get(outcome_code or "")
    if outcome is None or not outcome.reconsideration_first:
        return False
    return decided_on >= date.fromisoformat(RECONSIDERATION_FIRST_FROM)


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (31 Aug + 6 months = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def period_end(day: date, calendar: WorkingCalendar) -> date:
    """``day`` as the last day of a period, moved past rest days (民事诉讼法 Art. 85)."""
    while not calendar.is_workday(day):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class RemedyDeadlines:
    learned_on: date
    reconsideration_by: date
    lawsuit_by: date
    #: Set when the reply stated no remedies (no reply notice issued by the system).
    outer_limit_by: date | None = None


def reply_remedies(
    events: Sequence[EventLike],
    served_on: date | None = None,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
    *,
    remedies_stated: bool = True,
) -> RemedyDeadlines | None:
    """Deadlines from the latest reply (decide) of a request, or None before any reply.

    ``served_on`` is the service date recorded later on the reply notice: the decide
    event is append-only, so the date the applicant received the reply lives there and
    takes precedence over a ``served_on`` carried in the event's payload (imports).
    """
    replies = [e for e in events if e.trigger in DECISION_TRIGGERS]
    if not replies:
        return None
    reply = replies[-1]
    served = reply.payload.get("served_on")
    learned = served_on or (date.fromisoformat(served) if served else reply.effective_date)
    outer = None
    if not remedies_stated:
        outer = period_end(add_months(learned, 12 * OUTER_LIMIT_YEARS), calendar)
    return RemedyDeadlines(
        learned,
        period_end(learned + timedelta(days=RECONSIDERATION_DAYS), calendar),
        period_end(add_months(learned, LAWSUIT_MONTHS), calendar),
        outer,
    )


def lawsuit_after_reconsideration_by(
    served_on: date, calendar: WorkingCalendar = DEFAULT_CALENDAR
) -> date:
    """行政诉讼法 Art. 45: 15 days from receipt (service) of the reconsideration decision."""
    return period_end(served_on + timedelta(days=LAWSUIT_AFTER_RECONSIDERATION_DAYS), calendar)


def reconsideration_decision_by(
    accepted_on: date, calendar: WorkingCalendar = DEFAULT_CALENDAR, *, simplified: bool = False
) -> date:
    """The 复议机关's decision period (行政复议法 Art. 62): 60 days, or 30 when simplified."""
    days = SIMPLIFIED_DECISION_DAYS if simplified else RECONSIDERATION_DECISION_DAYS
    return period_end(accepted_on + timedelta(days=days), calendar)


#: The agency's own time limits in a challenge (it is the 被申请人 / 被告).
RECONSIDERATION_ANSWER_WD = 10  # 行政复议法 Art. 48 (工作日: Art. 88 para 2)
RECONSIDERATION_ANSWER_SIMPLIFIED_WD = 5  # 行政复议法 Art. 54
COURT_DEFENCE_DAYS = 15  # 行政诉讼法 Art. 67
APPEAL_DAYS_JUDGMENT = 15  # 行政诉讼法 Art. 85
APPEAL_DAYS_RULING = 10  # 行政诉讼法 Art. 85
#: The appellee's answer to an appeal: 15 days from receiving its copy (行政诉讼法 Art. 101
#: applying the 民事诉讼法's rule on the answer to an appeal).
APPEAL_ANSWER_DAYS = 15
#: Results that are rulings (裁定), whose appeal period is 10 days.
RULING_RESULTS: frozenset[str] = frozenset({"suit_rejected"})


@dataclass(frozen=True)
class AgencyDeadline:
    label: str
    day: date
    note: str


def agency_deadlines(
    kind: str,
    instance: str,
    pending: bool,
    copy_received_on: date | None,
    opened_on: date,
    decided: tuple[date, date | None, str] | None,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
) -> list[AgencyDeadline]:
    """What the agency itself must do by when in a case.

    ``decided`` is (decision date, its service date if recorded, result code) of the
    latest result. The copy of the application or complaint is presumed received on the
    filing date until its date is recorded.
    """
    received = copy_received_on or opened_on
    presumed = "" if copy_received_on else "（副本收到日期未记录，按立案日期推定）"
    found: list[AgencyDeadline] = []
    if pending and kind == "reconsideration":
        simplified = calendar.add_working_days(received, RECONSIDERATION_ANSWER_SIMPLIFIED_WD)
        found.append(
            AgencyDeadline(
                "本机关提交复议答复及证据",
                calendar.add_working_days(received, RECONSIDERATION_ANSWER_WD).day,
                f"收到申请书副本之日起{RECONSIDERATION_ANSWER_WD}个工作日（《行政复议法》第四十八条）；"
                f"简易程序{RECONSIDERATION_ANSWER_SIMPLIFIED_WD}个工作日，至"
                f"{simplified.day.isoformat()}（第五十四条）；逾期视为没有证据（第七十条）{presumed}",
            )
        )
    elif pending and instance == "first":
        found.append(
            AgencyDeadline(
                "本机关提交答辩状及证据",
                period_end(received + timedelta(days=COURT_DEFENCE_DAYS), calendar),
                f"收到起诉状副本之日起{COURT_DEFENCE_DAYS}日（《行政诉讼法》第六十七条）{presumed}",
            )
        )
    elif pending and instance == "second" and copy_received_on:
        # Only recorded when the other party appealed: the agency answers as 被上诉人.
        found.append(
            AgencyDeadline(
                "本机关提交二审答辩状",
                period_end(copy_received_on + timedelta(days=APPEAL_ANSWER_DAYS), calendar),
                f"收到上诉状副本之日起{APPEAL_ANSWER_DAYS}日（《行政诉讼法》第一百零一条"
                "适用《民事诉讼法》关于上诉答辩的规定）",
            )
        )
    elif not pending and kind == "litigation" and instance == "first" and decided:
        decided_on, served_on, result = decided
        days = APPEAL_DAYS_RULING if result in RULING_RESULTS else APPEAL_DAYS_JUDGMENT
        what = "裁定" if result in RULING_RESULTS else "判决"
        start = served_on or decided_on
        since = "送达" if served_on else "作出（送达日期未记录）"
        found.append(
            AgencyDeadline(
                "本机关上诉期限",
                period_end(start + timedelta(days=days), calendar),
                f"一审{what}{since}之日起{days}日（《行政诉讼法》第八十五条）",
            )
        )
    return found
