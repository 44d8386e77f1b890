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

from workflow.calendar import DEFAULT_CALENDAR, WorkingCalendar
from workflow.catalog.challenges import (
    LAWSUIT_AFTER_RECONSIDERATION_DAYS,
    LAWSUIT_MONTHS,
    RECONSIDERATION_DAYS,
    RECONSIDERATION_DECISION_DAYS,
)
from workflow.guards import EventLike

#: 行政复议法 Art. 62 para 2: an OGI case (Art. 53 para 1 item 4) may be heard in the
#: simplified procedure, decided within 30 days of acceptance.
SIMPLIFIED_DECISION_DAYS = 30
#: 行政复议法 Art. 20 para 3: remedies not stated → at most one year from learning of it.
OUTER_LIMIT_YEARS = 1


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
    replies = [e for e in events if e.trigger == "decide"]
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
