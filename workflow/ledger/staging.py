"""A ledger import's staging area: chunks committed as they come, published at once.

Why: a big ledger takes minutes to replay, and on SQLite one transaction writing all of
it holds the database's only write lock for its whole write phase, so every clerk's
save waits (and fails after the 10 s busy timeout). Instead each chunk of replayed rows
is written into the import's own staging tables and committed at once (the lock is
held for one chunk), and when every row has passed, one short transaction copies the
staged rows into the real tables with ``INSERT … SELECT`` — inside the database, no
row through Python — handing out ids and tracking serials there, exactly as
``workflow.store.bulk_writer`` would have. All or nothing holds: the real tables see
the whole ledger or none of it.

The staging tables are scratch space, not schema: they are created for one import,
shaped after the live tables at that moment (``CREATE TABLE … AS SELECT … WHERE 1 = 0``,
no constraints, no triggers), and dropped when it ends, refused, succeeded or failed.
So they need no migration and can never drift from the tables they feed. A registry
row per import (``ledger_staging``, created the same way; on PostgreSQL the staging tables and
the registry sit in the schema ``gongkai_staging`` of migration 0026, the one place the
application's role may create tables) names its owner (host, pid)
and a heartbeat renewed with every chunk; an import killed outright (SIGKILL) leaves
its tables behind, and the next import drops them (:func:`drop_abandoned`): those of a
process on this host that no longer exists, or whose heartbeat stopped
:data:`STALE_AFTER` ago.

Staged keys: a request's staged serial is its rank in its agency-year. On SQLite,
requests, events and cases are numbered from 1 in file order and publishing shifts them
by the table's current end (its write lock keeps everyone else out); on PostgreSQL each
chunk draws its final ids from the tables' own sequences as it is staged, so other clerks
go on inserting meanwhile (their ids interleave; an import refused or killed leaves only
a gap in the sequences, as any rolled-back insert does) and the publish copies them as
they are. Serials come from the agency-year counter at the publish (reserved as
``next_serial`` does),
with tracking numbers formatted by ``workflow.requests.operations.tracking_number``.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.orm import Session

from models.db_roles import STAGING_SCHEMA
from workflow.requests import operations as ops
from workflow.statistics import month_counts
from workflow.store.bulk_writer import (
    TABLE_COLUMNS,
    Encoded,
    Keys,
    _serials,
    batch_counts,
    drawn_ids,
    insert_rows,
    rows_with_keys,
)

#: On PostgreSQL the staging tables live in their own schema (migration 0026), where the
#: application's role may create tables; it has no such right in ``public``, which holds
#: the logs (docs/operations.md, the two database roles).
PG_SCHEMA = STAGING_SCHEMA
#: The registry of staging areas (one row per import under way).
REGISTRY_NAME = "ledger_staging"


def _qualifier(dialect: str) -> str:
    return f"{PG_SCHEMA}." if dialect == "postgresql" else ""


def _registry(conn: Connection) -> str:
    return _qualifier(conn.dialect.name) + REGISTRY_NAME


#: An import whose heartbeat is this old (seconds) is taken for dead on any host.
STALE_AFTER = 15 * 60.0

#: Which columns of each table are keys the publish shifts, and by which table's ids.
_SHIFTS: dict[str, dict[str, str]] = {
    "requests": {"id": "requests"},
    "events": {"id": "events", "request_id": "requests"},
    "request_facts": {"request_id": "requests"},
    "challenges": {"id": "challenges", "request_id": "requests", "prior_id": "challenges"},
    "challenge_events": {"id": "challenge_events", "challenge_id": "challenges"},
}


def _ensure_registry(conn: Connection) -> None:
    conn.exec_driver_sql(
        f"CREATE TABLE IF NOT EXISTS {_registry(conn)} (import_id VARCHAR(40) PRIMARY KEY, "
        "host VARCHAR(255) NOT NULL, pid INTEGER NOT NULL, heartbeat FLOAT NOT NULL)"
    )


class StagingArea:
    """One import's staging tables on its own connection (commits never touch the caller's
    transaction). Use as a context manager: the tables are dropped on the way out."""

    def __init__(self, engine: Engine, import_id: str | None = None) -> None:
        self.engine = engine
        self.import_id = import_id or secrets.token_hex(6)
        if not self.import_id.isalnum():
            raise ValueError("import_id must be letters and digits")
        self.dialect = engine.dialect.name
        #: Temporary tables of the publish (not schema-qualified: they are the session's).
        self.scratch = f"ledger_stage_{self.import_id}_"
        self.prefix = _qualifier(self.dialect) + self.scratch
        self.keys = Keys.local()
        self.staged = 0
        #: What the staged requests add to ``month_counts``, added at the publish (a few
        #: thousand keys for any ledger: agencies × months × outcomes).
        self.counts: Counter[month_counts.Key] = Counter()
        self._conn: Connection | None = None

    # -- lifetime

    def __enter__(self) -> StagingArea:
        drop_abandoned(self.engine)
        self._conn = self.engine.connect()
        with self._conn.begin():
            _ensure_registry(self._conn)
            self._conn.execute(
                text(
                    f"INSERT INTO {_registry(self._conn)} (import_id, host, pid, heartbeat) "
                    "VALUES (:id, :host, :pid, :beat)"
                ),
                {
                    "id": self.import_id,
                    "host": socket.gethostname(),
                    "pid": os.getpid(),
                    "beat": time.time(),
                },
            )
            for table in TABLE_COLUMNS:
                self._conn.exec_driver_sql(
                    f"CREATE TABLE {self.prefix}{table} AS "
                    f"SELECT {', '.join(TABLE_COLUMNS[table])} FROM {table} WHERE 1 = 0"
                )
        return self

    def __exit__(self, *_exc: object) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):
                conn.rollback()
            conn.close()
        drop_staging(self.engine, self.import_id)

    @property
    def conn(self) -> Connection:
        assert self._conn is not None, "use the staging area as a context manager"
        return self._conn

    # -- staging

    def stage(self, batch: Sequence[Encoded]) -> None:
        """Write ``batch`` (in file order) and commit it, renewing the heartbeat."""
        if not batch:
            return
        with self.conn.begin():
            if self.dialect == "postgresql":  # final ids, from the tables' own sequences
                self.keys.ids = drawn_ids(self.conn, batch)
            rows = rows_with_keys(batch, self.keys)
            insert_rows(self.conn, rows, self.prefix)
            self.counts.update(batch_counts(batch))
            self.conn.execute(
                text(f"UPDATE {_registry(self.conn)} SET heartbeat = :beat WHERE import_id = :id"),
                {"beat": time.time(), "id": self.import_id},
            )
        self.staged += len(batch)

    # -- publishing

    def publish(self, conn: Connection) -> int:
        """Copy every staged row into the real tables on ``conn``, in its transaction (the
        caller commits); return the number of requests published.

        On SQLite the write lock is taken by the first statement, so nobody's insert can
        slip between reading the end of a table and writing after it. On PostgreSQL the
        ids are final already; the only lock taken is each agency-year's tracking counter
        row, for its serials.
        """
        if self.staged == 0:
            return 0
        counts = {
            table: int(conn.scalar(text(f"SELECT count(*) FROM {self.prefix}{table}")) or 0)
            for table in ("requests", "events", "challenges", "challenge_events")
        }
        if self.dialect == "postgresql":
            # The staged ids are final already (drawn from the sequences as each chunk was
            # staged): clerks keep inserting meanwhile, and no table lock is needed, which
            # the application's role could not take on the append-only logs.
            shift = dict.fromkeys(counts, 0)
        else:
            conn.exec_driver_sql("UPDATE tracking_counters SET last = last WHERE 0")
            shift = {table: _reserve_ids(conn, table, n) for table, n in counts.items()}
        self._number(conn)
        for table, columns in TABLE_COLUMNS.items():
            self._copy_table(conn, table, columns, shift)
        conn.exec_driver_sql(f"DROP TABLE {self.scratch}numbers")
        month_counts.add_counts(conn, self.counts)
        return counts["requests"]

    def _number(self, conn: Connection) -> None:
        """The tracking serial and number of every staged request, in a scratch table."""
        per_year = conn.execute(
            text(
                f"SELECT agency_id, year, count(*) FROM {self.prefix}requests "
                "GROUP BY agency_id, year ORDER BY agency_id, year"
            )
        ).all()
        numbers: list[tuple[Any, ...]] = []
        for agency_id, year, n in per_year:
            first = _serials(conn, int(agency_id), int(year), int(n))
            for rank in range(1, int(n) + 1):
                serial = first + rank - 1
                numbers.append((agency_id, year, rank, serial, ops.tracking_number(year, serial)))
        table = f"{self.scratch}numbers"
        conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {table} (agency_id INTEGER, year INTEGER, "
            "rank INTEGER, serial INTEGER, tracking_no VARCHAR(32), "
            "PRIMARY KEY (agency_id, year, rank))"  # the join below looks every request up
        )
        raw: Any = conn.connection.driver_connection
        if self.dialect == "postgresql":
            with raw.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
                for row in numbers:
                    copy.write_row(row)
        else:
            raw.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?)", numbers)

    def _copy_table(
        self, conn: Connection, table: str, columns: Sequence[str], shift: dict[str, int]
    ) -> None:
        shifts = _SHIFTS[table]
        chosen = []
        for column in columns:
            if table == "requests" and column == "tracking_no":
                chosen.append("n.tracking_no")
            elif table == "requests" and column == "serial":
                chosen.append("n.serial")
            elif column in shifts and shift[shifts[column]]:
                chosen.append(f"s.{column} + {shift[shifts[column]]}")
            else:
                chosen.append(f"s.{column}")
        join = ""
        if table == "requests":
            join = (
                f" JOIN {self.scratch}numbers n ON n.agency_id = s.agency_id"
                " AND n.year = s.year AND n.rank = s.serial"
            )
        order = "s.request_id" if table == "request_facts" else "s.id"
        conn.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"SELECT {', '.join(chosen)} FROM {self.prefix}{table} s{join} ORDER BY {order}"
        )


def _reserve_ids(conn: Connection, table: str, n: int) -> int:
    """SQLite: reserve ``n`` consecutive ids of ``table``; return what to add to a local
    id (1…n). The caller holds the write lock, so nobody else writes meanwhile."""
    if n == 0:
        return 0
    return int(conn.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}")) or 0)


def drop_staging(engine: Engine, import_id: str) -> None:
    """Drop one import's staging tables and its registry row (nothing if already gone)."""
    prefix = _qualifier(engine.dialect.name) + f"ledger_stage_{import_id}_"
    with engine.begin() as conn:
        for table in TABLE_COLUMNS:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {prefix}{table}")
        _ensure_registry(conn)
        conn.execute(
            text(f"DELETE FROM {_registry(conn)} WHERE import_id = :id"), {"id": import_id}
        )


