"""The lifecycle through workflow.requests.operations on a real database (SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from models import Agency, Event, Request, RequestFacts, User
from models.db import make_session_factory
from models.event import AppendOnlyError
from tests.conftest import NOW
from workflow.kernel.actor import Actor
from workflow.kernel.errors import ConflictError, GuardError, PermissionDenied, ValidationError
from workflow.requests import operations as ops
from workflow.store.calendar import load_calendar

INTAKE = {
    "applicant_name": "张三",
    "applicant_kind": "natural_person",
    "subject": "某地块征收补偿方案",
    "channel": "in_person",
    "submitted_on": "2026-09-24",
}


def actor(user: User) -> Actor:
    return Actor.of(user)


def register(session: Session, agency: Agency, user: User, **over: str) -> Request:
    req = ops.register(session, actor(user), NOW, {**INTAKE, **over}, agency=agency)
    session.commit()
    return req


def events_of(session: Session, req: Request) -> list[Event]:
    return list(
        session.scalars(select(Event).where(Event.request_id == req.id).order_by(Event.seq))
    )


def test_full_lifecycle_appends_one_event_per_step(session, agency, users) -> None:
    req = register(session, agency, users["registrar"])
    assert req.tracking_no == "2026-0001" and req.received_on == date(2026, 9, 24)
    steps = [
        ("registrar", "request_supplement", {"items": "请写明文号", "due_on": "2026-10-20"}),
        ("registrar", "receive_supplement", {}),
        ("approver", "extend", {"days": 10, "reason": "需调档", "approver": "approver"}),
        ("handler", "consult_third_party", {"party": "某置业公司"}),
        ("handler", "third_party_replied", {"opinion": "object"}),
        (
            "handler",
            "decide",
            {"outcome": "partially_disclosed", "delivery": "post", "grounds": "涉及个人隐私"},
        ),
    ]
    day = [
        "2026-09-28",
        "2026-10-13",
        "2026-10-20",
        "2026-10-22",
        "2026-11-05",
        "2026-11-10",
    ]
    for (role, trigger, payload), eff in zip(steps, day, strict=True):
        ops.fire(session, req, trigger, actor(users[role]), NOW, {"effective_date": eff, **payload})
        session.commit()
    assert req.state == "concluded"
    evs = events_of(session, req)
    assert [e.seq for e in evs] == list(range(1, 8))
    assert [e.trigger for e in evs] == ["register"] + [s[1] for s in steps]
    assert evs[-1].payload["outcome"] == "partially_disclosed"
    assert evs[-1].actor_id == users["handler"].id
    facts = session.get(RequestFacts, req.id)
    assert facts is not None
    assert (facts.concluded_on, facts.outcome) == (date(2026, 11, 10), "partially_disclosed")
    deadlines = ops.deadlines_of(req, evs, load_calendar(session), date(2026, 11, 20))
    # Restart 10-13 + 20 wd = 11-10; + 10 wd extension; + paused 10-22 → 11-05 (10 wd).
    assert deadlines.reply_due == date(2026, 12, 8)


def test_late_supplement_notice_is_recorded_and_flagged(session, agency, users) -> None:
    req = register(session, agency, users["registrar"])
    payload = {"effective_date": "2026-10-13", "items": "补充文号", "due_on": "2026-10-30"}
    event = ops.fire(session, req, "request_supplement", actor(users["registrar"]), NOW, payload)
    session.commit()
    assert req.state == "supplement_requested"
    assert "7个工作日" in event.payload["late"] and "2026-10-12" in event.payload["late"]


def test_refused_action_leaves_nothing_behind(session, agency, users) -> None:
    req = register(session, agency, users["registrar"])
    with pytest.raises(GuardError):
        ops.fire(
            session,
            req,
            "decide",
            actor(users["registrar"]),
            NOW,
            {"effective_date": "2026-10-01", "outcome": "disclosed", "delivery": "post"},
        )
    session.rollback()
    assert session.get(Request, req.id).state == "registered"
    assert len(events_of(session, req)) == 1


def test_bad_payload_reports_fields(session, agency, users) -> None:
    req = register(session, agency, users["registrar"])
    with pytest.raises(ValidationError) as err:
        ops.fire(
            session,
            req,
            "request_supplement",
            actor(users["registrar"]),
            NOW,
            {"effective_date": "2026-02-30", "due_on": "soon"},
        )
    assert set(err.value.field_errors) == {"effective_date", "items", "due_on"}


def test_extension_needs_a_real_approver(session, agency, users) -> None:
    req = register(session, agency, users["registrar"])
    ops.fire(
        session, req, "accept", actor(users["registrar"]), NOW, {"effective_date": "2026-09-25"}
    )
    with pytest.raises(ValidationError) as err:
        ops.fire(
            session,
            req,
            "extend",
            actor(users["handler"]),
            NOW,
            {"effective_date": "2026-10-09", "days": 5, "reason": "x", "approver": "handler"},
        )
    assert "审核人" in err.value.field_errors["approver"]


def test_crash_after_state_change_rolls_back_everything(
    session, agency, users, monkeypatch
) -> None:
    req = register(session, agency, users["registrar"])

    def broken(*_a: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ops, "project", broken)
    with pytest.raises(RuntimeError):
        ops.fire(
            session, req, "accept", actor(users["registrar"]), NOW, {"effective_date": "2026-09-25"}
        )
    session.rollback()
    fresh = session.get(Request, req.id)
    assert fresh.state == "registered" and fresh.last_seq == 1
    assert len(events_of(session, req)) == 1


def test_two_clerks_at_once_get_a_conflict_not_a_lost_update(
    engine: Engine, agency, users, session
) -> None:
    req = register(session, agency, users["registrar"])
    factory = make_session_factory(engine)
    s1, s2 = factory(), factory()
    r1, r2 = s1.get(Request, req.id), s2.get(Request, req.id)
    ops.fire(s1, r1, "accept", actor(users["registrar"]), NOW, {"effective_date": "2026-09-25"})
    s1.commit()
    with pytest.raises(ConflictError, match="已被他人更新"):
        ops.fire(
            s2, r2, "withdraw", actor(users["registrar"]), NOW, {"effective_date": "2026-09-25"}
        )
    s2.rollback()
    s1.close()
    s2.close()
    session.expire_all()
    assert session.get(Request, req.id).state == "in_review"
    assert [e.trigger for e in events_of(session, req)] == ["register", "accept"]


def test_stale_form_version_is_a_conflict(session, agency, users) -> None:
    req = register(session, agency, users["registrar"])
    seen = req.version
    ops.fire(
        session, req, "accept", actor(users["registrar"]), NOW, {"effective_date": "2026-09-25"}
    )
    session.commit()
    with pytest.raises(ConflictError):
        ops.fire(
            session,
            req,
            "withdraw",
            actor(users["registrar"]),
            NOW,
            {"effective_date": "2026-09-26"},
            expected_version=seen,
        )


def test_events_are_append_only_in_code(session, agency, users) -> None:
    req = register(session, agency, users["registrar"])
    event = events_of(session, req)[0]
    event.trigger = "decide"
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()
    session.delete(events_of(session, req)[0])
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()


@pytest.mark.parametrize("sql", ["UPDATE events SET trigger = 'decide'", "DELETE FROM events"])
def test_events_are_append_only_in_the_database(
    engine: Engine, session, agency, users, sql
) -> None:
    register(session, agency, users["registrar"])
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(sql))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Event)).scalar() == 1


def test_tracking_numbers_are_per_agency_and_year(session, agency, users) -> None:
    numbers = [register(session, agency, users["registrar"]).tracking_no for _ in range(3)]
    old = register(session, agency, users["registrar"], submitted_on="2025-12-30")
    assert numbers == ["2026-0001", "2026-0002", "2026-0003"]
    assert old.tracking_no == "2025-0001"


def test_intake_receipt_date_follows_the_channel(session, agency, users) -> None:
    with pytest.raises(ValidationError) as err:
        register(session, agency, users["registrar"], received_on="2026-09-25")
    assert "当面提交" in err.value.field_errors["received_on"]
    session.rollback()
    req = register(session, agency, users["registrar"], channel="post", received_on="2026-09-28")
    assert req.received_on == date(2026, 9, 28)


def test_resident_id_is_checked(session, agency, users) -> None:
    with pytest.raises(ValidationError) as err:
        register(
            session,
            agency,
            users["registrar"],
            id_type="resident_id",
            id_number="110101199003071234",
        )
    assert "校验位" in err.value.field_errors["id_number"]
    session.rollback()
    ok = register(
        session, agency, users["registrar"], id_type="resident_id", id_number="11010519491231002x"
    )
    assert ok.id_number == "11010519491231002X"


def test_other_agency_cannot_act(session, agency, users) -> None:
    req = register(session, agency, users["registrar"])
    other = Agency(code="other", name="其他机关")
    session.add(other)
    session.commit()
    stranger = Actor(None, "x", other.id, frozenset({"handler"}))
    with pytest.raises(PermissionDenied, match="只能办理本机关的申请"):
        ops.fire(session, req, "accept", stranger, NOW, {"effective_date": "2026-09-25"})
    session.rollback()
    session.refresh(req)
    assert req.state == "registered" and len(events_of(session, req)) == 1  # nothing happened
