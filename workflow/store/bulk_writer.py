"""Writing replayed requests in bulk: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.

``workflow.ledger.memory_replay`` replays requests in memory through the domain functions; this
module turns them into database rows (:class:`Encoder`) and writes a batch of them on
the caller's connection (:func:`write_batch`), inside the caller's transaction — so a
ledger import stays all or nothing, and the benchmark generator commits per batch.

Keys are handed out by the database as the operations path would: ids from the
PostgreSQL sequences (``nextval``), or after the largest id on SQLite, where the writer
already holds the database's write lock; tracking serials by incrementing the agency-year
counter row once per batch (``UPDATE … RETURNING``, like ``operations.next_serial``).
Tracking numbers are therefore gap-free and in the order of the batch.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, text

from models import Challenge, ChallengeEvent, Event, Request, RequestFacts
from models.event import chain_algorithm
from models.pii import seal_payload, stored_values
from workflow.kernel import chain
from workflow.kernel.actor import naive_utc
from workflow.ledger.memory_replay import MemEvent, MemRequest
from workflow.requests import operations as ops
from workflow.statistics import month_counts

REQUEST_COLUMNS: tuple[str, ...] = tuple(c.name for c in Request.__table__.columns)
EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in Event.__table__.columns)
FACT_COLUMNS: tuple[str, ...] = tuple(c.name for c in RequestFacts.__table__.columns)
CHALLENGE_COLUMNS: tuple[str, ...] = tuple(c.name for c in Challenge.__table__.columns)
CASE_EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in ChallengeEvent.__table__.columns)

#: Tables in the order their rows must be inserted (foreign keys), with their columns.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "requests": REQUEST_COLUMNS,
    "events": EVENT_COLUMNS,
    "request_facts": FACT_COLUMNS,
    "challenges": CHALLENGE_COLUMNS,
    "challenge_events": CASE_EVENT_COLUMNS,
}


@dataclass(frozen=True)
class Encoded:
    """A replayed request as rows in column order, keys left as ``None`` for the writer.

    Plain tuples, so the benchmark's worker processes can send them to the writer.
    """

    agency_id: int
    year: int
    request: tuple[Any, ...]
    events: list[tuple[Any, ...]]
    facts: tuple[Any, ...]
    #: (challenge row, index of its prior case in this request's cases, its event rows)
    cases: list[tuple[tuple[Any, ...], int | None, list[tuple[Any, ...]]]]
    #: What the request adds to ``month_counts`` (``workflow.statistics.month_counts``).
    counts: tuple[month_counts.Key, ...] = ()


class Encoder:
    """Database values for one dialect: SQLite gets what SQLAlchemy would store there."""

    def __init__(self, dialect: str, now: datetime) -> None:
        self.value: Callable[[Any], Any] = _sqlite_value if dialect == "sqlite" else _same
        self.now = naive_utc(now)
        self.recorded_at = self.value(self.now)
        self.algorithm = chain_algorithm()
        self.created_at = self.value(naive_utc(datetime.now(UTC)))

    def encode(self, mem: MemRequest) -> Encoded:
        v = self.value
        events, head = self._chain("request", "request_id", EVENT_COLUMNS, mem.events)
        values = {
            **mem.columns,
            "id": None,
            "agency_id": mem.agency_id,
            "tracking_no": None,
            "year": mem.year,
            "serial": None,
            "created_at": self.created_at,
            "log_hash": head,
        }
        # Written below the ORM: encrypt and index the personal data here (models.pii).
        values.update(stored_values(mem.columns))
        facts = {
            "request_id": None,
            "agency_id": mem.agency_id,
            "applicant_kind": mem.columns["applicant_kind"],
            **mem.facts,
        }
        cases = []
        for case in mem.cases:
            case_events, case_head = self._chain(
                "challenge", "challenge_id", CASE_EVENT_COLUMNS, case.events
            )
            row = {
                "id": None,
                "agency_id": mem.agency_id,
                "request_id": None,
                "kind": case.kind,
                "route": case.route,
                "body": case.body,
                "case_no": case.case_no,
                "instance": case.instance,
                "filed_on": case.row.filed_on,
                "prior_id": None,
                "state": case.row.state,
                "last_seq": len(case.events),
                "version": case.version,
                "agency_due_first": case.agency_due_first,
                "agency_due_last": case.agency_due_last,
                "created_at": self.created_at,
                "log_hash": case_head,
            }
            cases.append((tuple(v(row[c]) for c in CHALLENGE_COLUMNS), case.prior, case_events))
        return Encoded(
            mem.agency_id,
            mem.year,
            tuple(v(values[c]) for c in REQUEST_COLUMNS),
            events,
            tuple(v(facts[c]) for c in FACT_COLUMNS),
            cases,
            month_counts.counted(
                mem.agency_id,
                mem.facts["received_on"],
                mem.facts["concluded_on"],
                mem.facts["outcome"],
                mem.facts["voided"],
            ),
        )

    def _chain(
        self, kind: str, owner: str, columns: Sequence[str], events: Sequence[MemEvent]
    ) -> tuple[list[tuple[Any, ...]], str | None]:
        """The event rows of one log, linked as the operations' sink links them, and the head."""
        rows, head = [], None
        for e in events:
            head = chain.event_link(
                self.algorithm,
                kind,
                head,
                seq=e.seq,
                trigger=e.trigger,
                from_state=e.from_state,
                to_state=e.to_state,
                effective_date=e.effective_date,
                recorded_at=self.now,
                actor_id=e.actor_id,
                payload=e.payload,
            )
            rows.append(self._event(e, owner, columns, head))
        return rows, head

    def _event(self, e: MemEvent, owner: str, columns: Sequence[str], link: str) -> tuple[Any, ...]:
        values = {
            "id": None,
            owner: None,
            "seq": e.seq,
            "trigger": e.trigger,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "effective_date": self.value(e.effective_date),
            "recorded_at": self.recorded_at,
            "payload": json.dumps(seal_payload(e.payload)),
            "actor_id": e.actor_id,
            "hash": link,
        }
        return tuple(values[c] for c in columns)


