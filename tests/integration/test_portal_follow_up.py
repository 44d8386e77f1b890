"""After applying online: the applicant follows the request with the 查询码, opens the
notices served to them (the first opening is electronic service), answers a 补正 and
withdraws — and nobody without the code reaches any of it (docs/domain.md §11.6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from documents.notices_pdf import render_notice
from models import Event, Notice, PortalSubmission, Request
from tests.integration.routes import signed_in
from tests.integration.test_portal import apply, lookup, number_and_code
from workflow.kernel.actor import Actor, local_today
from workflow.notices import operations as nops
from workflow.online.portal import confirm
from workflow.requests import operations as ops


def _now() -> datetime:
    return datetime.now(UTC)


def _confirmed(client, session, users) -> tuple[str, str, Request]:
    """An online application, confirmed as received today by the registrar."""
    number, code = number_and_code(apply(client))
    row = session.scalar(select(PortalSubmission).where(PortalSubmission.number == number))
    clerk = Actor.of(users["registrar"])
    req = confirm(session, clerk, _now(), row.id, local_today(_now()))
    session.commit()
    return number, code, req


def _supplement_asked(session, users, req: Request) -> Notice:
    handler = Actor.of(users["handler"])
    today = local_today(_now())
    ops.fire(
        session,
        req,
        "request_supplement",
        handler,
        _now(),
        {
            "effective_date": today.isoformat(),
            "items": "请写明所需文件的名称或文号",
            "due_on": (today + timedelta(days=15)).isoformat(),
        },
    )
    notice = nops.issue_notice(session, handler, _now(), req, "supplement", render=render_notice)
    session.commit()
    return notice


def test_the_status_page_shows_the_steps_and_the_notices_served_to_the_applicant(
    client, session, agency, users
) -> None:
    number, code, req = _confirmed(client, session, users)
    notice = _supplement_asked(session, users, req)
    page = lookup(client, number, code).get_data(as_text=True)
    assert "办理过程" in page and "告知补正" in page and "登记" in page
    assert notice.number in page and "补正告知书" in page
    # No staff names, no internal notes.
    for name in (users["handler"].display_name, users["registrar"].display_name):
        assert name not in page


def test_opening_a_notice_online_serves_it_that_day_once(app, client, session, agency, users):
    number, code, req = _confirmed(client, session, users)
    notice = _supplement_asked(session, users, req)
    assert lookup(client, number, code).status_code == 200
    pdf = client.get(f"/apply/status/notices/{notice.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Cache-Control"] == "no-store"
    session.expire_all()
    served = session.get(Notice, notice.id)
    assert served.served_on == local_today(_now()) and served.served_via == "portal"
    assert served.served_by_id is None
    # Opening it again changes nothing; the clerk's page says how it was served.
    assert client.get(f"/apply/status/notices/{notice.id}.pdf").status_code == 200
    clerk = signed_in(app, session, users["registrar"])
    staff_page = clerk.get(f"/requests/{req.id}").get_data(as_text=True)
    assert "网上平台电子送达" in staff_page


def test_without_the_code_nothing_is_reachable(app, client, session, agency, users) -> None:
    number, code, req = _confirmed(client, session, users)
    notice = _supplement_asked(session, users, req)
    stranger = app.test_client()
    assert stranger.get(f"/apply/status/notices/{notice.id}.pdf").status_code == 404
    assert stranger.post("/apply/status/withdraw", data={"confirm": "yes"}).status_code == 404
    # Another applicant's code opens their own submission only.
    other_number, other_code = number_and_code(apply(stranger, applicant_name="李另一"))
    assert lookup(stranger, other_number, other_code).status_code == 200
    assert stranger.get(f"/apply/status/notices/{notice.id}.pdf").status_code == 404
    session.expire_all()
    assert session.get(Notice, notice.id).served_on is None
    # Leaving ends the visit's access.
    lookup(client, number, code)
    client.post("/apply/status/leave")
    assert client.get(f"/apply/status/notices/{notice.id}.pdf").status_code == 404


def test_letters_to_others_are_never_shown_or_served(client, session, agency, users) -> None:
    number, code, req = _confirmed(client, session, users)
    handler = Actor.of(users["handler"])
    today = local_today(_now()).isoformat()
    ops.fire(session, req, "accept", handler, _now(), {"effective_date": today})
    ops.fire(
        session,
        req,
        "consult_third_party",
        handler,
        _now(),
        {"effective_date": today, "party": "某公司", "matter": "是否同意公开", "sent_by": "post"},
    )
    letter = nops.issue_notice(
        session, handler, _now(), req, "consultation_third_party", render=render_notice
    )
    session.commit()
    page = lookup(client, number, code).get_data(as_text=True)
    assert letter.number not in page
    assert client.get(f"/apply/status/notices/{letter.id}.pdf").status_code == 404
    session.expire_all()
    assert session.get(Notice, letter.id).served_on is None


def test_the_applicant_answers_the_supplement_online(app, client, session, agency, users) -> None:
    number, code, req = _confirmed(client, session, users)
    _supplement_asked(session, users, req)
    lookup(client, number, code)
    empty = client.post("/apply/status/supplement", data={"note": "  "}, follow_redirects=True)
    assert "补正未提交：请填写补正内容" in empty.get_data(as_text=True)
    session.expire_all()
    assert session.get(Request, req.id).state == "supplement_requested"
    done = client.post(
        "/apply/status/supplement",
        data={"note": "所需文件为某政发〔2025〕3号"},
        follow_redirects=True,
    )
    assert "补正材料已提交" in done.get_data(as_text=True)
    session.expire_all()
    assert session.get(Request, req.id).state == "in_review"
    event = session.scalars(select(Event).where(Event.request_id == req.id)).all()[-1]
    assert event.trigger == "receive_supplement" and event.actor_id is None
    assert event.payload == {"note": "所需文件为某政发〔2025〕3号", "portal": number}
    assert event.effective_date == local_today(_now())
    clerk = signed_in(app, session, users["registrar"])
    assert "申请人（网上平台）" in clerk.get(f"/requests/{req.id}").get_data(as_text=True)


def test_the_applicant_withdraws_online_only_when_confirmed(client, session, agency, users):
    number, code, req = _confirmed(client, session, users)
    lookup(client, number, code)
    unticked = client.post("/apply/status/withdraw", data={}, follow_redirects=True)
    assert "请勾选“确认撤回本申请”" in unticked.get_data(as_text=True)
    session.expire_all()
    assert session.get(Request, req.id).state == "registered"
    done = client.post("/apply/status/withdraw", data={"confirm": "yes", "reason": "已另行获取"})
    assert done.status_code == 303
    session.expire_all()
    assert session.get(Request, req.id).state == "concluded"
    page = client.get("/apply/status").get_data(as_text=True)
    assert "申请人撤回" in page and "撤回申请</h2>" not in page
