"""The jobs: a ledger import, the nightly consistency check, a batch of annual reports.

Each task opens its own unit of work on ``DATABASE_URL`` (the worker's environment),
calls the domain and commits once; any exception — a cancellation, a crash — rolls the
whole transaction back, so a job that dies leaves nothing partial. The record (``jobs.
queue``) says what happened; a worker killed outright stops its heartbeat and the page
shows the job as failed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from huey import Huey, crontab
from sqlalchemy import select

from jobs import queue as q
from jobs import report_batch
from jobs.monitor import timed
from models import Agency, User
from models.unit_of_work import unit_of_work
from workflow.admin.log_check import verify_log
from workflow.challenges.due_dates import stale_case_deadlines
from workflow.ledger.importer import ImportSource, import_ledger_file
from workflow.ledger.reader import LedgerFileError, count_ledger_rows
from workflow.requests.search import index_problems
from workflow.statistics.queries import verify, verify_projection, years_with_data
from workflow.statistics.scope import Scope
from workflow.store.calendar import load_calendar

#: The kind of a ledger import's job record.
LEDGER_IMPORT = "ledger_import"
#: The key of the latest nightly check's record (shown to admins on the jobs page).
NIGHTLY = "nightly-verify"
#: The largest ledger one job takes (the upload's size limit is the web layer's).
MAX_ROWS = 200_000


def start_ledger_import(data: bytes, file_name: str, user: User, dry_run: bool) -> str:
    """Store the upload in the queue's storage, record the job and queue it; return the
    job's id. The upload is not a local file: the worker may run on another machine."""
    job_id = q.new_job_id()
    key = f"upload:{job_id}"
    q.job_queue().put(key, data)
    title = Path(file_name).name or "ledger"
    q.save(q.JobRecord(job_id, LEDGER_IMPORT, title, user.id, user.agency_id))
    q.enqueue("import_ledger", job_id, key, dry_run)
    return job_id


def run_ledger_import(job_id: str, upload: str, dry_run: bool) -> None:
    """Import the stored upload (its key in the queue's storage) as the job's user; the
    upload is taken out of the storage as it is read."""
    record = q.update(job_id, state="running", started=time.time(), heartbeat=time.time())
    assert record is not None
    try:
        data = q.job_queue().get(upload)
        if not isinstance(data, bytes):
            q.update(job_id, state="failed", finished=time.time(), message="上传的文件已不存在")
            return
        now = datetime.now(UTC)
        try:
            rows = count_ledger_rows(data, record.title)
        except LedgerFileError as exc:
            q.update(job_id, state="refused", finished=time.time(), message=str(exc))
            return
        if rows > MAX_ROWS:
            message = f"本文件有{rows}行，每次最多导入{MAX_ROWS}行，请分批导入"
            q.update(job_id, state="refused", finished=time.time(), message=message)
            return
        with unit_of_work() as session:
            user = session.get(User, record.user_id) if record.user_id else None
            source = ImportSource.of_file("web-upload", record.title, data, user)
            # Streamed and staged under the job's id: chunks commit as they go, the rows
            # reach the real tables in one short transaction at the end, or never.
            report = import_ledger_file(
                session.get_bind(),  # type: ignore[arg-type]
                data,
                source,
                now,
                dry_run,
                progress=q.heartbeat(job_id),
                import_id=job_id.replace("-", "")[:16],
                total_rows=rows,
            )
            del data
        q.update(
            job_id,
            state="done" if report.ok else "refused",
            finished=time.time(),
            done=report.rows,
            total=report.rows,
            errors=[str(e) for e in report.errors[:1000]],
            message=_summary(
                report.ok,
                report.dry_run,
                report.imported,
                report.rows,
                len(report.refused_lines),
                len(report.errors),
                report.state_summary(),
            ),
        )
    except q.JobCancelled:
        q.update(job_id, state="cancelled", finished=time.time(), message="已取消，未写入任何数据")
    except Exception as exc:
        q.update(
            job_id, state="failed", finished=time.time(), message=f"导入失败，未写入任何数据：{exc}"
        )
        raise


def _summary(
    ok: bool, dry_run: bool, imported: int, rows: int, lines: int, errors: int, states: str
) -> str:
    detail = f"（{states}）" if states else ""
    if not ok:
        return f"导入被拒绝：共 {rows} 行，其中 {lines} 行有误（{errors} 处问题）。未写入任何数据。"
    if dry_run:
        return f"检查通过，未写入：共 {rows} 行均可导入{detail}。"
    return f"已导入 {imported} 行{detail}。"


def run_nightly_verify() -> dict[str, Any]:
    """``verify-log`` and ``stats-verify`` over every agency; the result for the admins."""
    started = time.time()
    with unit_of_work() as session:
        log = [str(p) for p in verify_log(session)]
        stats: list[str] = []
        for agency in session.scalars(select(Agency).order_by(Agency.code)):
            scope = Scope.of(agency)
            stale = verify_projection(session, scope, repair=False)
            if stale:
                stats.append(f"{agency.code}: {len(stale)} 件申请的统计投影与事件日志不一致")
            cases = stale_case_deadlines(session, load_calendar(session), [agency.id])
            if cases:
                stats.append(f"{agency.code}: {len(cases)} 件复议诉讼案件的本机关期限与记录不一致")
            for year, diff in verify(session, scope, years_with_data(session, scope)).items():
                stats.extend(
                    f"{agency.code} {year} {d.cell}: 日志={d.fold} 快速={d.fast}" for d in diff
                )
        stats.extend(p.what for p in index_problems(session))
        session.rollback()  # a check: nothing to store
    result = {
        "started": started,
        "finished": time.time(),
        "log_problems": log[:200],
        "stats_problems": stats[:200],
        "ok": not log and not stats,
    }
    q.job_queue().put(NIGHTLY, result)
    return result


def nightly_result() -> dict[str, Any] | None:
    found = q.job_queue().get(NIGHTLY, peek=True)
    return found if isinstance(found, dict) else None


def register(queue: Huey) -> None:
    """Bind the tasks to ``queue`` (one queue per backend; see ``jobs.queue``)."""
    queue.gongkai_tasks = {  # type: ignore[attr-defined]
        "import_ledger": queue.task(name="import_ledger")(
            timed("import_ledger", run_ledger_import)
        ),
        "nightly_verify": queue.task(name="nightly_verify")(
            timed("nightly_verify", run_nightly_verify)
        ),
        report_batch.KIND: queue.task(name=report_batch.KIND)(
            timed(report_batch.KIND, report_batch.run_report_batch)
        ),
    }
    queue.periodic_task(crontab(hour="2", minute="30"), name="nightly_verify_periodic")(
        timed("nightly_verify", run_nightly_verify)
    )


def worker_queue() -> Huey:
    """The queue with every task of this module bound to it (what the worker consumes)."""
    return q.job_queue()


q.REGISTRARS.append(register)
