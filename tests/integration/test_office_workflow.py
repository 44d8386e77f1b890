"""The office's daily work on a real database: assignment (分办), sign-off (审核签发),
corrections (更正) and linked requests (docs/domain.md §15)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from models import Agency, Event, PublishedReport, Request, RequestFacts, User
from models.event import AppendOnlyError
from tests.conftest import NOW, make_user
from workflow.admin.log_check import verify_log
from workflow.kernel.actor import Actor
from workflow.kernel.errors import GuardError, PermissionDenied, ValidationError
from workflow.requests import office_operations as office_ops
from workflow.requests import operations as ops
from workflow.requests.office import links, pending_proposals
from workflow.store.calendar import load_calendar

INTAKE = {
    "applicant_name": "张三",
    "applicant_kind": "natural_person",
    "subject": "某地块征收补偿方案",
    "channel": "in_person",
    "submitted_on": "2026-11-02",
}


def a(user: User) -> Actor:
    return Actor.of(user)


def register(session: Session, agency: Agency, user: User, **over: str) -> Request:
    req = ops.register(session, a(user), NOW, {**INTAKE, **over}, agency=agency)
    session.commit()
    return req


def step(session: Session, req: Request, user: User, trigger: str, day: str, **payload) -> Event:
    event = ops.fire(session, req, trigger, a(user), NOW, {"effective_date": day, **payload})
    session.commit()
    return event


def facts(session: Session, req: Request) -> RequestFacts:
    session.expire_all()
    return session.get(RequestFacts, req.id)


# --------------------------------------------------------------------------- 分办


def test_front_desk_request_is_unassigned_until_assigned_then_reassigned(
    session, agency, users
) -> None:
    req = register(session, agency, users["registrar"])
    assert req.handler_id is None  # the front desk is no handler
    event = office_ops.assign(session, req, a(users["registrar"]), NOW, users["handler"].id)
    session.commit()
    assert req.handler_id == users["handler"].id
    assert event.trigger == "assign" and event.from_state == event.to_state == "registered"
    assert event.payload["handler"] == "handler" and event.payload["previous"] == ""

    office_ops.assign(session, req, a(users["approver"]), NOW, users["approver"].id)
    session.commit()
    log = [e.trigger for e in ops.history(session, req)]
    assert log == ["register", "assign", "assign"]
    assert req.handler_id == users["approver"].id
    assert verify_log(session) == []


def test_assignment_refuses_strangers_and_other_roles(session, agency, users) -> None:
    req = register(session, agency, users["registrar"])
    with pytest.raises(PermissionDenied):
        office_ops.assign(session, req, a(users["viewer"]), NOW, users["handler"].id)
    with pytest.raises(ValidationError, match="承办人须为本机关"):
        office_ops.assign(session, req, a(users["registrar"]), NOW, users["viewer"].id)
    other = Agency(code="other", name="其他机关")
    session.add(other)
    session.commit()
    stranger = make_user(session, other, "stranger", "handler")
    with pytest.raises(ValidationError):
        office_ops.assign(session, req, a(users["registrar"]), NOW, stranger.id)
    with pytest.raises(PermissionDenied):
        office_ops.assign(session, req, a(stranger), NOW, stranger.id)


def test_bulk_assignment_is_one_event_each_and_all_or_nothing(session, agency, users) -> None:
    reqs = [register(session, agency, users["registrar"]) for _ in range(3)]
    events = office_ops.assign_many(
        session, [r.id for r in reqs], a(users["approver"]), NOW, users["handler"].id
    )
    session.commit()
    assert len(events) == 3 and {e.request_id for e in events} == {r.id for r in reqs}
    ops.fire(
        session,
        reqs[0],
        "void",
        a(users["approver"]),
        NOW,
        {"effective_date": "2026-11-03", "reason": "错登"},
    )
    session.commit()
    with pytest.raises(GuardError, match=reqs[0].tracking_no):
        office_ops.assign_many(
            session, [r.id for r in reqs], a(users["approver"]), NOW, users["approver"].id
        )
    session.rollback()
    assert {session.get(Request, r.id).handler_id for r in reqs} == {users["handler"].id}


def test_assignment_does_not_block_a_step_dated_before_it(session, agency, users) -> None:
    """An assignment is dated the day it is recorded; it is no step of the procedure, so
    the accept dated earlier may still be recorded after it."""
    req = register(session, agency, users["registrar"])
    office_ops.assign(session, req, a(users["registrar"]), NOW, users["handler"].id)
    session.commit()
    step(session, req, users["handler"], "accept", "2026-11-03")
    assert req.state == "in_review"


# --------------------------------------------------------------------------- 审核签发


def accepted(session, agency, users) -> Request:
    req = register(session, agency, users["registrar"])
    step(session, req, users["handler"], "accept", "2026-11-03")
    return req


def test_handler_cannot_extend_but_proposes_and_another_approver_approves(
    session, agency, users
) -> None:
    req = accepted(session, agency, users)
    with pytest.raises(GuardError, match="只有审核人可以进行此操作"):
        step(session, req, users["handler"], "extend", "2026-11-10", days=10, reason="调档")
    session.rollback()
    proposal = office_ops.propose(
        session, req, a(users["handler"]), NOW, "extension", {"days": 10, "reason": "需调档"}
    )
    session.commit()
    assert [p.id for p in pending_proposals(ops.history(session, req))] == [proposal.id]
    assert [(r.id, e.id) for r, e in office_ops.pending_for(session, agency.id)] == [
        (req.id, proposal.id)
    ]
    # Nothing changed yet: the reply deadline is still the unextended one.
    assert facts(session, req).reply_due == date(2026, 11, 30)

    office_ops.approve(session, req, a(users["approver"]), NOW, proposal.id)
    session.commit()
    log = ops.history(session, req)
    extend = next(e for e in log if e.trigger == "extend")
    assert extend.payload["approver"] == "approver" and extend.payload["days"] == 10
    assert extend.actor_id == users["approver"].id
    assert extend.effective_date == date(2026, 11, 20)  # the approval day
    assert facts(session, req).reply_due == date(2026, 12, 14)
    assert office_ops.pending_for(session, agency.id) == []
    assert verify_log(session) == []


def test_nobody_approves_their_own_proposal_while_another_approver_exists(
    session, agency, users
) -> None:
    req = accepted(session, agency, users)
    second = make_user(session, agency, "second", "approver")
    mine = office_ops.propose(
        session, req, a(users["approver"]), NOW, "extension", {"days": 5, "reason": "调档"}
    )
    session.commit()
    with pytest.raises(GuardError, match="不能审核自己提请的事项"):
        office_ops.approve(session, req, a(users["approver"]), NOW, mine.id)
    session.rollback()
    with pytest.raises(PermissionDenied):
        office_ops.approve(session, req, a(users["handler"]), NOW, mine.id)
    session.rollback()
    # The other approver rejects it; once they have left, the sole approver signs their own.
    office_ops.reject(session, req, a(second), NOW, mine.id, "理由不足")
    session.commit()
    assert pending_proposals(ops.history(session, req)) == []
    again = office_ops.propose(
        session, req, a(users["approver"]), NOW, "extension", {"days": 5, "reason": "补充理由"}
    )
    session.commit()
    second.active = False
    session.commit()
    office_ops.approve(session, req, a(users["approver"]), NOW, again.id)
    session.commit()
    assert [e.trigger for e in ops.history(session, req)][-1] == "extend"


def test_the_approver_field_names_only_the_approver_recording_it(session, agency, users) -> None:
    req = accepted(session, agency, users)
    other = make_user(session, agency, "other-approver", "approver")
    with pytest.raises(ValidationError, match="本人"):
        step(
            session,
            req,
            users["approver"],
            "extend",
            "2026-11-10",
            days=5,
            reason="r",
            approver=other.username,
        )
    session.rollback()
    event = step(session, req, users["approver"], "extend", "2026-11-10", days=5, reason="r")
    assert event.payload["approver"] == "approver"


def test_decision_waits_for_sign_off_where_the_agency_wants_it(session, agency, users) -> None:
    agency.decision_signoff = True
    session.commit()
    req = accepted(session, agency, users)
    decide = step(
        session, req, users["handler"], "decide", "2026-11-12", outcome="disclosed", delivery="post"
    )
    assert office_ops.issue_refusal(session, req, decide) is not None
    proposal = office_ops.propose(
        session, req, a(users["handler"]), NOW, "decision", {"target_id": decide.id}
    )
    session.commit()
    assert office_ops.issue_refusal(session, req, decide) is not None
    office_ops.approve(session, req, a(users["approver"]), NOW, proposal.id)
    session.commit()
    assert office_ops.issue_refusal(session, req, decide) is None


# --------------------------------------------------------------------------- 更正


def test_wrong_date_that_blocks_a_later_step_is_corrected_by_an_approver(
    session, agency, users
) -> None:
    """The walkthrough's case: an accept wrongly dated 11-13 made the real 11-12
    decision impossible; correcting the accept's date lets the decision be recorded."""
    req = register(session, agency, users["registrar"])
    accept = step(session, req, users["handler"], "accept", "2026-11-13")
    with pytest.raises(GuardError, match="不能早于上一步骤的日期"):
        step(
            session,
            req,
            users["handler"],
            "decide",
            "2026-11-12",
            outcome="disclosed",
            delivery="post",
        )
    session.rollback()
    raw = {
        "target_id": accept.id,
        "field": "effective_date",
        "new": "2026-11-03",
        "reason": "录入错误",
    }
    with pytest.raises(GuardError, match="须经审核人批准"):
        office_ops.correct(session, req, a(users["handler"]), NOW, raw)
    session.rollback()
    fix = office_ops.correct(session, req, a(users["approver"]), NOW, raw)
    session.commit()
    assert fix.payload["old"] == "2026-11-13" and fix.payload["approved_by"] == "approver"
    step(
        session, req, users["handler"], "decide", "2026-11-12", outcome="disclosed", delivery="post"
    )
    # The original row is untouched: the log keeps both.
    session.expire_all()
    assert session.get(Event, accept.id).effective_date == date(2026, 11, 13)
    assert facts(session, req).concluded_on == date(2026, 11, 12)
    assert verify_log(session) == []


