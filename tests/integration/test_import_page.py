"""The admin's ledger upload page: same all-or-nothing import as the command line, run
as a background job whose page shows the result.

Here the job queue runs in huey's immediate mode (the real task code, executed when
queued, storage in memory); ``test_jobs.py`` runs it on a real worker process, on the
SQLite queue and on a real Redis server.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from models import Request
from tests.conftest import login
from workflow.ledger.reader import template_csv_bytes

GOOD = (
    "agency,ref,applicant_name,applicant_kind,received_on,subject,concluded_on,outcome\n"
    "test-agency,L-1,张三,自然人,2025-03-03,某文件,2025-03-20,disclosed\n"
    "test-agency,L-2,某公司,commercial_enterprise,2025-06-16,某名单,,\n"
)
BAD = (
    "agency,ref,applicant_name,applicant_kind,received_on,subject,concluded_on,outcome\n"
    "test-agency,L-1,张三,自然人,2025-02-30,某文件,,\n"
    "nowhere,L-2,李四,自然人,2025-03-03,某文件,2025-03-20,\n"
    "test-agency,L-3,王五,自然人,2025-03-03,某文件,2025-03-20,disclosed\n"
)


@pytest.fixture(autouse=True)
def immediate_jobs(db_url, tmp_path, monkeypatch):
    from jobs.tasks import worker_queue as job_queue

    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("GONGKAI_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.delenv("GONGKAI_REDIS_URL", raising=False)
    job_queue().immediate = True


def upload(client, text: bytes, dry_run: bool = False, name: str = "ledger.csv"):
    """Upload, then follow the redirect to the job's page."""
    data = {"file": (io.BytesIO(text), name)}
    if dry_run:
        data["dry_run"] = "y"
    return client.post(
        "/imports/ledger", data=data, content_type="multipart/form-data", follow_redirects=True
    )


def count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Request))


def test_admin_imports_a_good_ledger(client, session, users) -> None:
    login(client, "admin")
    dry = upload(client, GOOD.encode(), dry_run=True)
    assert dry.status_code == 200 and "检查通过" in dry.text and count(session) == 0
    done = upload(client, "\ufeff".encode() + GOOD.encode())
    assert done.status_code == 200 and "已导入 2 行" in done.text
    assert count(session) == 2


def test_bad_ledger_lists_every_line_and_stores_nothing(client, session, users) -> None:
    login(client, "admin")
    page = upload(client, BAD.encode())
    assert page.status_code == 200
    assert "第2行" in page.text and "第3行" in page.text and "未写入任何数据" in page.text
    assert count(session) == 0


def test_job_page_is_only_for_its_admins(client, session, users) -> None:
    login(client, "admin")
    page = upload(client, GOOD.encode())
    job_url = page.request.path
    assert job_url.startswith("/imports/jobs/")
    assert client.get(job_url).status_code == 200
    assert client.get("/imports/jobs/" + "0" * 32).status_code == 404
    assert client.get("/imports/jobs/../../etc").status_code == 404


def test_gbk_from_chinese_excel_imports_and_utf16_is_explained(client, session, users) -> None:
    login(client, "admin")
    page = upload(client, GOOD.encode("utf-16"))
    assert page.status_code == 200 and "被拒绝" in page.text and "UTF-16" in page.text
    assert count(session) == 0
    done = upload(client, GOOD.encode("gbk"))
    assert done.status_code == 200 and "已导入 2 行" in done.text
    assert count(session) == 2


def test_missing_file_and_non_admins(client, users) -> None:
    login(client, "admin")
    assert client.post("/imports/ledger", data={}).status_code == 400
    template = client.get("/imports/ledger/template.csv")
    assert template.status_code == 200 and template.data == template_csv_bytes()
    client.post("/logout")
    login(client, "handler")
    assert client.get("/imports/ledger").status_code == 403
    assert upload(client, GOOD.encode()).status_code == 403


def test_a_big_ledger_is_taken_and_the_row_limit_explained(
    client, session, users, monkeypatch
) -> None:
    """No 2,000-row cap any more: the job takes the file, up to ``MAX_ROWS``."""
    from jobs import tasks

    login(client, "admin")
    monkeypatch.setattr(tasks, "MAX_ROWS", 1)
    page = upload(client, GOOD.encode())
    assert "本文件有2行" in page.text and count(session) == 0
    monkeypatch.setattr(tasks, "MAX_ROWS", 200_000)
    assert "已导入 2 行" in upload(client, GOOD.encode()).text


def test_an_upload_is_in_the_security_log_and_its_events_name_the_uploader(
    client, session, users
) -> None:
    """Issue 15 item 8 / the review's V1: imported events named another user."""
    import hashlib

    from models import Event, SecurityLogEntry

    login(client, "admin")
    upload(client, GOOD.encode(), name="台账.csv")
    session.expire_all()
    [entry] = session.scalars(
        select(SecurityLogEntry).where(SecurityLogEntry.kind == "ledger_imported")
    )
    assert entry.actor_id == users["admin"].id
    assert entry.detail["sha256"] == hashlib.sha256(GOOD.encode()).hexdigest()
    assert entry.detail["file"] == "台账.csv" and entry.detail["dry_run"] is False
    actors = set(session.scalars(select(Event.actor_id)))
    assert actors == {users["admin"].id}
