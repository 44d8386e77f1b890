"""Everything a user is reminded of: their requests (workflow.requests.reminders) and the
agency's own deadlines in its reconsideration and court cases.

Here, not in ``workflow.requests``, because it reads both requests and cases and the
challenges package already stands on the requests package. The count on the navigation
bar and the list behind it (/reminders) are computed by the same functions (the request
statement, the case fold), so they cannot disagree. Whose cases: a handler's, the cases
on their requests; an approver's or a legal officer's, all of the agency's
(``workflow.requests.reminders.Whose``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models import Challenge, ChallengeEvent, Request
from workflow.challenges.standing import own_deadlines, standing_of
from workflow.kernel.calendar import WorkingCalendar
from workflow.requests.reminders import (
    DueLine,
    ReminderItem,
    Whose,
    request_count,
    request_items,
)

#: Calendar days ahead within which the agency's own challenge deadlines are listed.
CASE_AHEAD_DAYS = 10
#: Cases filed longer ago than this are not looked at (their deadlines are long past).
CASE_LOOKBACK_DAYS = 730


def case_logs(session: Session, cases: Sequence[Challenge]) -> dict[int, list[ChallengeEvent]]:
    """Each case's events in order, read for all ``cases`` in one query (a list page must
    not read one log per row)."""
    logs: dict[int, list[ChallengeEvent]] = defaultdict(list)
    if cases:
        for event in session.scalars(
            select(ChallengeEvent)
            .where(ChallengeEvent.challenge_id.in_([c.id for c in cases]))
            .order_by(ChallengeEvent.challenge_id, ChallengeEvent.seq)
        ):
            logs[event.challenge_id].append(event)
    return logs


def case_deadline_due(day: date, pending: bool, today: date) -> bool:
    """Whether an agency deadline in a case is to be acted on: within ``CASE_AHEAD_DAYS``,
    or passed while the case is pending (a passed appeal period of a decided case is not)."""
    return day <= today + timedelta(days=CASE_AHEAD_DAYS) and (pending or day >= today)


def due_cases(agency_ids: Sequence[int], today: date) -> Select[tuple[Challenge]]:
    """The cases of ``agency_ids`` that may have a deadline of the agency's own due today
    (:func:`case_deadline_due`), selected by their stored deadline span
    (``workflow.challenges.due_dates``): the first is due within ``CASE_AHEAD_DAYS`` and,
    unless the case is pending, the last has not passed. Which of each case's deadlines
    are due is then read from its log, by the caller. Earliest first deadline first: no
    due deadline of a case is earlier than its first, so a caller may read a batch."""
    c = Challenge
    return (
        select(c)
        .where(c.agency_id.in_(list(agency_ids)), c.state != "voided")
        .where(c.agency_due_first <= today + timedelta(days=CASE_AHEAD_DAYS))
        .where((c.state == "pending") | (c.agency_due_last >= today))
        .where(c.filed_on >= today - timedelta(days=CASE_LOOKBACK_DAYS))
        .order_by(c.agency_due_first, c.id)
    )


def _case_items(
    session: Session, whose: Whose, today: date, calendar: WorkingCalendar
) -> list[ReminderItem]:
    """The agency's own deadlines in its cases (复议答复, 答辩状, its appeal period) within
    ``CASE_AHEAD_DAYS``, or passed while the case is pending."""
    stmt = due_cases([whose.agency_id], today)
    if whose.case_handler_id is not None:
        stmt = stmt.join(Request, Request.id == Challenge.request_id).where(
            Request.handler_id == whose.case_handler_id
        )
    cases = list(session.scalars(stmt))
    logs = case_logs(session, cases)
    items = []
    for case in cases:
        pending = case.state == "pending"
        found = standing_of(case.filed_on, logs[case.id])
        lines = tuple(
            DueLine(d.label, d.day, d.day < today)
            for d in own_deadlines(case.kind, case.instance, pending, found, calendar)
            if case_deadline_due(d.day, pending, today)
        )
        if lines:
            items.append(ReminderItem("challenge", case.id, case.case_no, case.body, lines))
    return items


@dataclass(frozen=True)
class Reminders:
    requests: list[ReminderItem]
    cases: list[ReminderItem]

    @property
    def count(self) -> int:
        return len(self.requests) + len(self.cases)


def reminders_for(
    session: Session, whose: Whose, today: date, calendar: WorkingCalendar
) -> Reminders:
    """Everything ``whose`` is reminded of today, most urgent first."""
    cases = sorted(_case_items(session, whose, today, calendar), key=lambda i: (i.first_due, i.id))
    return Reminders(request_items(session, whose, today, calendar), cases)


def reminder_count(session: Session, whose: Whose, today: date, calendar: WorkingCalendar) -> int:
    """The count on the navigation bar: :func:`reminders_for`'s items, counted by the same
    statement (requests) and the same fold (cases)."""
    return request_count(session, whose, today, calendar) + len(
        _case_items(session, whose, today, calendar)
    )
