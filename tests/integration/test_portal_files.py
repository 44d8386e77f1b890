"""Files on the portal (issue 17): the application and the 补正 answer carry files, held to
the staff uploads' rules plus a count and a total per submission; all or nothing; filed
with the request as the applicant's; the applicant sees the names of what they sent."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from documents.notices_pdf import render_notice
from models import Attachment, Event, PortalFile, PortalSubmission, Request
from models.event import AppendOnlyError
from models.file_store import LocalFileStore, content_hash
from tests.integration.routes import signed_in
from tests.integration.test_portal import application, lookup, number_and_code
from workflow.attachments.operations import referenced_hashes
from workflow.kernel.actor import Actor, local_today
from workflow.notices import operations as nops
from workflow.online.portal import confirm
from workflow.requests import operations as ops

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HTML = b"<!doctype html><script>alert(document.cookie)</script>"
MB = 1024 * 1024


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalFileStore:
    """The application's file store, in a folder of this test."""
    folder = tmp_path / "files"
    monkeypatch.setenv("GONGKAI_FILE_DIR", str(folder))
    monkeypatch.delenv("GONGKAI_FILE_STORE", raising=False)
    for name in ("GONGKAI_ATTACHMENT_MAX_MB", "GONGKAI_PORTAL_MAX_FILES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GONGKAI_PORTAL_UPLOAD_MAX_MB", raising=False)
    return LocalFileStore(folder)


def _now() -> datetime:
    return datetime.now(UTC)


def _apply(client, sent: dict[str, list[tuple[bytes, str]]], **extra: str):
    body: dict[str, object] = dict(application(**extra))
    for field, parts in sent.items():
        body[field] = [(io.BytesIO(data), name) for data, name in parts]
    return client.post("/apply/test-agency", data=body, content_type="multipart/form-data")


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _confirm(session, users, number: str) -> Request:
    row = session.scalar(select(PortalSubmission).where(PortalSubmission.number == number))
    req = confirm(session, Actor.of(users["registrar"]), _now(), row.id, local_today(_now()))
    session.commit()
    return req


def test_files_sent_with_the_application_are_filed_with_the_request_as_the_applicants(
    client, app, session, agency, users, files
) -> None:
    page = _apply(
        client,
        {"files_application": [(PDF, "申请书.pdf")], "files_id_copy": [(PNG, "身份证.png")]},
    )
    assert page.status_code == 200, page.get_data(as_text=True)
    number, code = number_and_code(page)
    sent = session.scalars(select(PortalFile).order_by(PortalFile.id)).all()
    assert [(f.kind, f.file_name, f.file_type) for f in sent] == [
        ("application", "申请书.pdf", "pdf"),
        ("id_copy", "身份证.png", "png"),
    ]
    assert files.get(content_hash(PDF)) == PDF and files.get(content_hash(PNG)) == PNG
    # Kept in backups before staff confirm: the store holds the only copy.
    assert {content_hash(PDF), content_hash(PNG)} <= referenced_hashes(session)[0]
    status = lookup(client, number, code).get_data(as_text=True)
    assert "您提交的文件" in status and "申请书.pdf（申请书扫描件" in status
    assert "身份证.png（身份证明复印件" in status

    queue = signed_in(app, session, users["registrar"]).get("/portal/queue")
    assert "申请书.pdf、身份证.png" in queue.get_data(as_text=True)  # seen before confirming

    req = _confirm(session, users, number)
    filed = session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert [(a.request_id, a.kind, a.file_name, a.uploaded_by_id) for a in filed] == [
        (req.id, "application", "申请书.pdf", None),
        (req.id, "id_copy", "身份证.png", None),
    ]
    assert {a.submission_id for a in filed} == {sent[0].submission_id}
    staff = signed_in(app, session, users["handler"])
    detail = staff.get(f"/requests/{req.id}").get_data(as_text=True)
    assert "申请书.pdf" in detail and "申请人（网上平台）" in detail
    got = staff.get(f"/attachments/{filed[0].id}")
    assert got.status_code == 200 and got.data == PDF
    # After confirmation the applicant still sees what they sent (now as filed).
    assert "申请书.pdf（申请书扫描件" in lookup(client, number, code).get_data(as_text=True)


def test_empty_file_inputs_are_no_files(client, session, agency, files) -> None:
    page = _apply(client, {"files_application": [(b"", "")], "files_other": [(b"", "")]})
    assert page.status_code == 200
    assert _count(session, PortalSubmission) == 1 and _count(session, PortalFile) == 0