def _same(value: Any) -> Any:
    return value


def _sqlite_value(value: Any) -> Any:
    """A value as SQLAlchemy stores it in SQLite (ISO dates, microsecond timestamps)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


# --------------------------------------------------------------------------- keys


def _index(columns: Sequence[str], *names: str) -> tuple[int, ...]:
    return tuple(columns.index(n) for n in names)


_REQ_KEYS = _index(REQUEST_COLUMNS, "id", "tracking_no", "serial")
_EVENT_KEYS = _index(EVENT_COLUMNS, "id", "request_id")
_FACT_KEYS = _index(FACT_COLUMNS, "request_id")
_CASE_KEYS = _index(CHALLENGE_COLUMNS, "id", "request_id", "prior_id")
_CASE_EVENT_KEYS = _index(CASE_EVENT_COLUMNS, "id", "challenge_id")


def _with(row: tuple[Any, ...], keys: tuple[int, ...], *values: Any) -> tuple[Any, ...]:
    out = list(row)
    for index, value in zip(keys, values, strict=True):
        out[index] = value
    return tuple(out)


def _ids(conn: Connection, table: str, n: int) -> list[int]:
    """``n`` new primary keys for ``table``, as the database would hand them out."""
    if n == 0:
        return []
    if conn.dialect.name == "postgresql":
        stmt = text(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"
        )
        return [int(i) for i in conn.execute(stmt, {"n": n}).scalars()]
    # SQLite: one writer at a time, and this transaction is it once it has written.
    last = int(conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar() or 0)
    return list(range(last + 1, last + 1 + n))


def _serials(conn: Connection, agency_id: int, year: int, n: int) -> int:
    """Reserve ``n`` tracking serials of an agency-year; return the first."""
    last = conn.execute(
        text(
            "UPDATE tracking_counters SET last = last + :n "
            "WHERE agency_id = :agency AND year = :year RETURNING last"
        ),
        {"n": n, "agency": agency_id, "year": year},
    ).scalar()
    if last is None:  # the year's first serial: create the row as ``next_serial`` does
        conn.execute(
            text(
                "INSERT INTO tracking_counters (agency_id, year, last) "
                "VALUES (:agency, :year, 0) ON CONFLICT DO NOTHING"
            ),
            {"agency": agency_id, "year": year},
        )
        last = conn.execute(
            text(
                "UPDATE tracking_counters SET last = last + :n "
                "WHERE agency_id = :agency AND year = :year RETURNING last"
            ),
            {"n": n, "agency": agency_id, "year": year},
        ).scalar()
    return int(last) - n + 1


@dataclass
class Keys:
    """Where a batch's keys come from: ids per table, the next serial per agency-year.

    :func:`database_keys` hands them out from the database (the real tables, as the
    operations path would); the staging area (``workflow.ledger.staging``) numbers from 1
    (:meth:`local`) and shifts them when it publishes, so staged rows keep no tracking
    number (``tracking`` False) and a staged serial is the request's rank in its year.
    """

    ids: dict[str, Iterator[int]]
    next_serial: dict[tuple[int, int], int]
    tracking: bool = True

    @classmethod
    def local(cls) -> Keys:
        return cls({table: itertools.count(1) for table in _KEYED}, {}, tracking=False)


_KEYED = ("requests", "events", "challenges", "challenge_events")


def drawn_ids(conn: Connection, batch: Sequence[Encoded]) -> dict[str, Iterator[int]]:
    """New primary keys for every row of ``batch``, per keyed table, from the database."""
    counts = {
        "requests": len(batch),
        "events": sum(len(e.events) for e in batch),
        "challenges": sum(len(e.cases) for e in batch),
        "challenge_events": sum(len(c[2]) for e in batch for c in e.cases),
    }
    return {table: iter(_ids(conn, table, n)) for table, n in counts.items()}


def database_keys(conn: Connection, batch: Sequence[Encoded]) -> Keys:
    """Keys for ``batch`` from the database, as the operations path would get them."""
    per_year = Counter((e.agency_id, e.year) for e in batch)
    return Keys(
        drawn_ids(conn, batch),
        {key: _serials(conn, key[0], key[1], n) for key, n in sorted(per_year.items())},
    )


def keyed_rows(conn: Connection, batch: Sequence[Encoded]) -> dict[str, list[tuple[Any, ...]]]:
    """The batch's rows by table, with ids, tracking numbers and foreign keys filled in."""
    return rows_with_keys(batch, database_keys(conn, batch))


