"""Background jobs on a real worker process (``python app.py worker``): the embedded SQLite
queue always, and a real Redis server when ``GONGKAI_TEST_REDIS_URL`` names one
(``tools/run-tests.sh`` starts it with ``tools/redis-test-server.sh``).

A ledger import job stores its rows all or nothing: done, cancelled, or its worker
killed with SIGKILL mid-import — then nothing is stored and the job shows as failed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobs import queue as q
from jobs.report_batch import batch_path, start_report_batch
from jobs.tasks import start_ledger_import
from models import Agency, Request, User
from tests.integration.test_notices import pdf_text

ROOT = Path(__file__).parents[2]
REDIS_URL = os.environ.get("GONGKAI_TEST_REDIS_URL", "")
BACKENDS = [
    "sqlite",
    pytest.param("redis", marks=pytest.mark.skipif(not REDIS_URL, reason="no Redis")),
]
HEADER = "agency,ref,applicant_name,applicant_kind,received_on,subject,concluded_on,outcome\n"


def ledger(rows: int) -> bytes:
    lines = [
        f"test-agency,J-{n:05d},申请人{n},自然人,2025-03-{1 + n % 28:02d},某文件,"
        f"2025-04-{1 + n % 28:02d},disclosed\n"
        for n in range(rows)
    ]
    return (HEADER + "".join(lines)).encode()


@pytest.fixture(params=BACKENDS)
def backend(request, db_url: str, tmp_path: Path, monkeypatch) -> Iterator[dict[str, str]]:
    """The queue's environment, shared by this process and the worker it starts."""
    env = {"DATABASE_URL": db_url, "GONGKAI_INSTANCE_DIR": str(tmp_path / "instance")}
    if request.param == "redis":
        env["GONGKAI_REDIS_URL"] = REDIS_URL
    else:
        monkeypatch.delenv("GONGKAI_REDIS_URL", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    if request.param == "redis":
        q.job_queue().flush()
    yield env


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "app.py", "worker"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(predicate, timeout: float = 120.0) -> q.JobRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("the job did not get there in time")


def finished(job_id: str):
    return lambda: (r := q.load(job_id)) is not None and r.finished_state and r


def requests(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Request)) or 0


def admin(session: Session) -> User:
    found = session.scalar(select(User).where(User.username == "admin"))
    assert found is not None
    return found


def test_worker_imports_a_ledger(backend, session, agency, users) -> None:
    worker = start_worker(backend)
    try:
        job_id = start_ledger_import(ledger(30), "台账.csv", admin(session), dry_run=False)
        record = wait_for(finished(job_id))
        assert record.effective_state == "done", record.message
        assert "已导入 30 行" in record.message
        assert requests(session) == 30
    finally:
        worker.terminate()
        worker.wait(30)


def test_cancel_leaves_nothing(backend, session, agency, users) -> None:
    worker = start_worker(backend)
    try:
        job_id = start_ledger_import(ledger(4000), "big.csv", admin(session), dry_run=False)
        wait_for(lambda: (r := q.load(job_id)) is not None and r.state == "running" and r)
        q.request_cancel(job_id)
        record = wait_for(finished(job_id))
        assert record.effective_state == "cancelled"
        assert requests(session) == 0
    finally:
        worker.terminate()
        worker.wait(30)


def test_sigkill_mid_import_leaves_nothing_and_shows_failed(
    backend, session, agency, users, monkeypatch
) -> None:
    worker = start_worker(backend)
    job_id = start_ledger_import(ledger(4000), "big.csv", admin(session), dry_run=False)
    wait_for(lambda: (r := q.load(job_id)) is not None and r.done > 0 and r)
    worker.send_signal(signal.SIGKILL)
    worker.wait(30)
    assert requests(session) == 0
    monkeypatch.setattr(q, "STALE_AFTER", 1.0)
    time.sleep(1.5)
    record = q.load(job_id)
    assert record is not None and record.effective_state == "failed"
    # A live worker's job must not look dead between two heartbeats on a loaded machine.
    monkeypatch.setattr(q, "STALE_AFTER", 60.0)
    # A new worker imports the same file cleanly: nothing of the killed run was left.
    again = start_worker(backend)
    try:
        second = start_ledger_import(ledger(50), "small.csv", admin(session), dry_run=False)
        assert wait_for(finished(second)).effective_state == "done"
        assert requests(session) == 50
    finally:
        again.terminate()
        again.wait(30)


def test_the_reports_of_an_agency_and_those_below_are_made_by_a_job(
    backend, session, agency, users
) -> None:
    child = Agency(code="test-sub", name="测试下级机关", parent=agency)
    session.add(child)
    session.commit()
    worker = start_worker(backend)
    try:
        start_ledger_import(ledger(12), "台账.csv", admin(session), dry_run=False)
        job_id = start_report_batch(admin(session), 2025)
        record = wait_for(finished(job_id))
        assert record.effective_state == "done", record.message
        everyone = [agency, *agency.descendants()]
        assert child in everyone and record.done == record.total == len(everyone)
        assert f"已生成 {len(everyone)} 份年度报告" in record.message
    finally:
        worker.terminate()
        worker.wait(30)
    with zipfile.ZipFile(batch_path(job_id)) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(f"{a.code}-2025年度报告.pdf" for a in everyone)
        top = pdf_text(archive.read("test-agency-2025年度报告.pdf"))
        sub = pdf_text(archive.read("test-sub-2025年度报告.pdf"))
    assert agency.name in top and "2025" in top
    assert "测试下级机关" in sub
    assert not batch_path(job_id).with_suffix(".part").exists()
