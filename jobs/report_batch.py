"""The annual reports of an agency and every agency below it, as one background job.

A province prints hundreds of reports before 31 January / 31 March (条例 Art. 49); each
takes a derivation and a PDF rendering, far longer than a web request may last. The job
renders each agency's report for the year exactly as the report page and ``report``
command do (``workflow.annual_report.report.load_report`` + ``documents.report_pdf``),
writes them into one ZIP under the instance directory, reports its progress per agency
and lists every agency whose report could not be made or whose checks (勾稽关系) fail.
Nothing in the database changes: it only reads.
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

from documents.fonts import pdf_font
from documents.report_pdf import render_report_pdf
from jobs import queue as q
from models import Agency, User
from models.unit_of_work import unit_of_work
from workflow.annual_report.report import load_report
from workflow.kernel.errors import DomainError
from workflow.statistics.scope import Scope

KIND = "report_batch"


def batch_path(job_id: str) -> Path:
    results = q.instance_dir() / "results"
    results.mkdir(exist_ok=True)
    return results / f"{job_id}.zip"


def start_report_batch(user: User, year: int) -> str:
    """Record and queue the reports of ``user``'s agency and those below it for ``year``."""
    job_id = q.new_job_id()
    title = f"{user.agency.name}及下级机关{year}年度报告"
    q.save(q.JobRecord(job_id, KIND, title, user.id, user.agency_id))
    q.enqueue(KIND, job_id, user.agency_id, year)
    return job_id


def run_report_batch(job_id: str, agency_id: int, year: int) -> None:
    """Render every report into the job's ZIP; a cancelled or failed job leaves no file."""
    q.update(job_id, state="running", started=time.time(), heartbeat=time.time())
    target = batch_path(job_id)
    partial = target.with_suffix(".part")
    problems: list[str] = []
    try:
        with unit_of_work(migrate=False) as session:
            top = session.get(Agency, agency_id)
            if top is None:
                raise DomainError("机关不存在")
            agencies = [top, *top.descendants()]
            progress = q.heartbeat(job_id, every=0.0)
            font = pdf_font()
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
                for done, agency in enumerate(agencies):
                    progress(done, len(agencies))
                    try:
                        data = load_report(session, Scope.of(agency), year)
                    except DomainError as exc:
                        problems.append(f"{agency.name}（{agency.code}）：{exc}")
                        continue
                    failed = [c for c in data.checks() if not c.ok]
                    if failed:
                        problems.append(
                            f"{agency.name}（{agency.code}）：{len(failed)} 项勾稽关系检查未通过"
                        )
                    pdf = render_report_pdf(data.report, font)
                    archive.writestr(f"{agency.code}-{year}年度报告.pdf", pdf)
                progress(len(agencies), len(agencies))
            session.rollback()  # read only
        partial.replace(target)
        made = len(agencies) - sum(1 for p in problems if "检查未通过" not in p)
        q.update(
            job_id,
            state="done",
            finished=time.time(),
            done=len(agencies),
            total=len(agencies),
            errors=problems,
            message=f"已生成 {made} 份年度报告（共 {len(agencies)} 个机关）",
        )
    except q.JobCancelled:
        partial.unlink(missing_ok=True)
        q.update(job_id, state="cancelled", finished=time.time(), message="已取消，未生成文件")
    except Exception as exc:
        partial.unlink(missing_ok=True)
        q.update(job_id, state="failed", finished=time.time(), message=f"生成失败：{exc}")
        raise