def rows_with_keys(batch: Sequence[Encoded], keys: Keys) -> dict[str, list[tuple[Any, ...]]]:
    """The batch's rows by table, keyed from ``keys`` (which this advances past the batch)."""
    out: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLE_COLUMNS}
    request_ids, event_ids = keys.ids["requests"], keys.ids["events"]
    case_ids, case_event_ids = keys.ids["challenges"], keys.ids["challenge_events"]
    next_serial = keys.next_serial
    for enc in batch:
        rid = next(request_ids)
        key = (enc.agency_id, enc.year)
        serial = next_serial.get(key, 1)
        next_serial[key] = serial + 1
        tracking = ops.tracking_number(enc.year, serial) if keys.tracking else None
        out["requests"].append(_with(enc.request, _REQ_KEYS, rid, tracking, serial))
        out["events"].extend(_with(row, _EVENT_KEYS, next(event_ids), rid) for row in enc.events)
        out["request_facts"].append(_with(enc.facts, _FACT_KEYS, rid))
        case_keys: list[int] = []
        for row, prior, case_events in enc.cases:
            cid = next(case_ids)
            case_keys.append(cid)
            prior_id = None if prior is None else case_keys[prior]
            out["challenges"].append(_with(row, _CASE_KEYS, cid, rid, prior_id))
            out["challenge_events"].extend(
                _with(event, _CASE_EVENT_KEYS, next(case_event_ids), cid) for event in case_events
            )
    return out


# --------------------------------------------------------------------------- writing


def claim_write_lock(conn: Connection) -> None:
    """On SQLite, take the write lock before the first read of the write phase.

    In WAL mode a transaction that has read and then writes cannot wait for a clerk's
    save that committed in between (its snapshot is stale): SQLite answers "database is
    locked" at once, without its busy timeout, and the whole import fails. A write
    statement first (one that changes no row) makes the import wait for the lock
    instead, and every later clerk's save wait (busy timeout) for the write phase only.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("UPDATE tracking_counters SET last = last WHERE 0")


def write_batch(conn: Connection, batch: Sequence[Encoded]) -> int:
    """Insert ``batch`` on ``conn`` (in its transaction); return the number of rows written."""
    if not batch:
        return 0
    written = insert_rows(conn, keyed_rows(conn, batch))
    month_counts.add_counts(conn, batch_counts(batch))
    return written


def batch_counts(batch: Sequence[Encoded]) -> Counter[month_counts.Key]:
    """What the requests of ``batch`` add to ``month_counts``, added up."""
    found: Counter[month_counts.Key] = Counter()
    for enc in batch:
        found.update(enc.counts)
    return found


def insert_rows(
    conn: Connection, tables: Mapping[str, Sequence[tuple[Any, ...]]], prefix: str = ""
) -> int:
    """Insert rows by table (in :data:`TABLE_COLUMNS` order) into ``prefix + table``."""
    raw = conn.connection.driver_connection
    written = 0
    for table, rows in tables.items():
        if not rows:
            continue
        columns = TABLE_COLUMNS[table]
        if conn.dialect.name == "postgresql":
            _copy(raw, prefix + table, columns, rows)
        else:
            marks = ", ".join("?" * len(columns))
            raw.executemany(  # type: ignore[union-attr]
                f"INSERT INTO {prefix}{table} ({', '.join(columns)}) VALUES ({marks})", rows
            )
        written += len(rows)
    return written


def _copy(raw: Any, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
