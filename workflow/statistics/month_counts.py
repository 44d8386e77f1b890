"""Requests counted by agency and month, kept with the projection (``month_counts``).

The workbench shows the current year by month of receipt and by outcome for whoever
reads it — for a province's supervisor, 100,000–180,000 index entries a page when counted
from ``request_facts``. This table holds the same counts already added up: per agency
and month, the requests received (``outcome`` "") and those concluded with each outcome,
voided requests left out, as everywhere in the statistics.

One rule says what a ``request_facts`` row contributes (:func:`counted`). Every writer
of the projection applies it in the same transaction as the row: the operations path
adds the difference between a row's old and new contribution (:func:`changes`,
``workflow.requests.operations.project``), the bulk path adds the contribution of the
rows it inserts (``workflow.store.bulk_writer``, the ledger's staging area). An addition
is one ``INSERT … ON CONFLICT DO UPDATE SET n = n + …`` per key, in key order, so two
clerks concluding in the same agency and month wait for each other briefly instead of
losing a count or deadlocking. ``stats-verify`` recounts the table from the rows
(:func:`stale_counts`) and ``--repair`` rewrites it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import MonthCount, RequestFacts

#: (agency id, first day of the month, outcome code or "" for a receipt)
Key = tuple[int, date, str]
#: The ``outcome`` of a receipt's count.
RECEIVED = ""


def counted(
    agency_id: int,
    received_on: date,
    concluded_on: date | None,
    outcome: str | None,
    voided: bool,
) -> tuple[Key, ...]:
    """What one ``request_facts`` row adds to the counts: its receipt, and its
    conclusion with its outcome once it has one; nothing when voided."""
    if voided:
        return ()
    received = (agency_id, received_on.replace(day=1), RECEIVED)
    if concluded_on is None or outcome is None:
        return (received,)
    return received, (agency_id, concluded_on.replace(day=1), outcome)


def counted_row(row: Any) -> tuple[Key, ...]:
    """:func:`counted` of anything with the projection's column names (ORM row or Row)."""
    return counted(row.agency_id, row.received_on, row.concluded_on, row.outcome, row.voided)


def changes(before: Iterable[Key], after: Iterable[Key]) -> dict[Key, int]:
    """What to add to each count when a row's contribution goes from ``before`` to
    ``after`` (keys that do not move are left out)."""
    delta: Counter[Key] = Counter(after)
    delta.subtract(before)
    return {key: n for key, n in delta.items() if n}


def add_counts(bind: Session | Connection, delta: Mapping[Key, int]) -> None:
    """Add ``delta`` to the stored counts, in the caller's transaction (in key order:
    concurrent writers lock the rows in the same order)."""
    if not delta:
        return
    engine = bind.engine if isinstance(bind, Connection) else bind.get_bind()
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    table = MonthCount.__table__
    stmt = dialect.insert(table)  # type: ignore[attr-defined]
    stmt = stmt.on_conflict_do_update(
        index_elements=["agency_id", "month", "outcome"],
        set_={"n": table.c.n + stmt.excluded.n},
    )
    rows = [
        {"agency_id": agency_id, "month": month, "outcome": outcome, "n": n}
        for (agency_id, month, outcome), n in sorted(delta.items())
    ]
    bind.execute(stmt, rows)
    # A count brought to zero is no count: remove its row, so every writer leaves the
    # same rows (the bulk path never writes a zero).
    emptied = [row for row in rows if row["n"] < 0]
    if emptied:
        bind.execute(
            delete(table).where(
                table.c.agency_id == bindparam("agency_id"),
                table.c.month == bindparam("month"),
                table.c.outcome == bindparam("outcome"),
                table.c.n == 0,
            ),
            [{k: row[k] for k in ("agency_id", "month", "outcome")} for row in emptied],
        )


def recount(session: Session) -> Counter[Key]:
    """The counts as the ``request_facts`` rows say they are, read in one pass."""
    f = RequestFacts
    found: Counter[Key] = Counter()
    rows = session.execute(
        select(f.agency_id, f.received_on, f.concluded_on, f.outcome, f.voided).execution_options(
            yield_per=10_000
        )
    )
    for row in rows:
        found.update(counted_row(row))
    return found


def stored(session: Session) -> Counter[Key]:
    """The counts in the table."""
    m = MonthCount
    return Counter(
        {
            (agency_id, month, outcome): n
            for agency_id, month, outcome, n in session.execute(
                select(m.agency_id, m.month, m.outcome, m.n)
            )
        }
    )


def stale_counts(session: Session, *, repair: bool = False) -> list[tuple[Key, int, int]]:
    """Each (key, stored, recounted) that differs; with ``repair`` the table is rewritten."""
    expected, actual = recount(session), stored(session)
    stale = sorted(
        (key, actual.get(key, 0), expected.get(key, 0))
        for key in set(expected) | set(actual)
        if expected.get(key, 0) != actual.get(key, 0)
    )
    if stale and repair:
        session.execute(delete(MonthCount))
        add_counts(session, expected)
    return stale


def month_totals(
    session: Session, agency_ids: Iterable[int], first_year: int, last_year: int
) -> dict[tuple[date, str], int]:
    """(first day of the month, outcome or "") → count over ``agency_ids``, for every month
    of ``first_year`` to ``last_year`` that has one: what the workbench's charts and the
    supervisor's trends draw."""
    m = MonthCount
    rows = session.execute(
        select(m.month, m.outcome, func.sum(m.n))
        .where(m.agency_id.in_(sorted(agency_ids)))
        .where(m.month.between(date(first_year, 1, 1), date(last_year, 12, 1)))
        .group_by(m.month, m.outcome)
    )
    return {(month, outcome): int(n) for month, outcome, n in rows if n}
