"""The admin's ledger upload page: same all-or-nothing import as the command line."""

from __future__ import annotations

import io

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


def upload(client, text: bytes, dry_run: bool = False, name: str = "ledger.csv"):
    data = {"file": (io.BytesIO(text), name)}
    if dry_run:
        data["dry_run"] = "y"
    return client.post("/imports/ledger", data=data, content_type="multipart/form-data")


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


def test_wrong_encoding_is_explained(client, session, users) -> None:
    login(client, "admin")
    page = upload(client, GOOD.encode("gbk"))
    assert page.status_code == 400 and "UTF-8" in page.text
    assert count(session) == 0


def test_missing_file_and_non_admins(client, users) -> None:
    login(client, "admin")
    assert client.post("/imports/ledger", data={}).status_code == 400
    template = client.get("/imports/ledger/template.csv")
    assert template.status_code == 200 and template.data == template_csv_bytes()
    client.post("/logout")
    login(client, "handler")
    assert client.get("/imports/ledger").status_code == 403
    assert upload(client, GOOD.encode()).status_code == 403


def test_a_ledger_too_big_for_one_request_is_sent_to_the_command_line(
    client, session, users, monkeypatch
) -> None:
    """Refused before any replay (a request cut off by the server's timeout would be a
    gateway error), with the way out named."""
    from views import imports

    monkeypatch.setattr(imports, "WEB_MAX_ROWS", 1)
    login(client, "admin")
    page = upload(client, GOOD.encode())
    assert page.status_code == 400
    assert "本文件有2行" in page.text and "import-ledger" in page.text
    assert count(session) == 0
    monkeypatch.setattr(imports, "WEB_MAX_ROWS", 2)
    assert "已导入 2 行" in upload(client, GOOD.encode()).text