HOSTILE = {
    "wrong type by content": ([(HTML, "scan.pdf")], "不支持此文件类型"),
    "empty file": ([(b"", "空白.pdf")], "文件不能为空"),
    "folder in the name": ([(PDF, "../../etc/申请书.pdf")], "含有路径分隔符"),
    "absolute path as the name": ([(PDF, "/tmp/申请书.pdf")], "含有路径分隔符"),
    "bidi control in the name": ([(PDF, "申请书\u202efdp.exe")], "改变文字方向的控制字符"),
    "too many": ([(PDF, f"第{i}页.pdf") for i in range(6)], "一次最多上传5个文件"),
    "a good file and a bad one": ([(PDF, "好.pdf"), (HTML, "坏.pdf")], "不支持此文件类型"),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_a_hostile_upload_is_refused_in_chinese_and_nothing_is_kept(
    client, session, agency, files, case: str
) -> None:
    parts, message = HOSTILE[case]
    page = _apply(client, {"files_other": parts})
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and message in text
    assert 'id="files_other-error"' in text  # shown at the input it concerns
    assert "\u202e" not in text  # the control is never echoed back
    assert _count(session, PortalSubmission) == 0 and _count(session, PortalFile) == 0
    assert list(files.hashes()) == []


def test_a_file_over_the_attachment_limit_is_refused(
    client, session, agency, files, monkeypatch
) -> None:
    monkeypatch.setenv("GONGKAI_ATTACHMENT_MAX_MB", "1")
    page = _apply(client, {"files_application": [(PDF + b"0" * MB, "大.pdf")]})
    assert page.status_code == 400
    assert "单个附件不能超过 1 MB" in page.get_data(as_text=True)
    assert _count(session, PortalSubmission) == 0 and list(files.hashes()) == []


def test_the_files_together_are_within_the_total(
    client, session, agency, files, monkeypatch
) -> None:
    monkeypatch.setenv("GONGKAI_PORTAL_UPLOAD_MAX_MB", "1")
    half = PDF + b"0" * (MB // 2 + 1)
    page = _apply(client, {"files_application": [(half, "一.pdf"), (half + b"1", "二.pdf")]})
    assert page.status_code == 400
    assert "一次提交的文件合计不能超过 1 MB" in page.get_data(as_text=True)
    assert _count(session, PortalSubmission) == 0 and list(files.hashes()) == []


def test_a_body_over_the_total_is_refused_before_the_csrf_check_reads_it(
    db_url, session, agency, files, monkeypatch
) -> None:
    """With CSRF on (as deployed), the form is never read: a Chinese 413, nothing kept."""
    from app import create_app

    monkeypatch.setenv("GONGKAI_PORTAL_UPLOAD_MAX_MB", "1")
    app = create_app({"TESTING": True, "DATABASE_URL": db_url})
    try:
        big = PDF + b"0" * (3 * MB)
        page = app.test_client().post(
            "/apply/test-agency",
            data={**application(), "files_other": (io.BytesIO(big), "大.pdf")},
            content_type="multipart/form-data",
        )
    finally:
        app.extensions["db_engine"].dispose()
    text = page.get_data(as_text=True)
    assert page.status_code == 413 and "一次提交的文件合计不能超过 1 MB" in text
    assert "Traceback" not in text
    assert _count(session, PortalSubmission) == 0 and list(files.hashes()) == []


def test_rate_limit_and_honeypot_hold_for_multipart_posts(
    app, client, session, agency, files
) -> None:
    bot = _apply(client, {"files_other": [(PDF, "a.pdf")]}, website="http://spam.example")
    assert bot.status_code == 400 and "请勿填写隐藏的字段" in bot.get_data(as_text=True)
    assert _count(session, PortalSubmission) == 0 and list(files.hashes()) == []

    app.config.update(PORTAL_MAX_SUBMISSIONS=1)
    assert _apply(client, {"files_other": [(PDF, "a.pdf")]}).status_code == 200
    again = _apply(client, {"files_other": [(PNG, "b.png")]})
    assert again.status_code == 429 and "提交过于频繁" in again.get_data(as_text=True)
    assert _count(session, PortalSubmission) == 1 and _count(session, PortalFile) == 1
    assert not files.has(content_hash(PNG))


# --------------------------------------------------------------------------- the 补正 answer


def _waiting_for_supplement(client, session, users) -> tuple[str, str, Request]:
    number, code = number_and_code(_apply(client, {}))
    req = _confirm(session, users, number)
    handler = Actor.of(users["handler"])
    today = local_today(_now())
    fields = {
        "effective_date": today.isoformat(),
        "items": "请提供规划许可证编号",
        "due_on": (today + timedelta(days=15)).isoformat(),
    }
    ops.fire(session, req, "request_supplement", handler, _now(), fields)
    nops.issue_notice(session, handler, _now(), req, "supplement", render=render_notice)
    session.commit()
    assert lookup(client, number, code).status_code == 200  # opens the submission
    return number, code, req


def _answer(client, note: str, parts: list[tuple[bytes, str]]):
    body = {"note": note, "files": [(io.BytesIO(d), n) for d, n in parts]}
    return client.post(
        "/apply/status/supplement",
        data=body,
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_the_supplement_answer_files_its_files_with_its_event(
    app, client, session, agency, users, files
) -> None:
    number, code, req = _waiting_for_supplement(client, session, users)
    page = _answer(client, "", [(PDF, "规划许可证.pdf")])
    assert "补正材料已提交（含1个文件）" in page.get_data(as_text=True)
    session.expire_all()
    event = session.scalar(select(Event).where(Event.trigger == "receive_supplement"))
    assert event is not None and event.request_id == req.id and event.payload["portal"] == number
    row = session.scalar(select(Attachment).where(Attachment.event_id == event.id))
    assert (row.kind, row.file_name, row.uploaded_by_id) == ("supplement", "规划许可证.pdf", None)
    assert row.submission_id is not None and files.get(row.sha256) == PDF
    assert "规划许可证.pdf（补正材料" in lookup(client, number, code).get_data(as_text=True)
    detail = signed_in(app, session, users["handler"]).get(f"/requests/{req.id}")
    assert "规划许可证.pdf" in detail.get_data(as_text=True)
    assert "收到补正材料" in detail.get_data(as_text=True)


def test_a_bad_supplement_file_records_neither_the_answer_nor_any_file(
    client, session, agency, users, files
) -> None:
    _number, _code, req = _waiting_for_supplement(client, session, users)
    page = _answer(client, "编号见附件", [(PDF, "好.pdf"), (HTML, "坏.pdf")])
    text = page.get_data(as_text=True)
    assert "补正未提交" in text and "不支持此文件类型" in text
    session.expire_all()
    assert session.get(Request, req.id).state == "supplement_requested"
    assert _count(session, Attachment) == 0 and not files.has(content_hash(PDF))
    assert "请填写补正内容或上传补正材料" in _answer(client, " ", []).get_data(as_text=True)


def test_the_applicant_never_sees_staff_files(app, client, session, agency, users, files) -> None:
    number, code, req = _waiting_for_supplement(client, session, users)
    signed_in(app, session, users["handler"]).post(
        f"/requests/{req.id}/attachments",
        data={"kind": "other", "file": (io.BytesIO(PNG), "内部审批单.png")},
        content_type="multipart/form-data",
    )
    staff_file = session.scalar(select(Attachment))
    assert staff_file is not None and staff_file.uploaded_by_id == users["handler"].id
    assert "内部审批单" not in lookup(client, number, code).get_data(as_text=True)
    # The applicant's visit opens no staff download.
    assert client.get(f"/attachments/{staff_file.id}").status_code in (302, 401, 404)


def test_failed_lookups_sent_as_multipart_are_counted_too(app, client, session, agency) -> None:
    app.config.update(PORTAL_MAX_LOOKUPS=2)
    number, _code = number_and_code(_apply(client, {}))
    answers = [
        client.post(
            "/apply/status",
            data={"number": number, "code": "2222222222", "x": (io.BytesIO(PDF), "a.pdf")},
            content_type="multipart/form-data",
        ).status_code
        for _ in range(3)
    ]
    assert answers == [400, 400, 429]


def test_files_sent_on_the_portal_cannot_be_changed_or_removed(
    client, session, agency, files
) -> None:
    _apply(client, {"files_other": [(PDF, "a.pdf")]})
    row = session.scalar(select(PortalFile))
    row.file_name = "b.pdf"
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()
    for sql in ("UPDATE portal_files SET file_name = 'b.pdf'", "DELETE FROM portal_files"):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(sql))
        session.rollback()
