"""Attachments (issue 15 item 5): filed with a request or an event, stored once by SHA-256,
type and size checked by content, served only to readers of the request, as a download,
kept in backups; the S3-compatible store against a real S3-compatible server (moto)."""

from __future__ import annotations

import hashlib
import io
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from documents.notices_pdf import render_notice
from models import Agency, Attachment
from models.db import make_engine, make_session_factory
from models.event import AppendOnlyError
from models.file_store import (
    LocalFileStore,
    S3FileStore,
    StoredFileDamaged,
    StoredFileMissing,
    content_hash,
)
from models.migrate import upgrade
from tests.conftest import NOW, login, make_user
from tests.integration.test_cli import cli
from tests.integration.world import decided_request, intake
from workflow.attachments.content import sniff
from workflow.kernel.actor import Actor
from workflow.notices import operations as nops
from workflow.requests import operations as ops

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalFileStore:
    """The application's file store, in a folder of this test."""
    folder = tmp_path / "files"
    monkeypatch.setenv("GONGKAI_FILE_DIR", str(folder))
    monkeypatch.delenv("GONGKAI_FILE_STORE", raising=False)
    return LocalFileStore(folder)


def _register(session, agency, clerk, name: str = "张三"):
    req = ops.register(session, Actor.of(clerk), NOW, intake(name), agency=agency)
    session.commit()
    return req


def _upload(client, request_id: int, data: bytes, name: str, **form: str):
    body = {"kind": "application", **form, "file": (io.BytesIO(data), name)}
    return client.post(
        f"/requests/{request_id}/attachments", data=body, content_type="multipart/form-data"
    )


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _zip_of(names: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in names.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (PDF, "pdf"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "jpeg"),
        (PNG, "png"),
        (b"GIF89a" + b"\x00" * 10, "gif"),
        (b"II*\x00" + b"\x00" * 10, "tiff"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "webp"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20, "ole"),
        (_docx(), "docx"),
        (_zip_of({"[Content_Types].xml": b"", "xl/workbook.xml": b""}), "xlsx"),
        (_zip_of({"mimetype": b"application/vnd.oasis.opendocument.text"}), "odt"),
        (_zip_of({"OFD.xml": b"<ofd:OFD/>"}), "ofd"),
        (b"<html><script>alert(1)</script></html>", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", None),
        (b"MZ\x90\x00", None),  # a Windows program
        (_zip_of({"evil.exe": b"MZ"}), None),  # a plain archive
        (b"PK\x03\x04 not really a zip", None),
        (b"", None),
    ],
)
def test_the_type_is_read_from_the_content(data: bytes, code: str | None) -> None:
    found = sniff(data)
    assert (found.code if found else None) == code


def test_upload_then_download_as_a_reader(session, agency, users, client, files) -> None:
    req = _register(session, agency, users["registrar"])
    login(client, "registrar")
    done = _upload(client, req.id, PDF, "申请书 扫描.pdf", note="原件一页")
    assert done.status_code == 303 and done.location.endswith(f"/requests/{req.id}#attachments")
    row = session.scalars(select(Attachment)).one()
    assert (row.kind, row.file_type, row.size) == ("application", "pdf", len(PDF))
    assert row.sha256 == hashlib.sha256(PDF).hexdigest() and files.get(row.sha256) == PDF
    assert row.uploaded_by_id == users["registrar"].id  # who filed it is the record
    page = client.get(f"/requests/{req.id}").text
    assert "申请书 扫描.pdf" in page and "申请书扫描件" in page and "原件一页" in page

    client.post("/logout")
    login(client, "viewer")
    got = client.get(f"/attachments/{row.id}")
    assert got.status_code == 200 and got.data == PDF
    assert got.mimetype == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E7%94%B3" in got.headers["Content-Disposition"]
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in got.headers["Content-Security-Policy"]
    # A viewer reads but does not file.
    assert "上传附件" not in client.get(f"/requests/{req.id}").text
    assert _upload(client, req.id, PDF, "x.pdf").status_code == 403


def test_the_same_file_is_stored_once(session, agency, users, client, files) -> None:
    first = _register(session, agency, users["registrar"], "甲")
    second = _register(session, agency, users["registrar"], "乙")
    login(client, "registrar")
    for req in (first, second, first):
        assert _upload(client, req.id, PNG, "信封.png", kind="envelope").status_code == 303
    rows = session.scalars(select(Attachment)).all()
    assert len(rows) == 3 and len({r.sha256 for r in rows}) == 1
    assert list(files.hashes()) == [content_hash(PNG)]