def test_corrected_outcome_moves_the_statistics_and_keeps_the_original(
    session, agency, users
) -> None:
    req = accepted(session, agency, users)
    decide = step(
        session, req, users["handler"], "decide", "2026-11-12", outcome="disclosed", delivery="post"
    )
    assert facts(session, req).outcome == "disclosed"
    proposal = office_ops.propose(
        session,
        req,
        a(users["handler"]),
        NOW,
        "correction",
        {
            "target_id": decide.id,
            "field": "outcome",
            "new": "partially_disclosed",
            "reason": "选错",
        },
    )
    session.commit()
    assert facts(session, req).outcome == "disclosed"  # waits for the approver
    office_ops.approve(session, req, a(users["approver"]), NOW, proposal.id)
    session.commit()
    assert facts(session, req).outcome == "partially_disclosed"
    session.expire_all()
    assert session.get(Event, decide.id).payload["outcome"] == "disclosed"
    # Re-deriving the projection from the log agrees (stats-verify's view).
    values = ops.projection_values(
        req.received_on,
        ops.history(session, req),
        load_calendar(session),
        subject=req.subject,
        applicant_name=req.applicant_name,
    )
    assert values["outcome"] == "partially_disclosed"


def test_correction_refuses_what_would_break_the_log(session, agency, users) -> None:
    req = accepted(session, agency, users)
    decide = step(
        session, req, users["handler"], "decide", "2026-11-12", outcome="disclosed", delivery="post"
    )
    me = a(users["approver"])
    base = {"target_id": decide.id, "reason": "r"}
    with pytest.raises(GuardError, match="早于前一步骤"):
        office_ops.correct(
            session, req, me, NOW, {**base, "field": "effective_date", "new": "2026-11-02"}
        )
    with pytest.raises(GuardError, match="晚于今天"):
        office_ops.correct(
            session, req, me, NOW, {**base, "field": "effective_date", "new": "2027-01-02"}
        )
    with pytest.raises(ValidationError, match="处理结果"):
        office_ops.correct(
            session, req, me, NOW, {**base, "field": "outcome", "new": "other.supplement_lapsed"}
        )
    with pytest.raises(ValidationError, match="与原值相同"):
        office_ops.correct(session, req, me, NOW, {**base, "field": "outcome", "new": "disclosed"})
    with pytest.raises(ValidationError, match="理由"):
        office_ops.correct(
            session,
            req,
            me,
            NOW,
            {**base, "reason": "", "field": "outcome", "new": "withheld.state_secret"},
        )
    with pytest.raises(ValidationError, match="不是有效日期"):
        office_ops.correct(
            session, req, me, NOW, {**base, "field": "effective_date", "new": "12月"}
        )
    # A payload field needs no approver: the handler corrects the delivery.
    fix = office_ops.correct(
        session,
        req,
        a(users["handler"]),
        NOW,
        {**base, "field": "payload:delivery", "new": "email"},
    )
    assert fix.payload["old"] == "post" and "approved_by" not in fix.payload