def abandoned(engine: Engine, now: float | None = None) -> list[str]:
    """The imports whose staging tables nobody will publish: their process on this host
    is gone, or their heartbeat stopped :data:`STALE_AFTER` ago."""
    now = time.time() if now is None else now
    here = socket.gethostname()
    with engine.begin() as conn:
        _ensure_registry(conn)
        rows = conn.execute(
            text(f"SELECT import_id, host, pid, heartbeat FROM {_registry(conn)}")
        ).all()
    return [
        import_id
        for import_id, host, pid, beat in rows
        if now - float(beat) > STALE_AFTER or (host == here and not _alive(int(pid)))
    ]


def drop_abandoned(engine: Engine) -> list[str]:
    """Drop the staging tables of every abandoned import (see :func:`abandoned`)."""
    found = abandoned(engine)
    for import_id in found:
        drop_staging(engine, import_id)
    return found


def staging_tables(bind: Session | Connection | Engine) -> list[str]:
    """The staging tables present: an import under way, or one killed and not yet dropped."""
    target = bind.connection() if isinstance(bind, Session) else bind
    schema = PG_SCHEMA if target.dialect.name == "postgresql" else None
    names = inspect(target).get_table_names(schema=schema)
    return sorted(n for n in names if n.startswith("ledger_stage_"))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
