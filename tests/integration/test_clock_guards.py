"""The clock rules as the clerk meets them, on a real database (SQLite or PostgreSQL):
a late extension, a fee lapse before the applicant's legal deadline, "no reply" before
the consulted party's deadline, and a forgotten consultation (docs/domain.md §3.11)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from documents.notices_pdf import render_notice
from models import Agency, Event, Request, RequestFacts
from tests.conftest import NOW
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.errors import GuardError
from workflow.notices import operations as nops
from workflow.requests import operations as ops
from workflow.requests.clocks import overdue_condition, pause_lapsed
from workflow.store.calendar import load_calendar

TODAY = local_today(NOW)  # 2026-11-20, a Friday


def actor(users, role: str) -> Actor:
    return Actor.of(users[role])


def received(session, agency: Agency, users, on: str) -> Request:
    intake = {
        "applicant_name": "张三",
        "applicant_kind": "natural_person",
        "subject": "某地块征收补偿方案",
        "channel": "in_person",
        "submitted_on": on,
    }
    req = ops.register(session, actor(users, "registrar"), NOW, intake, agency=agency)
    fire(session, users, req, "registrar", "accept", on)
    return req


def fire(session, users, req: Request, role: str, trigger: str, on: str, **payload) -> Event:
    event = ops.fire(
        session, req, trigger, actor(users, role), NOW, {"effective_date": on, **payload}
    )
    session.commit()
    return event


def deadlines(session, req: Request):
    events = ops.history(session, req)
    return ops.request_deadlines(session, req, events, load_calendar(session), TODAY)


def test_late_extension_is_refused_unless_an_approver_records_it_and_it_moves_nothing(
    session, agency, users
) -> None:
    """B4: received 10-15, due 11-12; an extension dated 11-20."""
    req = received(session, agency, users, "2026-10-15")
    extension = {"days": 20, "reason": "需调取档案", "approver": "approver"}
    with pytest.raises(GuardError, match=r"第三十三条第二款.*逾期延期理由"):
        fire(session, users, req, "handler", "extend", "2026-11-20", **extension)
    with pytest.raises(GuardError, match="须由审核人操作"):
        fire(
            session, users, req, "handler", "extend", "2026-11-20", **extension, late_reason="漏办"
        )
    late = fire(
        session, users, req, "approver", "extend", "2026-11-20", **extension, late_reason="漏办"
    )
    assert late.payload["late"].startswith("延期决定晚于答复期限")
    d = deadlines(session, req)
    assert d.reply_due == date(2026, 11, 12) and d.late_extension and d.overdue(TODAY)
    assert session.get(RequestFacts, req.id).reply_due == date(2026, 11, 12)
    with pytest.raises(GuardError, match="不出具延期答复告知书"):
        nops.issue_notice(
            session, actor(users, "handler"), NOW, req, "extension", render=render_notice
        )
    decision = fire(
        session, users, req, "handler", "decide", "2026-11-20", outcome="disclosed", delivery="post"
    )
    assert decision.payload["late"] == "答复晚于法定期限（答复期限截止 2026-11-12）"


def test_fee_lapse_waits_for_the_applicants_deadline_from_receipt(session, agency, users) -> None:
    req = received(session, agency, users, "2026-09-24")
    fire(
        session, users, req, "handler", "issue_fee_notice", "2026-10-20",
        method="per_page", pages=40, delivery="post",
    )  # fmt: skip
    # By post: presumed received 10-23, 20 wd from the next day → 11-20 (from dispatch: 11-17).
    d = deadlines(session, req)
    assert d.fee_due == date(2026, 11, 20) and d.presumed == {"fee_due"}
    with pytest.raises(GuardError, match="缴费期限（2026-11-20）尚未届满"):
        fire(session, users, req, "handler", "fee_lapsed", "2026-11-18")
    assert session.get(RequestFacts, req.id).pause_due == date(2026, 11, 20)

    notice = nops.issue_notice(
        session, actor(users, "handler"), NOW, req, "fee", render=render_notice
    )
    nops.record_service(session, actor(users, "registrar"), NOW, notice, "2026-10-21")
    session.commit()
    d = deadlines(session, req)
    assert d.fee_due == date(2026, 11, 18) and not d.presumed
    assert session.get(RequestFacts, req.id).pause_due == date(2026, 11, 18)
    assert req.id in pause_lapsed(session, [agency.id], TODAY, 10)[1]
    fire(session, users, req, "handler", "fee_lapsed", "2026-11-19")
    assert req.state == "concluded"


def test_no_reply_only_after_the_consulted_partys_deadline(session, agency, users) -> None:
    req = received(session, agency, users, "2026-10-26")
    fire(session, users, req, "handler", "consult_agency", "2026-11-02", party="某局")
    assert deadlines(session, req).consultation_due == date(2026, 11, 23)
    with pytest.raises(GuardError, match=r"2026-11-23.*尚未届满"):
        fire(session, users, req, "handler", "agency_replied", "2026-11-20", opinion="no_reply")
    fire(session, users, req, "handler", "agency_replied", "2026-11-20", opinion="agree")
    assert req.state == "in_review"


def test_a_forgotten_consultation_is_overdue_in_sql(session, agency, users) -> None:
    """G48: consulted in September, never answered — overdue and listed for attention."""
    req = received(session, agency, users, "2026-09-01")
    fire(session, users, req, "handler", "consult_third_party", "2026-09-03", party="某公司")
    d = deadlines(session, req)
    row = session.get(RequestFacts, req.id)
    assert row.paused and row.reply_due == d.reply_due and d.overdue(TODAY)
    assert not d.paused  # the party's deadline has passed: the clock runs again
    where = overdue_condition(session, [agency.id], load_calendar(session), TODAY)
    assert session.scalars(select(Request.id).where(where)).all() == [req.id]
    assert pause_lapsed(session, [agency.id], TODAY, 10) == (1, [req.id])