def test_correction_that_changes_a_published_year_says_so_first(session, agency, users) -> None:
    req = accepted(session, agency, users)
    decide = step(
        session, req, users["handler"], "decide", "2026-11-12", outcome="disclosed", delivery="post"
    )
    session.add(
        PublishedReport(
            agency_id=agency.id, year=2026, format="2019", numbers={}, content_hash="0" * 64
        )
    )
    session.commit()
    raw = {
        "target_id": decide.id,
        "field": "outcome",
        "new": "withheld.state_secret",
        "reason": "r",
    }
    with pytest.raises(GuardError, match="已发布的2026年年度统计"):
        office_ops.correct(session, req, a(users["approver"]), NOW, raw)
    session.rollback()
    fix = office_ops.correct(
        session, req, a(users["approver"]), NOW, {**raw, "confirm_published": "1"}
    )
    assert fix.payload["published_years"] == [2026]
    # A payload change that moves no number needs no confirmation.
    office_ops.correct(
        session,
        req,
        a(users["handler"]),
        NOW,
        {"target_id": decide.id, "field": "payload:delivery", "new": "email", "reason": "r"},
    )


def test_correction_rows_are_append_only_in_the_database(session, agency, users) -> None:
    req = accepted(session, agency, users)
    accept = ops.history(session, req)[1]
    fix = office_ops.correct(
        session,
        req,
        a(users["approver"]),
        NOW,
        {"target_id": accept.id, "field": "effective_date", "new": "2026-11-04", "reason": "r"},
    )
    session.commit()
    fix.payload = {**fix.payload, "new": "2026-11-05"}
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()
    with pytest.raises(DBAPIError):
        session.execute(
            text("UPDATE events SET effective_date = '2026-11-05' WHERE id = :i"), {"i": fix.id}
        )
    session.rollback()


