"""The stored span of the agency's own deadlines in its cases, kept true to the calendar.

Why stored: the workbench and the reminders list the cases whose 复议答复, 答辩状 or
appeal period is due. Folding every case's log to find them cost ~0.5 s of the
provincial workbench at 1M requests (3,376 cases, bench/RESULTS.md). The case row now
holds the first and last of those deadlines (``models.challenge.Challenge``), written
with every event by ``workflow.challenges.operations`` (and the bulk path), so SQL picks
the few cases whose deadline can be due and only those are folded for their lines.

The deadlines count working days, so a calendar change moves them: every calendar edit
and ``init`` (which also covers a ``chinesecalendar`` upgrade and migration 0027) calls
:func:`refresh_case_deadlines`, as they recompute the requests' stored clocks;
``stats-verify`` reports cases whose stored span differs from their log.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from operator import attrgetter
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from models import Challenge, ChallengeEvent
from workflow.challenges.standing import own_deadline_span
from workflow.kernel.calendar import WorkingCalendar

#: Cases whose logs are read per statement (bounded memory, below SQLite's parameter limit).
CHUNK = 2000


def _logs(session: Session, case_ids: Sequence[int]) -> dict[int, list[Any]]:
    """The deadline-relevant columns of the cases' events, each list in log order."""
    rows = session.execute(
        select(
            ChallengeEvent.challenge_id,
            ChallengeEvent.trigger,
            ChallengeEvent.effective_date,
            ChallengeEvent.payload,
        )
        .where(ChallengeEvent.challenge_id.in_(list(case_ids)))
        .order_by(ChallengeEvent.challenge_id, ChallengeEvent.seq)
    )
    found: dict[int, list[Any]] = {cid: [] for cid in case_ids}
    for cid, events in groupby(rows, key=attrgetter("challenge_id")):
        found[cid] = list(events)
    return found


def stale_case_deadlines(
    session: Session,
    calendar: WorkingCalendar,
    agency_ids: Sequence[int] | None = None,
    *,
    repair: bool = False,
) -> list[int]:
    """Ids of the cases (of ``agency_ids``, else all) whose stored deadline span differs
    from their log under ``calendar``; rewritten when ``repair``. Only explicit columns
    are read and written (no version bump: nobody's form is made stale by a calendar)."""
    c = Challenge
    stmt = select(
        c.id, c.kind, c.instance, c.state, c.filed_on, c.agency_due_first, c.agency_due_last
    )
    if agency_ids is not None:
        stmt = stmt.where(c.agency_id.in_(list(agency_ids)))
    rows = list(session.execute(stmt.order_by(c.id)))
    table = c.__table__
    write = (
        update(table)
        .where(table.c.id == bindparam("cid"))
        .values(agency_due_first=bindparam("first"), agency_due_last=bindparam("last"))
    )
    stale: list[int] = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        logs = _logs(session, [r.id for r in chunk])
        changes = []
        for row in chunk:
            span = own_deadline_span(
                row.kind, row.instance, row.state, row.filed_on, logs[row.id], calendar
            )
            if span != (row.agency_due_first, row.agency_due_last):
                stale.append(row.id)
                changes.append({"cid": row.id, "first": span[0], "last": span[1]})
        if repair and changes:
            session.execute(write, changes)
            for change in changes:  # cases already loaded in this session must not go stale
                loaded = session.identity_map.get(session.identity_key(c, change["cid"]))
                if loaded is not None:
                    session.expire(loaded)
    return stale


def refresh_case_deadlines(session: Session, calendar: WorkingCalendar) -> int:
    """Rewrite every case's stored deadline span that ``calendar`` moves; how many moved."""
    return len(stale_case_deadlines(session, calendar, repair=True))
