"""Under load and faults the log stays whole: races, a killed import, a failing commit.

Several threads, each with its own session, fire conflicting actions at the same few
requests. Every action either commits completely or is refused (a conflict, a guard, or
SQLite's "database is locked") and rolled back; afterwards ``verify_log`` finds nothing,
and every request's cached state is the fold of its events. The same runs on
PostgreSQL when the suite runs there (``GONGKAI_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import contextlib
import csv
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from models import Agency, Event, Request, RequestFacts
from models.db import make_engine, make_session_factory
from tests.conftest import NOW
from tests.integration.world import registered_request
from tests.waiting import wait_until
from workflow.admin.log_check import verify_log
from workflow.kernel.actor import Actor
from workflow.kernel.errors import ConflictError, GuardError
from workflow.ledger.staging import drop_abandoned, staging_tables
from workflow.requests import operations as ops
from workflow.requests.spec import SPEC_BY_TRIGGER
from workflow.statistics.month_counts import stale_counts
from workflow.statistics.queries import verify_projection
from workflow.statistics.scope import Scope

ROOT = Path(__file__).parents[2]
THREADS = 8
ACTIONS = 20
REQUESTS = 4
DAY = "2026-11-10"

#: Conflicting actions, a valid payload for each and how often it is tried (the state
#: decides which may run; ``reopen`` brings concluded requests back into play, and
#: ``void`` is left out because a voided request would take no further part).
PAYLOADS: dict[str, dict[str, Any]] = {
    "accept": {},
    "withdraw": {"reason": "申请人撤回"},
    "request_supplement": {"items": "请写明文件名称", "due_on": "2026-11-25"},
    "receive_supplement": {},
    "decide": {"outcome": "disclosed", "delivery": "post"},
    "extend": {"days": "10", "reason": "需要调取档案", "approver": "approver"},
    "consult_third_party": {"party": "某公司"},
    "third_party_replied": {"opinion": "agree"},
    "reopen": {"order": "某复议决定书"},
}
WEIGHTS = {"withdraw": 2, "decide": 3}
TRIGGERS = sorted(PAYLOADS)


def is_lock_error(exc: OperationalError) -> bool:
    text_ = str(exc).lower()
    return "database is locked" in text_ or "deadlock" in text_


def worker(engine, ids: list[int], actors: dict[str, Actor], seed: int, start, tally) -> None:
    rng = random.Random(seed)
    factory = make_session_factory(engine)
    start.wait()
    for _ in range(ACTIONS):
        session = factory()
        try:
            req = session.get(Request, rng.choice(ids))
            # What the clerk's screen offers for the state they see (it may be stale).
            offered = [t for t in TRIGGERS if req.state in SPEC_BY_TRIGGER[t].source_values]
            trigger = rng.choices(offered, [WEIGHTS.get(t, 4) for t in offered])[0]
            actor = actors["registrar"] if trigger in ("accept", "withdraw") else actors["approver"]
            time.sleep(rng.random() / 500)  # widen the window between reading and writing
            payload = {"effective_date": DAY, **PAYLOADS[trigger]}
            ops.fire(session, req, trigger, actor, NOW, payload)
            session.commit()
            tally["done"] += 1
        except (ConflictError, StaleDataError, IntegrityError):
            session.rollback()
            tally["conflict"] += 1
        except GuardError:
            session.rollback()
            tally["refused"] += 1
        except OperationalError as exc:
            session.rollback()
            if is_lock_error(exc):
                tally["locked"] += 1
            else:
                tally["unexpected"] += 1
                tally.setdefault("errors", []).append(repr(exc))
        except Exception as exc:  # reported by the test, never swallowed
            session.rollback()
            tally["unexpected"] += 1
            tally.setdefault("errors", []).append(repr(exc))
        finally:
            session.close()


def fold(events: list[Event]) -> str | None:
    state = None
    for event in events:
        assert event.from_state == state
        state = event.to_state
    return state


def test_conflicting_actions_from_many_threads(engine, session, agency, users) -> None:
    ids = [registered_request(session, agency, users["registrar"]).id for _ in range(REQUESTS)]
    actors = {r: Actor.of(users[r]) for r in ("registrar", "approver")}
    session.rollback()
    start = threading.Barrier(THREADS)
    tallies: list[Counter[str]] = [Counter() for _ in range(THREADS)]
    threads = [
        threading.Thread(target=worker, args=(engine, ids, actors, 2019 + i, start, tallies[i]))
        for i in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    total: Counter[str] = Counter()
    for tally in tallies:
        total.update({k: v for k, v in tally.items() if isinstance(v, int)})
    errors = [e for tally in tallies for e in tally.get("errors", [])]
    assert total["unexpected"] == 0, errors
    assert sum(total.values()) == THREADS * ACTIONS
    assert total["done"] >= REQUESTS, total  # real work happened …
    assert total["conflict"] + total["refused"] + total["locked"] > 0, total  # … under contention
    print(f"concurrency on {engine.dialect.name}: {dict(total)}")

    session.expire_all()
    assert verify_log(session) == []
    duplicates = session.execute(
        select(Event.request_id, Event.seq)
        .group_by(Event.request_id, Event.seq)
        .having(func.count() > 1)
    ).all()
    assert duplicates == []
    for rid in ids:
        req = session.get(Request, rid)
        events = ops.history(session, req)
        assert req.state == fold(events)
        assert req.last_seq == len(events) == events[-1].seq
    assert verify_projection(session, Scope.of(agency)) == []
    # Every decision and reopening moved the same month's counts from 8 threads: none lost.
    assert stale_counts(session) == []
    assert session.scalar(select(func.count()).select_from(Event)) == REQUESTS + total["done"]


# --------------------------------------------------------------------------- faults


LEDGER_HEADER = (
    "agency",
    "ref",
    "applicant_name",
    "applicant_kind",
    "received_on",
    "subject",
    "concluded_on",
    "outcome",
)


def write_big_ledger(path: Path, rows: int) -> None:
    start = date(2026, 1, 5)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(LEDGER_HEADER)
        for i in range(rows):
            received = start + timedelta(days=i % 250)
            out.writerow(
                [
                    "test-agency",
                    f"big-{i:05d}",
                    f"申请人{i}",
                    "natural_person",
                    received.isoformat(),
                    f"第{i}号文件",
                    (received + timedelta(days=5)).isoformat(),
                    "disclosed",
                ]
            )


def another_writer_is_active(probe: Engine) -> bool:
    """Whether some other connection holds an open write transaction on the database."""
    if probe.dialect.name == "sqlite":
        # Taking the write lock without waiting fails exactly while another writer has it.
        path = probe.url.database
        with contextlib.closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc):
                    return True
                raise
            conn.execute("ROLLBACK")
            return False
    with probe.connect() as conn:
        writers = conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
            )
        )
    return writers > 0


def test_a_killed_import_leaves_nothing(db_url, session, agency, users, tmp_path) -> None:
    big = tmp_path / "big.csv"
    write_big_ledger(big, 3000)
    process = subprocess.Popen(
        [sys.executable, "app.py", "import-ledger", str(big)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": db_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()  # the progress label: the import has begun
        assert "导入中" in first, first
        probe = make_engine(db_url)
        try:
            wait_until(
                lambda: process.poll() is not None or another_writer_is_active(probe),
                60,
                "the import has written into its (uncommitted) transaction",
            )
        finally:
            probe.dispose()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL  # killed mid-import, not finished
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Request)) == 0
    assert session.scalar(select(func.count()).select_from(Event)) == 0
    assert session.scalar(select(func.count()).select_from(RequestFacts)) == 0
    assert verify_log(session) == []
    # The database is usable afterwards (SQLite recovers its journal on the next open).
    registered_request(session, agency, users["registrar"])
    # The killed import's staging tables (if it had got so far) go with the next import.
    probe = make_engine(db_url)
    try:
        drop_abandoned(probe)
        assert staging_tables(probe) == []
    finally:
        probe.dispose()


def failing_at_commit(session) -> None:
    """Add, in the session's transaction, a row that breaks a constraint checked at COMMIT."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA defer_foreign_keys = ON"))
        session.execute(text("INSERT INTO user_roles (user_id, role) VALUES (999999, 'viewer')"))
    else:
        session.execute(
            text(
                "CREATE TEMP TABLE commit_bomb (x integer UNIQUE DEFERRABLE INITIALLY DEFERRED) "
                "ON COMMIT DROP"
            )
        )
        session.execute(text("INSERT INTO commit_bomb VALUES (1), (1)"))


