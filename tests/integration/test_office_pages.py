"""The office's pages as each role uses them: 分办 (one and bulk), the 未分配 queue and
我承办的, an extension proposed and approved, a correction struck through."""

from __future__ import annotations

import re
from datetime import timedelta

from models import Event, Request
from tests.conftest import login
from views.common import utc_now
from workflow.kernel.actor import local_today


def client_for(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 200
    return client


def days_ago(n: int) -> str:
    return (local_today(utc_now()) - timedelta(days=n)).isoformat()


def register(client) -> int:
    page = client.post(
        "/requests/new",
        data={
            "applicant_name": "李四",
            "applicant_kind": "natural_person",
            "subject": f"某路段改造工程预算 {utc_now().timestamp()}",
            "channel": "in_person",
            "submitted_on": days_ago(10),
            "confirm_duplicate": "1",
        },
    )
    assert page.status_code == 302, page.text
    return int(page.headers["Location"].rsplit("/", 1)[-1])


def fresh(session, rid: int) -> Request:
    session.expire_all()
    return session.get(Request, rid)


def test_front_desk_assigns_in_bulk_and_the_handler_finds_them(app, session, users) -> None:
    registrar = client_for(app, "registrar")
    first, second = register(registrar), register(registrar)
    queue = registrar.get("/requests?handler=none").text
    assert f'name="ids" value="{first}"' in queue and f'name="ids" value="{second}"' in queue

    handler = client_for(app, "handler")
    assert "没有分配给您的在办申请" in handler.get("/dashboard").text

    page = registrar.post(
        "/requests/assign",
        data={"ids": [str(first), str(second)], "handler": str(users["handler"].id)},
        follow_redirects=True,
    )
    assert "已将 2 件申请分办给handler" in page.text
    assert "共 0 件" in registrar.get("/requests?handler=none").text
    mine = handler.get("/dashboard").text
    assert fresh(session, first).tracking_no in mine and fresh(session, second).tracking_no in mine
    detail = handler.get(f"/requests/{first}").text
    assert "分办" in detail and "未分配 → handler" in detail

    # Nothing ticked: refused with a message, nothing recorded.
    page = registrar.post(
        "/requests/assign", data={"handler": str(users["handler"].id)}, follow_redirects=True
    )
    assert "请先勾选要分办的申请" in page.text

    # Reassign one from its page, with the version the user saw.
    version = fresh(session, first).version
    page = registrar.post(
        f"/requests/{first}/assign",
        data={"handler": str(users["approver"].id), "expected_version": str(version)},
        follow_redirects=True,
    )
    assert "已分办给approver" in page.text
    stale = registrar.post(
        f"/requests/{first}/assign",
        data={"handler": str(users["handler"].id), "expected_version": str(version)},
        follow_redirects=True,
    )
    assert "刚刚已被他人更新" in stale.text
    assert fresh(session, first).handler_id == users["approver"].id


def test_extension_is_proposed_by_the_handler_and_signed_by_the_approver(
    app, session, users
) -> None:
    handler = client_for(app, "handler")
    rid = register(handler)
    version = fresh(session, rid).version
    handler.post(
        f"/requests/{rid}/act/accept",
        data={"expected_version": str(version), "effective_date": days_ago(9)},
    )
    assert "提请延期答复" in handler.get(f"/requests/{rid}").text
    form = handler.get(f"/requests/{rid}/propose-extension").text
    assert "第三十三条第二款" in form
    bad = handler.post(f"/requests/{rid}/propose-extension", data={"days": "30", "reason": "x"})
    assert bad.status_code == 400 and "不能大于20" in bad.text
    ok = handler.post(
        f"/requests/{rid}/propose-extension", data={"days": "10", "reason": "涉及多个科室"}
    )
    assert ok.status_code == 302
    # The handler cannot approve; the approver sees it on the workbench.
    pending = next(
        e for e in session.query(Event).filter_by(request_id=rid, trigger="propose").all()
    )
    refused = handler.post(f"/requests/{rid}/proposals/{pending.id}/approve")
    assert refused.status_code == 403
    approver = client_for(app, "approver")
    board = approver.get("/dashboard").text
    assert "待我审核" in board and "延期答复 10 个工作日" in board
    page = approver.post(
        f"/requests/{rid}/proposals/{pending.id}/approve",
        data={"effective_date": days_ago(2), "expected_version": str(fresh(session, rid).version)},
        follow_redirects=True,
    )
    assert "已审核同意" in page.text
    assert "延期答复" in page.text and "待我审核" not in approver.get("/dashboard").text
    extend = session.query(Event).filter_by(request_id=rid, trigger="extend").one()
    assert extend.payload["approver"] == "approver" and extend.actor_id == users["approver"].id


def test_correction_shows_the_original_struck_through(app, session, users) -> None:
    handler = client_for(app, "handler")
    rid = register(handler)
    handler.post(
        f"/requests/{rid}/act/accept",
        data={"expected_version": str(fresh(session, rid).version), "effective_date": days_ago(1)},
    )
    accept = session.query(Event).filter_by(request_id=rid, trigger="accept").one()
    detail = handler.get(f"/requests/{rid}").text
    assert f"/requests/{rid}/correct/{accept.id}" in detail

    # A handler's date correction becomes a proposal; the approver's own is recorded.
    data = {"field": "effective_date", "new_date": days_ago(8), "reason": "录入时日期填错"}
    page = handler.post(f"/requests/{rid}/correct/{accept.id}", data=data, follow_redirects=True)
    assert "已提请审核人批准更正" in page.text
    assert "<del>" not in page.text
    approver = client_for(app, "approver")
    missing = approver.post(f"/requests/{rid}/correct/{accept.id}", data={**data, "reason": ""})
    assert missing.status_code == 400 and "更正须写明理由" in missing.text
    proposal = session.query(Event).filter_by(request_id=rid, trigger="propose").one()
    page = approver.post(
        f"/requests/{rid}/proposals/{proposal.id}/approve", data={}, follow_redirects=True
    )
    assert re.search(r"<del>\s*" + re.escape(days_ago(1)), page.text)
    assert f"{days_ago(1)} → {days_ago(8)}" in page.text and "已更正" in page.text
    # Another agency's event id, or an office entry, is not a step to correct.
    assert approver.get(f"/requests/{rid}/correct/{proposal.id}").status_code == 404


def test_duplicate_is_linked_on_save_and_offered_to_the_duplicate_reply(
    app, session, users
) -> None:
    handler = client_for(app, "handler")
    intake = {
        "applicant_name": "赵六",
        "applicant_kind": "natural_person",
        "id_type": "resident_id",
        "id_number": "11010519491231002X",
        "subject": "申请公开2025年某路段改造工程的预算",
        "channel": "in_person",
        "submitted_on": days_ago(20),
    }
    first = handler.post("/requests/new", data=intake)
    assert first.status_code == 302
    first_id = int(first.headers["Location"].rsplit("/", 1)[-1])
    handler.post(
        f"/requests/{first_id}/act/accept",
        data={
            "expected_version": str(fresh(session, first_id).version),
            "effective_date": days_ago(19),
        },
    )
    version = fresh(session, first_id).version
    handler.post(
        f"/requests/{first_id}/act/decide",
        data={
            "expected_version": str(version),
            "effective_date": days_ago(15),
            "outcome": "disclosed",
            "delivery": "post",
        },
    )
    # Reworded, same ID number: still caught, and linked when saved.
    again = {**intake, "subject": "某路段改造工程2025年预算，请予公开", "submitted_on": days_ago(3)}
    warned = handler.post("/requests/new", data=again)
    assert (
        "可能重复登记" in warned.text and f'name="duplicate_of" value="{first_id}"' in warned.text
    )
    saved = handler.post(
        "/requests/new", data={**again, "confirm_duplicate": "1", "duplicate_of": str(first_id)}
    )
    assert saved.status_code == 302
    second_id = int(saved.headers["Location"].rsplit("/", 1)[-1])
    earlier_no = fresh(session, first_id).tracking_no
    detail = handler.get(f"/requests/{second_id}").text
    assert "重复申请，在先申请" in detail and earlier_no in detail
    assert "在后的重复申请" in handler.get(f"/requests/{first_id}").text
    # The decision form offers the earlier request, chosen already.
    form = handler.get(f"/requests/{second_id}/act/decide").text
    chosen = re.search(r'<select[^>]*name="earlier".*?</select>', form, re.S)
    assert chosen and re.search(
        f'<option[^>]*selected[^>]*value="{earlier_no}"', chosen.group(0)
    ), chosen and chosen.group(0)


def test_same_information_from_several_applicants_is_flagged(app, session, users) -> None:
    registrar = client_for(app, "registrar")
    base = {
        "applicant_kind": "natural_person",
        "subject": "本县2025年度城市供水价格调整听证材料",
        "channel": "in_person",
        "submitted_on": days_ago(5),
    }
    a = registrar.post("/requests/new", data={**base, "applicant_name": "甲"})
    b = registrar.post("/requests/new", data={**base, "applicant_name": "乙"})
    a_id = int(a.headers["Location"].rsplit("/", 1)[-1])
    b_no = fresh(session, int(b.headers["Location"].rsplit("/", 1)[-1])).tracking_no
    detail = registrar.get(f"/requests/{a_id}").text
    assert "第四十四条" in detail and b_no in detail


def test_split_and_merge_from_the_request_page(app, session, users) -> None:
    handler = client_for(app, "handler")
    rid = register(handler)
    assert "拆分申请" in handler.get(f"/requests/{rid}").text
    bad = handler.post(f"/requests/{rid}/split", data={"items": "只有一项"})
    assert bad.status_code == 400 and "拆分至少需要两项" in bad.text
    page = handler.post(
        f"/requests/{rid}/split", data={"items": "第一项\n第二项\n第三项"}, follow_redirects=True
    )
    assert "已拆分：本申请继续办理第1项" in page.text and "拆分为" in page.text
    children = session.query(Request).filter(Request.subject.in_(["第二项", "第三项"])).all()
    assert len(children) == 2

    approver = client_for(app, "approver")
    assert handler.get(f"/requests/{rid}/merge").status_code == 403
    form = approver.get(f"/requests/{rid}/merge").text
    assert all(f'value="{c.id}"' in form for c in children)
    page = approver.post(
        f"/requests/{rid}/merge",
        data={"ids": [str(children[0].id)], "reason": "同一申请重复登记"},
        follow_redirects=True,
    )
    assert "已将 1 件申请并入本申请" in page.text and "合并了" in page.text
    assert fresh(session, children[0].id).state == "voided"


def test_assignment_and_correction_through_the_api(app, session, users) -> None:
    from workflow.online.tokens import create_token

    tokens = {r: create_token(session, r).token for r in ("registrar", "handler", "viewer")}
    session.commit()
    rid = register(client_for(app, "registrar"))

    def post(role: str, path: str, body: dict):
        return app.test_client().post(
            f"/api/v1/requests/{rid}/{path}",
            json=body,
            headers={"Authorization": f"Bearer {tokens[role]}"},
        )

    assert post("viewer", "assignment", {"handler": "handler"}).status_code == 403
    done = post("registrar", "assignment", {"handler": "handler"})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert fresh(session, rid).handler_id == users["handler"].id
    bad = post("registrar", "assignment", {"handler": "viewer"})
    assert bad.status_code == 422 and "承办人须为本机关" in bad.get_data(as_text=True)
    unknown = post("registrar", "assignment", {"handler": "handler", "extra": 1})
    assert unknown.status_code == 422

    registration = post(
        "handler",
        "corrections",
        {"seq": 1, "field": "effective_date", "new": days_ago(11), "reason": "r"},
    )
    assert registration.status_code == 422  # the receipt date is fixed by the intake rules
    accepted = post("handler", "events", {"trigger": "accept", "effective_on": days_ago(2)})
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    proposed = post(
        "handler",
        "corrections",
        {"seq": 3, "field": "effective_date", "new": days_ago(9), "reason": "录错"},
    )
    assert proposed.status_code == 201 and proposed.json["recorded"] is False
    assert proposed.json["event"]["trigger"] == "propose"
