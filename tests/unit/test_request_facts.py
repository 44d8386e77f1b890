"""Facts a request contributes to the statistics, derived from its events alone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from workflow.statistics.facts import RequestFacts, facts_as_of, facts_from_events, outcome_of


@dataclass(frozen=True)
class Ev:
    trigger: str
    effective_date: date
    payload: Mapping[str, Any] = field(default_factory=dict)


def decide(on: date, outcome: str) -> Ev:
    return Ev("decide", on, {"outcome": outcome})


RECEIVED = date(2019, 3, 1)


def test_open_request_has_no_conclusion() -> None:
    events = [Ev("register", RECEIVED), Ev("accept", RECEIVED), Ev("extend", date(2019, 3, 20))]
    assert facts_from_events(RECEIVED, events) == RequestFacts(RECEIVED, None, None, False)


def test_decide_concludes_with_its_payload_outcome() -> None:
    events = [Ev("register", RECEIVED), decide(date(2019, 3, 15), "partially_disclosed")]
    facts = facts_from_events(RECEIVED, events)
    assert facts == RequestFacts(RECEIVED, date(2019, 3, 15), "partially_disclosed", False)


@pytest.mark.parametrize(
    ("trigger", "outcome"),
    [
        ("supplement_lapsed", "other.supplement_lapsed"),
        ("fee_lapsed", "other.fee_lapsed"),
        ("withdraw", "other.other"),
    ],
)
def test_lifecycle_conclusions_take_their_outcome_from_the_catalogue(
    trigger: str, outcome: str
) -> None:
    facts = facts_from_events(RECEIVED, [Ev("register", RECEIVED), Ev(trigger, date(2019, 4, 2))])
    assert (facts.concluded_on, facts.outcome) == (date(2019, 4, 2), outcome)


def test_reopen_and_second_decide_do_not_move_the_first_conclusion() -> None:
    events = [
        Ev("register", RECEIVED),
        decide(date(2019, 3, 20), "withheld.third_party"),
        Ev("reopen", date(2020, 2, 1)),
        decide(date(2020, 2, 20), "disclosed"),
    ]
    facts = facts_from_events(RECEIVED, events)
    assert (facts.concluded_on, facts.outcome) == (date(2019, 3, 20), "withheld.third_party")


def test_reopen_without_new_decision_keeps_the_request_concluded() -> None:
    events = [decide(date(2019, 3, 20), "disclosed"), Ev("reopen", date(2019, 6, 1))]
    assert facts_from_events(RECEIVED, events).concluded_on == date(2019, 3, 20)


def test_void_marks_the_request_but_keeps_what_was_recorded() -> None:
    events = [decide(date(2019, 3, 20), "disclosed"), Ev("void", date(2019, 5, 1))]
    facts = facts_from_events(RECEIVED, events)
    assert facts.voided
    assert facts.outcome == "disclosed"


def test_events_are_taken_in_effective_date_order() -> None:
    """A caller that fetched rows unsorted still gets the first conclusion."""
    events = [
        decide(date(2020, 2, 20), "disclosed"),
        decide(date(2019, 3, 20), "not_processed.duplicate"),
    ]
    assert facts_from_events(RECEIVED, events).outcome == "not_processed.duplicate"


def test_same_day_events_keep_log_order() -> None:
    day = date(2019, 3, 20)
    events = [Ev("withdraw", day), decide(day, "disclosed")]
    assert facts_from_events(RECEIVED, events).outcome == "other.other"


@pytest.mark.parametrize("payload", [{}, {"outcome": "nonsense"}, {"outcome": None}])
def test_decide_without_known_outcome_is_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="处理结果"):
        facts_from_events(RECEIVED, [Ev("decide", date(2019, 3, 20), payload)])


def test_outcome_of_non_concluding_event_is_none() -> None:
    assert outcome_of(Ev("reopen", RECEIVED)) is None
    assert outcome_of(Ev("void", RECEIVED)) is None


def test_facts_as_of_ignores_later_events() -> None:
    events = [decide(date(2020, 1, 10), "disclosed"), Ev("void", date(2020, 3, 1))]
    assert facts_as_of(RECEIVED, events, date(2019, 12, 31)) == RequestFacts(
        RECEIVED, None, None, False
    )
    assert facts_as_of(RECEIVED, events, date(2020, 1, 10)).outcome == "disclosed"
    assert facts_as_of(RECEIVED, events, date(2020, 3, 1)).voided


def test_request_facts_refuse_half_a_conclusion() -> None:
    with pytest.raises(ValueError):
        RequestFacts(RECEIVED, date(2019, 4, 1), None)
    with pytest.raises(ValueError):
        RequestFacts(RECEIVED, None, "disclosed")
    with pytest.raises(ValueError):
        RequestFacts(RECEIVED, date(2019, 4, 1), "other")