def state_of(session, request_id: int) -> tuple[Any, ...]:
    session.expire_all()
    req = session.get(Request, request_id)
    facts = session.get(RequestFacts, request_id)
    events = session.scalar(select(func.count()).where(Event.request_id == request_id))
    return req.state, req.last_seq, req.version, facts.concluded_on, events


@pytest.mark.parametrize("where", ["at_flush", "at_commit"])
def test_a_failing_commit_leaves_no_partial_state(session, agency, users, where) -> None:
    req = registered_request(session, agency, users["registrar"])
    before = state_of(session, req.id)
    approver = Actor.of(users["approver"])
    for trigger in ("accept", "decide"):
        ops.fire(session, req, trigger, approver, NOW, {"effective_date": DAY, **PAYLOADS[trigger]})
    if where == "at_flush":  # a duplicate agency code in the same transaction
        session.add(Agency(code=agency.code, name="重复的机关代码"))
    else:
        failing_at_commit(session)
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    assert state_of(session, req.id) == before
    assert verify_log(session) == []
    assert verify_projection(session, Scope.of(agency)) == []


def test_an_import_waits_for_a_clerks_save_instead_of_failing(db_url, session, agency, users):
    """A clerk saving while an import reaches its write phase must not fail the import.

    The clerk's transaction is open when the replay ends and commits 1.5 s later: the
    import's write phase has to wait for it. Without taking the write lock first, SQLite
    (WAL) refuses the import's first INSERT at once ("database is locked": its snapshot
    predates the clerk's commit) and the whole import is lost.
    """
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's row locks have no stale-snapshot upgrade")
    from workflow.kernel.actor import local_today
    from workflow.ledger.importer import ImportSource, import_ledger
    from workflow.ledger.reader import RawRow, validate_rows

    rows = [
        RawRow(
            n + 2,
            {
                "agency": agency.code,
                "ref": f"W-{n}",
                "applicant_name": f"申请人{n}",
                "applicant_kind": "natural_person",
                "received_on": "2026-03-02",
                "subject": "某文件",
                "concluded_on": "2026-03-20",
                "outcome": "disclosed",
            },
        )
        for n in range(30)
    ]
    valid, problems = validate_rows(rows, local_today(NOW))
    assert not problems
    clerk_done: list[str] = []

    def clerk_holds_the_lock() -> None:
        raw = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=10)
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("UPDATE agencies SET name = name WHERE id = ?", (agency.id,))
        started.set()
        time.sleep(1.5)
        raw.commit()
        raw.close()
        clerk_done.append("committed")

    started = threading.Event()
    clerk = threading.Thread(target=clerk_holds_the_lock)

    def progress(done: int, total: int) -> None:
        if done == total:  # the replay is over; the write phase comes next
            clerk.start()
            started.wait(10)

    source = ImportSource("import-ledger", "ledger.csv", "0" * 64)
    report = import_ledger(session, valid, source, NOW, progress=progress)
    session.commit()
    clerk.join(10)
    assert clerk_done == ["committed"]
    assert report.ok and report.imported == 30
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Request)) == 30


def test_a_save_blocked_past_the_busy_timeout_gets_a_message(
    db_url, session, agency, users, monkeypatch
) -> None:
    """While another writer holds SQLite's lock longer than the busy timeout, a clerk's
    save answers 409 with a message to retry; nothing is saved and no 500 page appears."""
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's database-wide write lock")
    from app import create_app
    from tests.integration.routes import signed_in

    monkeypatch.setenv("GONGKAI_SQLITE_BUSY_MS", "200")
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "DATABASE_URL": db_url})
    clerk = signed_in(app, session, users["registrar"])
    before = session.scalar(select(func.count()).select_from(Request))
    holder = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    holder.execute("BEGIN IMMEDIATE")
    try:
        page = clerk.post(
            "/requests/new",
            data={
                "applicant_name": "繁忙测试",
                "applicant_kind": "natural_person",
                "subject": "某文件",
                "channel": "in_person",
                "submitted_on": "2026-11-02",
            },
        )
    finally:
        holder.rollback()
        holder.close()
    assert page.status_code == 409
    assert "系统正忙" in page.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Request)) == before
