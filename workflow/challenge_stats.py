"""Table 四 from the challenge logs: each case's standing at the end of a year.

A case counts in year Y when it was open at some point in Y (filed by 31 December and
not concluded before 1 January, an appeal in Y reopening it); its column is its
standing on 31 December: the latest result if concluded by then, else 尚未审结.
Cases are few (dozens a year), so the fold is the only path; it needs no projection.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Challenge, ChallengeEvent
from workflow.catalog.challenges import RESULT_BY_CODE
from workflow.guards import EventLike
from workflow.report_layouts.table4 import group_for
from workflow.statistics import ChallengeFacts, Table4Counts, table4, year_bounds


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


def table4_for(session: Session, scope: object, year: int) -> Table4Counts:
    """Table 四 for the agencies of ``scope`` (a ``stats_queries.Scope``)."""
    agency_ids = scope.agency_ids  # type: ignore[attr-defined]
    challenges = {
        c.id: c
        for c in session.scalars(select(Challenge).where(Challenge.agency_id.in_(agency_ids)))
    }
    events = session.scalars(
        select(ChallengeEvent)
        .where(ChallengeEvent.challenge_id.in_(list(challenges)))
        .order_by(ChallengeEvent.challenge_id, ChallengeEvent.seq)
    )
    cases = [
        (challenges[cid].kind, challenges[cid].route, list(evs))
        for cid, evs in groupby(events, key=lambda e: e.challenge_id)
    ]
    return table4(case_facts(cases, year), year)