def test_refused_by_content_size_kind_and_event(
    session, agency, users, client, files, monkeypatch
) -> None:
    req = _register(session, agency, users["registrar"])
    other = _register(session, agency, users["registrar"], "李四")
    login(client, "registrar")
    html = b"<html><body onload=alert(1)>scan</body></html>"
    page = client.get(_upload(client, req.id, html, "scan.pdf").location).text
    assert "不支持此文件类型（按文件内容识别，与文件名无关）" in page
    page = client.get(_upload(client, req.id, PDF, "a.pdf", kind="").location).text
    assert "请选择附件类别" in page
    foreign_event = ops.history(session, other)[0].id
    page = client.get(_upload(client, req.id, PDF, "a.pdf", event_id=str(foreign_event)).location)
    assert "所选办理步骤不属于本申请" in page.text
    page = client.get(_upload(client, req.id, b"", "empty.pdf").location).text
    assert "文件不能为空" in page
    monkeypatch.setenv("GONGKAI_ATTACHMENT_MAX_MB", "1")
    big = PDF + b"0" * (1024 * 1024)
    page = client.get(_upload(client, req.id, big, "big.pdf").location).text
    assert "单个附件不能超过 1 MB" in page
    assert session.scalars(select(Attachment)).all() == []
    assert list(files.hashes()) == []  # nothing refused reaches the store
    # On an event of the request: the supplement's materials.
    own_event = ops.history(session, req)[0]
    assert _upload(client, req.id, PDF, "补正.pdf", kind="supplement", event_id=str(own_event.id))
    row = session.scalars(select(Attachment)).one()
    assert row.event_id == own_event.id
    assert own_event.effective_date.isoformat() in client.get(f"/requests/{req.id}").text


def test_only_readers_of_the_request_download(session, agency, users, client, files) -> None:
    other = Agency(code="other", name="另一机关")
    child = Agency(code="child", name="下属局", parent=agency)
    session.add_all([other, child])
    session.commit()
    make_user(session, other, "outsider", "registrar", "admin", "viewer")
    child_clerk = make_user(session, child, "child-clerk", "registrar")
    theirs = _register(session, child, child_clerk)
    login(client, "child-clerk")
    assert _upload(client, theirs.id, PDF, "a.pdf").status_code == 303
    row = session.scalars(select(Attachment)).one()
    client.post("/logout")
    login(client, "outsider")
    assert client.get(f"/attachments/{row.id}").status_code == 404
    assert client.get("/attachments/999999").status_code == 404
    client.post("/logout")
    login(client, "registrar")  # the superior agency reads, but does not file
    assert client.get(f"/attachments/{row.id}").status_code == 200
    assert _upload(client, theirs.id, PDF, "b.pdf").status_code == 403
    client.post("/logout")
    assert client.get(f"/attachments/{row.id}").status_code in (302, 401)


def test_a_damaged_or_missing_file_is_not_served(session, agency, users, client, files) -> None:
    req = _register(session, agency, users["registrar"])
    login(client, "registrar")
    _upload(client, req.id, PDF, "a.pdf")
    row = session.scalars(select(Attachment)).one()
    path = files._path(row.sha256)
    path.write_bytes(PDF.replace(b"Catalog", b"Katalog"))
    assert client.get(f"/attachments/{row.id}").status_code == 404
    with pytest.raises(StoredFileDamaged):
        files.get(row.sha256)
    path.unlink()
    with pytest.raises(StoredFileMissing):
        files.get(row.sha256)


def test_attachments_are_never_changed_or_deleted(session, agency, users, files) -> None:
    from workflow.attachments.operations import attach

    req = _register(session, agency, users["registrar"])
    row = attach(
        session,
        Actor.of(users["registrar"]),
        NOW,
        req,
        {"kind": "other"},
        "a.pdf",
        PDF,
        files,
        max_bytes=1 << 20,
    )
    session.commit()
    row.note = "改过"
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()
    session.delete(row)
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()
    with pytest.raises(DBAPIError):
        session.execute(text("DELETE FROM attachments"))
    session.rollback()