# --------------------------------------------------------------------------- links


def test_link_is_recorded_on_both_requests(session, agency, users) -> None:
    first = register(session, agency, users["registrar"])
    second = register(session, agency, users["registrar"])
    office_ops.link(
        session, second, first, a(users["registrar"]), NOW, "duplicate_of", "earlier_of"
    )
    session.commit()
    assert links(ops.history(session, second)) == [("duplicate_of", first.id, first.tracking_no)]
    assert links(ops.history(session, first)) == [("earlier_of", second.id, second.tracking_no)]


# --------------------------------------------------------------------------- split, merge


def test_split_registers_each_item_with_the_same_receipt_and_counts_each_once(
    session, agency, users
) -> None:
    from workflow.statistics.facts import facts_from_events

    req = accepted(session, agency, users)
    office_ops.assign(session, req, a(users["registrar"]), NOW, users["handler"].id)
    items = ["第一项：征收补偿方案", "第二项：评估报告", "第三项：听证笔录"]
    made = office_ops.split(session, req, a(users["handler"]), NOW, items)
    session.commit()
    assert [c.subject for c in made] == items[1:]
    assert {c.received_on for c in made} == {req.received_on}
    assert {c.handler_id for c in made} == {users["handler"].id}
    assert [k for k, _i, _n in links(ops.history(session, req))] == ["split_into", "split_into"]
    assert links(ops.history(session, made[0])) == [("split_from", req.id, req.tracking_no)]
    # Each part is decided under its own outcome and counted once.
    step(session, made[0], users["handler"], "accept", "2026-11-04")
    for part, outcome in ((req, "disclosed"), (made[0], "unavailable.not_held")):
        step(
            session,
            part,
            users["handler"],
            "decide",
            "2026-11-12",
            outcome=outcome,
            delivery="post",
        )
    outcomes = [
        facts_from_events(r.received_on, ops.history(session, r)).outcome
        for r in (req, made[0], made[1])
    ]
    assert outcomes == ["disclosed", "unavailable.not_held", None]
    with pytest.raises(ValidationError, match="至少需要两项"):
        office_ops.split(session, made[1], a(users["handler"]), NOW, ["只有一项"])
    with pytest.raises(GuardError, match="尚在办理中"):
        office_ops.split(session, req, a(users["handler"]), NOW, ["a", "b"])
    assert verify_log(session) == []


def test_merge_voids_the_others_into_one_and_links_them(session, agency, users) -> None:
    keep = register(session, agency, users["registrar"])
    other = register(session, agency, users["registrar"])
    stranger = register(session, agency, users["registrar"], applicant_name="王五")
    with pytest.raises(PermissionDenied):
        office_ops.merge(session, keep, [other], a(users["handler"]), NOW, "同一申请重复登记")
    with pytest.raises(GuardError, match="不是同一申请人"):
        office_ops.merge(session, keep, [stranger], a(users["approver"]), NOW, "r")
    session.rollback()
    assert [r.id for r in office_ops.merge_candidates(session, keep)] == [other.id]
    office_ops.merge(session, keep, [other], a(users["approver"]), NOW, "同一申请重复登记")
    session.commit()
    assert other.state == "voided" and facts(session, other).voided
    assert not facts(session, keep).voided
    assert links(ops.history(session, other)) == [("merged_into", keep.id, keep.tracking_no)]
    assert links(ops.history(session, keep)) == [("merged_from", other.id, other.tracking_no)]
