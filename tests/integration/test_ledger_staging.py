"""A whole ledger file streamed through the staging area (``import_ledger_file``).

Chunks are committed into the import's own staging tables, so other clerks can save
between two chunks instead of waiting for the whole import; the real tables receive the
ledger in one short transaction at the end, or not at all; the tables of an import
killed outright are dropped by the next import. (That the staged rows are exactly the
operations path's is proven in ``test_ledger_bulk.py``; the SIGKILL of a running
``import-ledger`` in ``test_concurrency.py``.)
"""

from __future__ import annotations

import multiprocessing
import os

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from models import Agency, Event, Request, RequestFacts, User
from models.db import make_engine, make_session_factory
from tests.conftest import NOW
from tests.integration.world import registered_request
from workflow.ledger import staging
from workflow.ledger.importer import ImportSource, import_ledger_file
from workflow.ledger.staging import StagingArea, drop_abandoned, staging_tables

HEADER = "agency,ref,applicant_name,applicant_kind,received_on,subject,concluded_on,outcome\n"


def ledger(rows: int, bad_line: int | None = None) -> bytes:
    """``rows`` requests of the test agency received in 2026 (line ``bad_line`` unknowable)."""
    lines = []
    for n in range(rows):
        outcome = "不知道" if bad_line == n + 2 else "disclosed"
        lines.append(
            f"test-agency,S-{n:04d},申请人{n},自然人,2026-03-{2 + n % 20:02d},某文件{n},"
            f"2026-04-{1 + n % 20:02d},{outcome}\n"
        )
    return (HEADER + "".join(lines)).encode()


def source(data: bytes) -> ImportSource:
    return ImportSource.of_file("import-ledger", "台账.csv", data)


def count(session: Session, model: type) -> int:
    session.expire_all()
    session.rollback()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_clerk_saves_between_two_chunks(engine: Engine, session, agency, users) -> None:
    """While the import runs, a registrar's save goes through (it would wait for the whole
    import's lock without the staging area), and both get their own tracking numbers."""
    data = ledger(30)
    clerk_session = make_session_factory(engine)()
    saved: list[Request] = []

    def progress(done: int, _total: int) -> None:
        if done == 15 and not saved:  # chunk 1 (10 rows) is staged and committed
            if engine.dialect.name == "sqlite":
                clerk_session.execute(text("PRAGMA busy_timeout = 3000"))
            else:
                clerk_session.execute(text("SET lock_timeout = '3s'"))
            clerk = clerk_session.get(User, users["registrar"].id)
            here = clerk_session.get(Agency, agency.id)
            assert clerk is not None and here is not None
            saved.append(registered_request(clerk_session, here, clerk))

    try:
        report = import_ledger_file(
            engine, data, source(data), NOW, progress=progress, chunk_rows=10
        )
    finally:
        clerk_session.close()
    assert report.stored, report.errors[:3]
    assert saved, "the clerk saved during the import"
    assert count(session, Request) == 31
    numbers = session.execute(select(Request.serial, Request.tracking_no)).all()
    assert sorted(serial for serial, _ in numbers) == list(range(1, 32))  # gap-free, no clash
    assert len({tracking for _, tracking in numbers}) == 31
    assert staging_tables(session) == []


def test_a_refused_ledger_reaches_no_table_and_leaves_no_staging(engine, session, agency) -> None:
    """The bad row is in the last chunk: the first chunks were staged, none is published."""
    data = ledger(25, bad_line=26)
    report = import_ledger_file(engine, data, source(data), NOW, chunk_rows=10)
    assert not report.ok
    assert report.refused_lines == [26]
    assert report.imported == 24  # every other row was replayed, to report all problems
    for model in (Request, Event, RequestFacts):
        assert count(session, model) == 0
    assert staging_tables(session) == []


def test_a_dry_run_stages_nothing(engine, session, agency) -> None:
    data = ledger(12)
    report = import_ledger_file(engine, data, source(data), NOW, dry_run=True, chunk_rows=5)
    assert report.ok and report.dry_run and report.imported == 12
    assert count(session, Request) == 0
    assert staging_tables(session) == []


def test_a_file_read_from_its_path_with_a_duplicate_chunks_apart(
    engine, session, agency, tmp_path
) -> None:
    """The command passes the path (streamed, never held whole): the same report as the
    bytes, and a ref repeated three chunks after its first line is still caught there,
    though the validator keeps the refs seen on disk rather than in memory."""
    rows = ledger(40).decode().splitlines(keepends=True)
    rows.append(rows[3].replace("申请人2", "另一人"))  # line 42 repeats line 4's ref S-0002
    data = "".join(rows).encode()
    path = tmp_path / "台账.csv"
    path.write_bytes(data)
    by_path = import_ledger_file(
        engine, path, ImportSource.of_file("c", "台账.csv", path), NOW, chunk_rows=10
    )
    by_bytes = import_ledger_file(engine, data, source(data), NOW, chunk_rows=10)
    assert [str(e) for e in by_path.errors] == [str(e) for e in by_bytes.errors]
    assert by_path.refused_lines == [42]
    assert "与第4行重复" in by_path.errors[0].reason
    assert ImportSource.of_file("c", "x", path).sha256 == source(data).sha256
    assert count(session, Request) == 0


def _stage_and_die(url: str) -> None:
    """Open a staging area and die without cleaning up, as a SIGKILLed import would."""
    area = StagingArea(make_engine(url))
    area.__enter__()
    os._exit(0)


def test_the_staging_of_a_killed_import_is_dropped_by_the_next(
    db_url, engine, session, agency
) -> None:
    child = multiprocessing.get_context("fork").Process(target=_stage_and_die, args=(db_url,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    left = staging_tables(engine)
    assert left, "the dead import left its tables"
    assert staging.abandoned(engine)  # its process is gone
    # A live import's area is never taken for abandoned.
    with StagingArea(engine) as live:
        assert live.import_id not in staging.abandoned(engine)
        assert drop_abandoned(engine) == []  # the dead one was dropped on entering
        assert set(staging_tables(engine)) & set(left) == set()
    data = ledger(3)
    assert import_ledger_file(engine, data, source(data), NOW).stored
    assert staging_tables(engine) == []
    assert count(session, Request) == 3