def test_issued_notices_are_kept_in_the_file_store(session, agency, users, files) -> None:
    req = decided_request(session, agency, users["registrar"], users["handler"])
    notice = nops.issue_notice(
        session, Actor.of(users["handler"]), NOW, req, "reply", render=render_notice, store=files
    )
    session.commit()
    assert files.get(notice.content_hash) == notice.content


def test_backup_and_restore_carry_the_files(tmp_path: Path, monkeypatch) -> None:
    live_files = tmp_path / "live-files"
    monkeypatch.setenv("GONGKAI_FILE_DIR", str(live_files))
    source = f"sqlite:///{tmp_path / 'live.db'}"
    engine = make_engine(source)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        agency = Agency(code="a", name="机关")
        session.add(agency)
        session.commit()
        clerk = make_user(session, agency, "clerk", "registrar")
        req = _register(session, agency, clerk)
        from workflow.attachments.operations import attach

        attach(
            session,
            Actor.of(clerk),
            NOW,
            req,
            {"kind": "application"},
            "a.pdf",
            PDF,
            LocalFileStore(live_files),
            max_bytes=1 << 20,
        )
        session.commit()
    engine.dispose()
    dump = tmp_path / "backup.db"
    made = cli(source, "backup", str(dump))
    assert made.returncode == 0, made.stderr
    assert "已备份文件 1 个" in made.stdout
    assert LocalFileStore(tmp_path / "backup.db.files").get(content_hash(PDF)) == PDF

    # A new machine: an empty file store and an empty database.
    new_files = tmp_path / "new-files"
    monkeypatch.setenv("GONGKAI_FILE_DIR", str(new_files))
    target = f"sqlite:///{tmp_path / 'target.db'}"
    restored = cli(target, "restore", str(dump), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "已恢复文件 1 个" in restored.stdout
    assert LocalFileStore(new_files).get(content_hash(PDF)) == PDF

    # A backup whose store lost a file says so (and fails), rather than looking complete.
    shutil.rmtree(new_files)
    incomplete = cli(target, "backup", str(tmp_path / "second.db"))
    assert incomplete.returncode != 0 and "文件存储中缺少 1 个" in incomplete.stderr


# --------------------------------------------------------------------------- S3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s3_server(tmp_path: Path):
    """A real S3-compatible server (moto's) on a local port, stopped after the test."""
    pytest.importorskip("moto", reason="moto[server] (requirements-dev.txt) is not installed")
    pytest.importorskip("boto3")
    port = _free_port()
    log = (tmp_path / "moto.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail((tmp_path / "moto.log").read_text(errors="replace"))
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _s3(url: str) -> S3FileStore:
    store = S3FileStore.connect("gongkai-test", endpoint=url, access_key="test", secret_key="test")
    store.client.create_bucket(Bucket="gongkai-test")
    return store


def test_s3_store_against_a_real_server(s3_server: str) -> None:
    store = _s3(s3_server)
    sha = store.put(PDF)
    assert sha == content_hash(PDF) and store.has(sha) and store.get(sha) == PDF
    assert store.put(PDF) == sha and list(store.hashes()) == [sha]  # once
    assert not store.has(content_hash(PNG))
    with pytest.raises(StoredFileMissing):
        store.get(content_hash(PNG))
    store.client.put_object(Bucket="gongkai-test", Key=f"files/{content_hash(PNG)}", Body=b"x")
    with pytest.raises(StoredFileDamaged):
        store.get(content_hash(PNG))


def test_upload_and_download_through_s3(
    session, agency, users, client, s3_server: str, monkeypatch
) -> None:
    _s3(s3_server)
    for name, value in {
        "GONGKAI_FILE_STORE": "s3",
        "GONGKAI_S3_BUCKET": "gongkai-test",
        "GONGKAI_S3_ENDPOINT": s3_server,
        "GONGKAI_S3_ACCESS_KEY": "test",
        "GONGKAI_S3_SECRET_KEY": "test",
    }.items():
        monkeypatch.setenv(name, value)
    req = _register(session, agency, users["registrar"])
    login(client, "registrar")
    assert _upload(client, req.id, PNG, "回执.png", kind="delivery_receipt").status_code == 303
    row = session.scalars(select(Attachment)).one()
    got = client.get(f"/attachments/{row.id}")
    assert got.status_code == 200 and got.data == PNG and got.mimetype == "image/png"
