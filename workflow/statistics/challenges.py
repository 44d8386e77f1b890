"""Table 四 from the challenge logs: each case's standing at the end of a year.

A case counts in year Y when it was open at some point in Y (filed by 31 December and
not concluded before 1 January, an appeal in Y reopening it); its column is its
standing on 31 December: the latest result if concluded by then, else 尚未审结. A 二审
remand (发回重审) is the latest result of the year it is ruled in (其他结果) although the
case goes on at first instance; in the following years the case is 尚未审结 until the
first instance decides again.
Cases are few (dozens a year), so the fold is the only path; it needs no projection.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from models import Challenge, ChallengeEvent
from workflow.catalog.challenges import RESULT_BY_CODE
from workflow.kernel.guards import EventLike
from workflow.statistics.fold import (
    ChallengeFacts,
    Table4Counts,
    challenge_column,
    table4,
    year_bounds,
)
from workflow.statistics.layouts.table4 import TOTAL as T4_TOTAL
from workflow.statistics.layouts.table4 import group_for
from workflow.statistics.scope import Scope


def facts_at(group: str, events: Sequence[EventLike], as_of: date) -> ChallengeFacts | None:
    """The case as it stood on ``as_of`` (None if not yet filed or voided by then)."""
    filed_on: date | None = None
    concluded_on: date | None = None
    result: str | None = None
    for event in events:
        if event.effective_date > as_of:
            break
        if event.trigger == "file":
            filed_on = event.effective_date
        elif event.trigger == "appeal":
            concluded_on, result = None, None
        elif event.trigger == "conclude":
            concluded_on = event.effective_date
            result = RESULT_BY_CODE[event.payload["result"]].column
        elif event.trigger == "remand":
            # The appeal court's word of the year (其他结果); in a later year the case,
            # back at first instance, is simply open (尚未审结) until its new result.
            if event.effective_date.year == as_of.year:
                concluded_on = event.effective_date
                result = RESULT_BY_CODE[event.payload["result"]].column
            else:
                concluded_on, result = None, None
        elif event.trigger == "void":
            return None
    if filed_on is None:
        return None
    return ChallengeFacts(group, filed_on, concluded_on, result)


def case_facts(
    cases: Iterable[tuple[str, str | None, Sequence[EventLike]]], year: int
) -> list[ChallengeFacts]:
    """Facts at the end of ``year`` for (kind, route, events) triples.

    A case voided at any time counts nowhere (like a voided request).
    """
    _, end = year_bounds(year)
    found = []
    for kind, route, events in cases:
        if any(e.trigger == "void" for e in events):
            continue
        facts = facts_at(group_for(kind, route), events, end)
        if facts is not None:
            found.append(facts)
    return found


class CaseRow(NamedTuple):
    """What table 四 needs of a case."""

    id: int
    kind: str
    route: str | None
    agency_id: int = 0


class CaseEvent(NamedTuple):
    """What ``facts_at`` reads of an event: of the payload, only the ``result``."""

    trigger: str
    effective_date: date
    payload: Mapping[str, Any]


def _cases(session: Session, scope: Scope, year: int) -> list[tuple[CaseRow, list[CaseEvent]]]:
    """The scope's cases that can count in ``year``, each with its events in sequence order.

    Left out in SQL, because ``case_facts`` would drop them anyway: cases filed after the
    year, and cases whose log ended with a ``conclude`` before the year began (closed and
    reported earlier). At the scale of a province that is most cases of earlier years.
    Cases and events come from one statement, as plain rows with only what
    ``facts_at`` reads (the payload's ``result`` extracted in SQL): building thousands
    of ORM objects and decoding every payload took most of the time.
    """
    start, end = year_bounds(year)
    ce = ChallengeEvent
    last_trigger = (
        select(ce.trigger)
        .where(ce.challenge_id == Challenge.id)
        .order_by(ce.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    wanted = select(Challenge.id).where(
        Challenge.agency_id.in_(scope.agency_ids),
        Challenge.filed_on <= end,
        or_(
            exists().where(ce.challenge_id == Challenge.id, ce.effective_date >= start),
            last_trigger != "conclude",
        ),
    )
    rows = session.execute(
        select(
            Challenge.id,
            Challenge.kind,
            Challenge.route,
            Challenge.agency_id,
            ce.trigger,
            ce.effective_date,
            ce.payload["result"].as_string().label("result"),
        )
        .join(ce, ce.challenge_id == Challenge.id)
        .where(Challenge.id.in_(wanted))
        .order_by(ce.challenge_id, ce.seq)
    )
    found = []
    for _, group in groupby(rows, key=itemgetter(0)):
        case_rows = list(group)
        events = [
            CaseEvent(trigger, day, {} if result is None else {"result": result})
            for *_, trigger, day, result in case_rows
        ]
        found.append((CaseRow(*case_rows[0][:4]), events))
    return found


def table4_for(session: Session, scope: Scope, year: int) -> Table4Counts:
    """Table 四 for the agencies of ``scope``."""
    cases = [(c.kind, c.route, evs) for c, evs in _cases(session, scope, year)]
    return table4(case_facts(cases, year), year)


def table4_by_agency(session: Session, scope: Scope, year: int) -> dict[int, Table4Counts]:
    """Table 四 of each agency of ``scope`` apart, from the one statement of ``_cases``
    (agencies without a counted case are absent)."""
    by_agency: dict[int, list[tuple[str, str | None, list[CaseEvent]]]] = {}
    for c, evs in _cases(session, scope, year):
        by_agency.setdefault(c.agency_id, []).append((c.kind, c.route, evs))
    return {a: table4(case_facts(cases, year), year) for a, cases in by_agency.items()}


def cell_challenge_ids(
    session: Session, scope: Scope, year: int, group: str, column: str
) -> list[int]:
    """The cases behind one cell of table 四 (the drill-down), in filing order."""
    found = []
    for case, events in _cases(session, scope, year):
        facts = case_facts([(case.kind, case.route, events)], year)
        if not facts or facts[0].group != group:
            continue
        where = challenge_column(facts[0], year)
        if where is not None and column in (T4_TOTAL, where):
            found.append((facts[0].filed_on, case.id))
    return [cid for _, cid in sorted(found)]
