"""``verify_log`` and ``python app.py verify-log`` catch every kind of damage to the logs.

The damage is done the way it would really happen — raw SQL against the database, with
the append-only triggers dropped for the moment (and put back afterwards, which the
tests also check) — so the checks are proven against the stored rows, not the ORM.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from tests.integration.test_cli import cli
from tests.integration.world import decided_request, file_case, registered_request
from workflow.admin.log_check import _Entry, _Record, check_record, verify_log
from workflow.requests.machine import REQUESTS

LOG_TABLES = ("events", "challenge_events")


@contextmanager
def triggers_dropped(engine: Engine) -> Iterator[None]:
    """Drop the append-only triggers of both logs, and recreate them exactly afterwards."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            saved = conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            saved = [(n, s) for n, s in saved if n.startswith(LOG_TABLES)]
            for name, _sql in saved:
                conn.execute(text(f"DROP TRIGGER {name}"))
        else:
            saved = conn.execute(
                text(
                    "SELECT tgname, pg_get_triggerdef(oid), tgrelid::regclass::text "
                    "FROM pg_trigger WHERE NOT tgisinternal "
                    "AND tgrelid IN ('events'::regclass, 'challenge_events'::regclass)"
                )
            ).all()
            for name, _sql, table in saved:
                conn.execute(text(f"DROP TRIGGER {name} ON {table}"))
    assert len(saved) >= 2, "expected the append-only triggers to exist"
    try:
        yield
    finally:
        with engine.begin() as conn:
            for _name, sql, *_ in saved:
                conn.execute(text(sql))


def corrupt(engine: Engine, *statements: str, **params: object) -> None:
    """Run raw SQL with the triggers down (the caller's session must hold no transaction)."""
    with triggers_dropped(engine), engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def kinds(session) -> set[str]:
    session.expire_all()
    return {p.kind for p in verify_log(session)}


@pytest.fixture
def logged(session, agency, users):
    """Two requests (one decided, with a reconsideration case) on a clean log."""
    open_one = registered_request(session, agency, users["registrar"])
    decided = decided_request(session, agency, users["registrar"], users["handler"])
    case = file_case(session, users["legal"], decided)
    assert verify_log(session) == []
    session.rollback()  # no open read transaction: PostgreSQL's DROP TRIGGER would wait on it
    return {"open": open_one.id, "decided": decided.id, "case": case.id}


CORRUPTIONS = {
    # A gap: event 2 renumbered to 5.
    "sequence": ("UPDATE events SET seq = 5 WHERE request_id = :r AND seq = 2",),
    # decide claims to start from a state the previous event did not leave it in.
    "chain": ("UPDATE events SET from_state = 'registered' WHERE request_id = :r AND seq = 3",),
    "state": ("UPDATE requests SET state = 'registered' WHERE id = :r",),
    "last_seq": ("UPDATE requests SET last_seq = 7 WHERE id = :r",),
    # decide recorded as accept: accept is not possible from in_review and leads elsewhere.
    "transition": ("UPDATE events SET \"trigger\" = 'accept' WHERE request_id = :r AND seq = 3",),
    "date": ("UPDATE events SET effective_date = :early WHERE request_id = :r AND seq = 2",),
    "empty": ("DELETE FROM events WHERE request_id = :r",),
}


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_each_kind_of_damage_is_detected(engine, session, logged, kind: str) -> None:
    corrupt(engine, *CORRUPTIONS[kind], r=logged["decided"], early=date(2026, 1, 5))
    found = verify_log(session)
    assert kind in {p.kind for p in found}, found
    assert all(f"id {logged['decided']}）" in p.subject for p in found), found
    assert all("申请" in str(p) for p in found)


def test_a_deleted_event_breaks_sequence_chain_and_cache(engine, session, logged) -> None:
    corrupt(engine, "DELETE FROM events WHERE request_id = :r AND seq = 2", r=logged["decided"])
    assert {"sequence", "chain", "last_seq"} <= kinds(session)


def test_unknown_trigger_and_future_date(engine, session, logged) -> None:
    corrupt(
        engine,
        "UPDATE events SET \"trigger\" = 'teleport' WHERE request_id = :r AND seq = 2",
        "UPDATE events SET effective_date = :late WHERE request_id = :o AND seq = 1",
        r=logged["decided"],
        o=logged["open"],
        late=date(2027, 6, 1),
    )
    problems = [str(p) for p in verify_log(session)]
    assert any("teleport" in p and "不是本流程的操作" in p for p in problems), problems
    assert any("晚于记录日期" in p for p in problems), problems


def test_challenge_logs_are_checked_too(engine, session, logged) -> None:
    corrupt(
        engine,
        "UPDATE challenge_events SET to_state = 'concluded' WHERE challenge_id = :c",
        "UPDATE challenges SET last_seq = 3 WHERE id = :c",
        c=logged["case"],
    )
    found = verify_log(session)
    # The edited event's link no longer matches either (the hash chain).
    assert {p.kind for p in found} == {"transition", "state", "last_seq", "hash"}, found
    assert all(p.subject.startswith("复议诉讼案件 复-2026-1") for p in found)


def test_triggers_are_back_after_the_corruption(engine, logged) -> None:
    corrupt(engine, "UPDATE requests SET last_seq = 9 WHERE id = :r", r=logged["open"])
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE events SET seq = 9 WHERE request_id = :r"), {"r": logged["open"]})


def test_check_record_reports_duplicates_and_invalid_numbers() -> None:
    """Duplicates cannot reach the database (unique constraint): check the pure function."""
    recorded = datetime(2026, 11, 20, 2, 0)
    day = date(2026, 11, 2)
    events = [
        _Entry(0, "register", None, "registered", day, recorded),
        _Entry(2, "accept", "registered", "in_review", day, recorded),
        _Entry(2, "accept", "in_review", "in_review", day, recorded),
    ]
    record = _Record(1, "申请 2026-0001", "in_review", 3, day)
    details = [p.detail for p in check_record(record, events, REQUESTS)]
    assert "事件序号重复：2" in details
    assert "事件序号无效：0" in details
    assert "事件序号缺失：1" in details
    assert any("不能从状态 in_review 进行" in d for d in details)


def test_verify_log_command(db_url, engine, session, logged) -> None:
    clean = cli(db_url, "verify-log")
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.strip() == "事件日志完整"

    corrupt(
        engine,
        "UPDATE requests SET state = 'voided' WHERE id = :r",
        "UPDATE requests SET last_seq = 4 WHERE id = :o",
        r=logged["decided"],
        o=logged["open"],
    )
    broken = cli(db_url, "verify-log")
    assert broken.returncode != 0
    lines = broken.stdout.strip().splitlines()
    assert len(lines) == 2, lines  # one line per problem, nothing else on stdout
    assert any("缓存的当前状态为 voided，事件日志的最终状态为 concluded" in x for x in lines)
    assert any("last_seq 为 4，事件共 1 条" in x for x in lines)
    assert "事件日志发现" in broken.stderr
