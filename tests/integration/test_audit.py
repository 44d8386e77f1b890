"""The audit pages and exports: complete, exact, safe to open, and limited to one's branch."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from models import Event, Request
from tests.conftest import NOW, login, make_user
from tests.integration.world import build_world, registered_request
from workflow.kernel.actor import Actor
from workflow.requests import operations as ops

AUDITORS = ("admin", "approver", "viewer")


@pytest.fixture
def world(session, agency, users):
    return build_world(session, agency, users)


def client_as(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 200
    return client


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("role", ["registrar", "handler", "legal"])
def test_only_auditors_may_open_the_audit_pages(app, world, role) -> None:
    client = client_as(app, role)
    for url in (
        "/audit",
        f"/audit/requests/{world.concluded.id}",
        f"/audit/users/{world.target.id}",
        f"/audit/export.csv?request={world.concluded.id}",
    ):
        assert client.get(url).status_code == 403, url
    assert "审计" not in client.get("/dashboard").text.split("</nav>")[0]


def test_anonymous_is_sent_to_login(client, world) -> None:
    page = client.get(f"/audit/requests/{world.concluded.id}")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_search_by_tracking_number_and_username(app, world) -> None:
    client = client_as(app, "viewer")
    assert world.registered.tracking_no == world.foreign.tracking_no
    page = client.get("/audit", query_string={"q": world.registered.tracking_no})
    assert page.status_code == 200
    assert f"/audit/requests/{world.registered.id}" in page.text
    assert f"/audit/requests/{world.foreign.id}" not in page.text  # same number, other agency
    users = client.get("/audit", query_string={"q": "HANDL"})
    assert "/audit/users/" in users.text and "handler" in users.text
    outsider = client.get("/audit", query_string={"q": "outsider"}).text
    assert f"/audit/users/{world.outsider.id}" not in outsider
    wild = client.get("/audit", query_string={"q": "%_%"})
    assert wild.status_code == 200 and "/audit/requests/" not in wild.text


def test_request_log_shows_every_event_raw(app, world) -> None:
    client = client_as(app, "approver")
    page = client.get(f"/audit/requests/{world.concluded.id}")
    assert page.status_code == 200
    text = page.text
    for trigger in ("register", "accept", "decide", "file"):  # the case's events too
        assert f"<code>{trigger}</code>" in text
    assert "<code>registered</code> → <code>in_review</code>" in text
    assert "2026-11-20 10:00" in text  # NOW (02:00 UTC) in Beijing time
    assert 'title="UTC 2026-11-20T02:00:00Z"' in text
    assert "（handler）" in text and "（legal）" in text
    assert "&#34;outcome&#34;: &#34;disclosed&#34;" in text  # the payload, as stored
    assert "2026-11-10" in text


def test_other_agencies_are_not_found(app, world) -> None:
    client = client_as(app, "admin")
    for url in (
        f"/audit/requests/{world.foreign.id}",
        f"/audit/users/{world.outsider.id}",
        f"/audit/export.csv?request={world.foreign.id}",
        f"/audit/export.csv?user={world.outsider.id}",
        "/audit/users/999999",
        "/audit/export.csv?request=999999",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get("/audit/export.csv").status_code == 400
    assert client.get("/audit/export.csv?request=abc").status_code == 400


def test_a_superior_sees_a_subordinate_agency(app, session, world, users) -> None:
    clerk = make_user(session, world.child_agency, "child-clerk", "registrar")
    child_request = registered_request(session, world.child_agency, clerk)
    client = client_as(app, "viewer")
    assert client.get(f"/audit/requests/{child_request.id}").status_code == 200
    assert client.get(f"/audit/users/{clerk.id}").status_code == 200
    child_viewer = make_user(session, world.child_agency, "child-viewer", "viewer")
    below = client_as(app, child_viewer.username)
    assert below.get(f"/audit/requests/{world.concluded.id}").status_code == 404


def test_user_log_is_paginated_newest_first(app, session, world, users) -> None:
    clerk = Actor.of(users["registrar"])
    made = [registered_request(session, world.agency, users["registrar"]) for _ in range(3)]
    for req in made:
        ops.fire(session, req, "accept", clerk, NOW, {"effective_date": "2026-11-03"})
    session.commit()
    client = client_as(app, "viewer")
    first = client.get(f"/audit/users/{users['registrar'].id}")
    assert first.status_code == 200
    total = 3 * 2 + 2 + 1  # these 3 requests × 2 events, and the world's registrar events
    assert f"共 {total} 条记录" in first.text
    rows = rows_of(client.get(f"/audit/export.csv?user={users['registrar'].id}"))
    assert len(rows) == 1 + total
    assert {r[0] for r in rows[1:]} == {"申请"}
    # The registrar's own events, each once: (tracking number, operation code, username).
    mine = session.scalars(select(Event).where(Event.actor_id == users["registrar"].id))
    expected = [(session.get(Request, e.request_id).tracking_no, e.trigger) for e in mine]
    assert sorted((r[1], r[5]) for r in rows[1:]) == sorted(expected)
    assert {r[12] for r in rows[1:]} == {"registrar"}
    assert client.get(f"/audit/users/{users['registrar'].id}?page=99").status_code == 200


def test_user_log_pages(app, session, world, users, monkeypatch) -> None:
    import views.audit

    monkeypatch.setattr(views.audit, "PAGE_SIZE", 2)
    client = client_as(app, "viewer")
    url = f"/audit/users/{users['registrar'].id}"
    first, second = client.get(url).text, client.get(url + "?page=2").text
    assert "第 1 / 2 页" in first and "第 2 / 2 页" in second
    seqs_first = first.count('data-label="序号"')
    assert seqs_first == 2 and second.count('data-label="序号"') == 1


def test_exports_neutralise_formulas(app, session, world, users) -> None:
    users["handler"].display_name = '=HYPERLINK("http://evil.example","点")'
    world.agency.name = "+机关"
    session.commit()
    client = client_as(app, "admin")
    rows = rows_of(client.get(f"/audit/export.csv?request={world.concluded.id}"))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["类别", "编号", "机关", "序号"]
    assert [r[3] for r in body] == ["1", "2", "3", "1"]  # the request's events, then the case's
    assert [r[5] for r in body] == ["register", "accept", "decide", "file"]
    decide = body[2]
    assert decide[11] == '\'=HYPERLINK("http://evil.example","点")'
    assert decide[2] == "'+机关"
    assert '"outcome": "disclosed"' in decide[13]
    assert decide[9] == "2026-11-20 10:00" and decide[10] == "2026-11-20T02:00:00Z"
    for row in body:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row


def test_markup_in_a_payload_is_escaped(app, session, world, users) -> None:
    req = registered_request(session, world.agency, users["registrar"], "<script>alert(1)</script>")
    page = client_as(app, "viewer").get(f"/audit/requests/{req.id}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
