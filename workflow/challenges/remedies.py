"""Remedy time limits the system shows (docs/domain.md §4–§5; Art. 51 of the Regulation).

Calendar days, not working days: 60 days for reconsideration and 6 months for a lawsuit
from the day the applicant learns of the reply (its service date when recorded, else the
reply date), and 15 days for a lawsuit after a reconsideration decision.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from workflow.catalog.challenges import (
    LAWSUIT_AFTER_RECONSIDERATION_DAYS,
    LAWSUIT_MONTHS,
    RECONSIDERATION_DAYS,
)
from workflow.kernel.guards import EventLike


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (31 Aug + 6 months = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class RemedyDeadlines:
    learned_on: date
    reconsideration_by: date
    lawsuit_by: date


def reply_remedies(
    events: Sequence[EventLike], served_on: date | None = None
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
    return RemedyDeadlines(
        learned,
        learned + timedelta(days=RECONSIDERATION_DAYS),
        add_months(learned, LAWSUIT_MONTHS),
    )


def lawsuit_after_reconsideration_by(decided_on: date) -> date:
    return decided_on + timedelta(days=LAWSUIT_AFTER_RECONSIDERATION_DAYS)
