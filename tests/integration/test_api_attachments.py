"""Attachments through the JSON API (issue 15 item 5): listed, filed by a multipart upload
with the page's checks (kind, event, size, type by content), downloaded with the page's
reader rule and safe headers; answers conform to the generated OpenAPI document."""

from __future__ import annotations

import hashlib
import io

import pytest

from models import Agency, Attachment
from tests.conftest import NOW, make_user
from tests.integration.api_http import conforms, document
from tests.integration.test_attachments import PDF, PNG, _register
from tests.integration.test_attachments import files as files  # the fixture
from workflow.kernel.actor import Actor
from workflow.online.tokens import create_token
from workflow.requests import operations as ops


@pytest.fixture
def api(app, session, users):
    """``api(username, method, path, **kwargs)`` with that user's bearer token."""
    tokens: dict[str, str] = {}

    def call(username: str, method: str, path: str, **kwargs):
        if username not in tokens:
            tokens[username] = create_token(session, username).token
            session.commit()
        headers = {"Authorization": f"Bearer {tokens[username]}"}
        return app.test_client().open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return call


def upload(api, username: str, request_id: int, data: bytes, name: str, **form):
    body = {"kind": "application", **form, "file": (io.BytesIO(data), name)}
    return api(
        username,
        "POST",
        f"/requests/{request_id}/attachments",
        data=body,
        content_type="multipart/form-data",
    )


def test_the_document_describes_the_attachment_routes() -> None:
    paths = document()["paths"]
    assert set(paths["/requests/{id}/attachments"]) == {"get", "post"}
    assert (
        "multipart/form-data"
        in paths["/requests/{id}/attachments"]["post"]["requestBody"]["content"]
    )
    assert "get" in paths["/attachments/{id}"]


def test_upload_list_and_download_through_the_api(api, session, agency, users, files) -> None:
    req = _register(session, agency, users["registrar"])
    done = upload(api, "registrar", req.id, PDF, "申请书 扫描.pdf", note="原件一页", event_seq="1")
    assert done.status_code == 201, done.get_data(as_text=True)
    conforms(done.json, "Attachment")
    assert (done.json["kind"], done.json["file_type"], done.json["size"]) == (
        "application",
        "pdf",
        len(PDF),
    )
    assert done.json["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert done.json["event_seq"] == 1 and done.json["uploaded_by"] == "registrar"
    assert files.get(done.json["sha256"]) == PDF
    assert done.headers["Location"] == done.json["url"]

    listed = api("viewer", "GET", f"/requests/{req.id}/attachments")
    assert listed.status_code == 200
    conforms(listed.json, "AttachmentList")
    assert [a["file_name"] for a in listed.json["items"]] == ["申请书 扫描.pdf"]

    got = api("viewer", "GET", done.json["url"].removeprefix("/api/v1"))
    assert got.status_code == 200 and got.data == PDF and got.mimetype == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in got.headers["Content-Security-Policy"]
    assert got.headers["Cache-Control"] == "no-store"


def test_uploads_are_checked_as_on_the_page(api, session, agency, users, files, monkeypatch):
    req = _register(session, agency, users["registrar"])
    html = upload(api, "handler", req.id, b"<html><script>alert(1)</script>", "scan.pdf")
    assert html.status_code == 422 and "按文件内容识别" in html.json["errors"]["file"]
    kind = upload(api, "handler", req.id, PNG, "a.png", kind="nonsense")
    assert kind.status_code == 422 and "kind" in kind.json["errors"]
    event = upload(api, "handler", req.id, PNG, "a.png", event_seq="99")
    assert event.status_code == 422 and "event_seq" in event.json["errors"]
    unknown = upload(api, "handler", req.id, PNG, "a.png", colour="red")
    assert unknown.status_code == 422 and "colour" in unknown.json["errors"]
    empty = upload(api, "handler", req.id, b"", "a.png")
    assert empty.status_code == 422 and "file" in empty.json["errors"]
    as_json = api("handler", "POST", f"/requests/{req.id}/attachments", json={"kind": "other"})
    assert as_json.status_code == 415 and "multipart/form-data" in as_json.json["error"]
    monkeypatch.setenv("GONGKAI_ATTACHMENT_MAX_MB", "1")
    big = upload(api, "handler", req.id, PDF + b"0" * (1024 * 1024), "big.pdf")
    assert big.status_code == 422 and "文件过大" in big.json["errors"]["file"]
    huge = upload(api, "handler", req.id, PDF + b"0" * (2 * 1024 * 1024), "huge.pdf")
    assert huge.status_code == 413 and "1 MB" in huge.json["error"]
    assert session.query(Attachment).count() == 0


def test_only_caseworkers_of_the_agency_file_and_only_readers_download(
    api, session, agency, users, files
) -> None:
    req = _register(session, agency, users["registrar"])
    row_id = upload(api, "registrar", req.id, PDF, "a.pdf").json["id"]
    assert upload(api, "viewer", req.id, PDF, "b.pdf").status_code == 403
    other = Agency(code="elsewhere", name="别处")
    session.add(other)
    session.commit()
    make_user(session, other, "outsider", "registrar", "handler", "approver", "viewer")
    assert upload(api, "outsider", req.id, PDF, "c.pdf").status_code == 404
    assert api("outsider", "GET", f"/requests/{req.id}/attachments").status_code == 404
    refused = api("outsider", "GET", f"/attachments/{row_id}")
    assert refused.status_code == 404 and refused.mimetype == "application/json"
    assert api("viewer", "GET", "/attachments/999999").status_code == 404
    voided = ops.register(
        session,
        Actor.of(users["registrar"]),
        NOW,
        {
            "applicant_name": "李四",
            "applicant_kind": "natural_person",
            "subject": "某批复",
            "channel": "in_person",
            "submitted_on": "2026-11-02",
        },
        agency=agency,
    )
    session.commit()
    ops.fire(
        session,
        voided,
        "void",
        Actor.of(users["approver"]),
        NOW,
        {"effective_date": "2026-11-03", "reason": "误登记"},
    )
    session.commit()
    late = upload(api, "registrar", voided.id, PDF, "d.pdf")
    assert late.status_code == 422 and "已作废" in late.json["error"]
    assert session.query(Attachment).count() == 1
