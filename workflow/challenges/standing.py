"""A case as its log tells it (pure): when its current instance began, its latest result.

Shared by the case pages and the reminders, so both read a case the same way: an
appeal or a remand starts a new instance; the latest result counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from workflow.catalog.challenges import RESULT_BY_CODE, ChallengeResult
from workflow.challenges.remedies import AgencyDeadline, agency_deadlines
from workflow.kernel.calendar import WorkingCalendar
from workflow.kernel.guards import EventLike


@dataclass(frozen=True)
class Standing:
    """A case as its log tells it: when the current instance began, its latest result."""

    opened_on: date
    concluded_on: date | None
    result: ChallengeResult | None
    #: When the latest decision was served, if recorded with it.
    served_on: date | None = None
    #: When the agency received the application's or complaint's copy, if recorded.
    copy_received_on: date | None = None
    result_code: str | None = None
    #: Back at first instance after a 二审 remand (no new 答辩状 period of its own).
    remanded: bool = False


def standing_of(filed_on: date, events: Sequence[EventLike]) -> Standing:
    """Fold a case's log: an appeal or remand starts a new instance; the latest result counts."""
    opened, concluded, result, served = filed_on, None, None, None
    copy: date | None = None
    remanded = False
    for event in events:
        if event.trigger in ("file", "appeal", "remand"):
            opened, concluded, served = event.effective_date, None, None
            given = event.payload.get("copy_received_on")
            copy = date.fromisoformat(given) if given else None
            remanded = event.trigger == "remand"
            if remanded:
                result = RESULT_BY_CODE.get(str(event.payload.get("result", "")))
        elif event.trigger == "conclude":
            concluded = event.effective_date
            result = RESULT_BY_CODE.get(str(event.payload.get("result", "")))
            given = event.payload.get("served_on")
            served = date.fromisoformat(given) if given else None
            remanded = False
    return Standing(
        opened, concluded, result, served, copy, result.code if result else None, remanded
    )


def own_deadlines(
    kind: str, instance: str, pending: bool, found: Standing, calendar: WorkingCalendar
) -> list[AgencyDeadline]:
    """The agency's own deadlines in a case as it stands (remedies.agency_deadlines); none
    while a remanded case is retried (the first instance's written defence continues)."""
    if found.remanded:
        return []
    decided = (
        (found.concluded_on, found.served_on, found.result_code or "")
        if found.concluded_on
        else None
    )
    return agency_deadlines(
        kind, instance, pending, found.copy_received_on, found.opened_on, decided, calendar
    )


def own_deadline_span(
    kind: str,
    instance: str,
    state: str,
    filed_on: date,
    events: Sequence[EventLike],
    calendar: WorkingCalendar,
) -> tuple[date | None, date | None]:
    """The first and the last of the agency's own deadlines in a case (:func:`own_deadlines`
    of its log), or ``(None, None)``: what the case row stores so that the cases with a
    deadline due (``workflow.challenges.agenda.case_deadline_due``) are found in SQL."""
    if state == "voided":
        return None, None
    found = standing_of(filed_on, events)
    days = [d.day for d in own_deadlines(kind, instance, state == "pending", found, calendar)]
    return (min(days), max(days)) if days else (None, None)
