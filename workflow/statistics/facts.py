"""The per-request facts every statistic needs, derived purely from the event log.

The annual tables (docs/domain.md §6) never look at a request's *current* state: they ask when it
was received, when it was concluded for the report, under which outcome, and whether it
was voided. This module answers those questions from the events alone, so the reference
fold (``workflow.statistics.fold``), a SQL fast path and a projection rebuild all agree on the
same four facts.

Rules:

* **The first conclusion counts.** A request is concluded on the effective date of its
  first concluding event: ``decide`` (outcome ``payload["outcome"]``) or one of
  ``supplement_lapsed`` / ``fee_lapsed`` / ``withdraw`` (outcome from
  ``OUTCOME_OF_TRIGGER``). docs/domain.md §3 says ``concluded`` is final for statistics: a later
  ``reopen`` (ordered by a reconsideration body or a court) and the new ``decide`` after
  it stay in the log but are not counted again. The request is never counted twice and
  the year it was first concluded in keeps the numbers it published.
* **A void erases the request from every statistic.** ``void`` means "registered in
  error"; any ``void`` event sets ``voided`` and the request counts nowhere, in any year
  — also in years before the void was recorded (a published report is frozen anyway and
  shows its difference to a fresh derivation).
* **Order.** Events are considered by effective date; events on the same date keep the
  order given (the log order). Sorting makes the result independent of how a caller
  fetched the rows.

Nothing here validates the lifecycle (the state machine does that when events are
recorded); a ``decide`` without a known outcome code is the one thing refused, because it
cannot be placed in any table row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from workflow.catalog.outcomes import OUTCOME_BY_CODE, OUTCOME_OF_TRIGGER
from workflow.requests.office import corrected
from workflow.requests.spec import CONCLUDING_TRIGGERS, DECISION_TRIGGERS


class EventLike(Protocol):
    """What the facts need of an event: an ORM row, a dataclass or a test double.

    Read-only properties, so frozen dataclasses and named tuples satisfy it too.
    """

    @property
    def trigger(self) -> str: ...

    @property
    def effective_date(self) -> date: ...

    @property
    def payload(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class RequestFacts:
    """Everything table 三 needs to know about one request.

    ``concluded_on`` and ``outcome`` describe the *first* conclusion and are either both
    set or both ``None`` (still open).
    """

    received_on: date
    concluded_on: date | None
    outcome: str | None
    voided: bool = False

    def __post_init__(self) -> None:
        if (self.concluded_on is None) != (self.outcome is None):
            raise ValueError("concluded_on and outcome must be given together")
        if self.outcome is not None and self.outcome not in OUTCOME_BY_CODE:
            raise ValueError(f"未知的处理结果代码：{self.outcome}")


def outcome_of(event: EventLike) -> str | None:
    """The outcome code an event concludes with, or ``None`` if it does not conclude.

    Raises ``ValueError`` for a ``decide`` without a known outcome: such a request could
    not be placed in any row, and silently dropping it would break 一+二=三+四.
    """
    if event.trigger in DECISION_TRIGGERS:
        code = event.payload.get("outcome")
        if not isinstance(code, str) or code not in OUTCOME_BY_CODE:
            raise ValueError(f"作出答复事件缺少有效的处理结果代码：{code!r}")
        return code
    return OUTCOME_OF_TRIGGER.get(event.trigger)


def first_conclusion(events: Sequence[EventLike]) -> EventLike | None:
    """The event that concludes the request for the statistics: the first concluding
    event by effective date (log order breaking ties), or ``None`` while open."""
    for event in sorted(events, key=lambda e: e.effective_date):
        if event.trigger in CONCLUDING_TRIGGERS:
            return event
    return None


def facts_from_events(received_on: date, events: Sequence[EventLike]) -> RequestFacts:
    """Derive a request's statistical facts from its whole event log (see module rules)."""
    # Corrections (更正) apply first: the statistics follow the corrected values.
    events = list(corrected(events))
    voided = any(event.trigger == "void" for event in events)
    first = first_conclusion(events)
    if first is None:
        return RequestFacts(received_on, None, None, voided)
    return RequestFacts(received_on, first.effective_date, outcome_of(first), voided)


@dataclass(frozen=True)
class ReplyFacts:
    """How the request was answered, for the supervisor's view (docs/domain.md §17).

    Only a ``decide`` is a reply (答复): a withdrawal or a lapse concludes the request
    without one. ``days`` are the working days from receipt to the reply (``start <
    d <= reply``, the calendar's own convention, pauses not subtracted: the time the
    applicant waited); ``late`` is whether the reply was recorded after its deadline
    (the ``late`` note the workflow wrote on the event at the time).
    """

    days: int | None
    late: bool


def reply_facts(
    received_on: date, events: Sequence[EventLike], working_days: Callable[[date, date], int]
) -> ReplyFacts:
    """The first conclusion's reply facts; ``working_days`` is the calendar's
    ``working_days_between`` (passed in, so this stays free of the store)."""
    first = first_conclusion(list(corrected(events)))
    if first is None or first.trigger != "decide":
        return ReplyFacts(None, False)
    return ReplyFacts(
        working_days(received_on, first.effective_date), bool(first.payload.get("late"))
    )


def facts_as_of(received_on: date, events: Sequence[EventLike], as_of: date) -> RequestFacts:
    """The facts as they stood on ``as_of``: events effective after it are ignored.

    The annual fold does not need this (only the first conclusion counts, and comparing
    its date with the year's bounds already ignores everything later). It is here for
    "what did the log say on that day" questions; note that it also ignores a later
    ``void``, whereas the statistics treat a void as retroactive.
    """
    return facts_from_events(received_on, [e for e in events if e.effective_date <= as_of])
