"""An order to reply again reopens the request when it takes effect (order_effect):
a 复议决定 on service, a first-instance judgment once its appeal period has passed, a
final judgment on service — with the time limit the decision fixes (audit D5)."""

from __future__ import annotations

from datetime import date, datetime

from documents.notices_pdf import render_notice
from tests.conftest import NOW
from tests.integration.test_challenges import concluded_request, file
from workflow.challenges import operations as cops
from workflow.challenges.order_effect import reopen_effective_orders
from workflow.kernel.actor import Actor
from workflow.notices import operations as nops
from workflow.requests import operations as ops
from workflow.store.calendar import load_calendar


def conclude(session, users, case, on: str, result: str, now: datetime = NOW, **more) -> None:
    cops.fire_challenge(
        session,
        case,
        "conclude",
        Actor.of(users["legal"]),
        now,
        {"effective_date": on, "result": result, **more},
    )
    session.commit()


def at(iso: str) -> datetime:
    return datetime.fromisoformat(f"{iso}T10:00:00+08:00")


def test_reversed_first_instance_order_never_reopens(session, agency, users) -> None:
    """D5: 责令履行 2025-12-01, appeal, the second instance dismisses the claims."""
    req = concluded_request(
        session, agency, users, "withheld.third_party", "2025-09-01", "2025-09-20"
    )
    case = file(session, users, req, "2025-10-09", kind="litigation", route="direct")
    conclude(session, users, case, "2025-12-01", "ordered_to_perform", at("2025-12-02"))
    assert req.state == "concluded"  # not effective during the 15-day appeal period
    appeal = {"instance": "second", "body": "某中院", "case_no": "二审1号"}
    legal = Actor.of(users["legal"])
    cops.fire_challenge(
        session, case, "appeal", legal, at("2025-12-10"), {"effective_date": "2025-12-10", **appeal}
    )
    session.commit()
    assert reopen_effective_orders(session, legal, at("2026-01-05"), [req]) == []
    conclude(session, users, case, "2026-03-02", "claims_dismissed", at("2026-03-02"))
    assert reopen_effective_orders(session, legal, NOW, [req]) == []
    assert req.state == "concluded"


def test_unappealed_first_instance_order_reopens_when_final(session, agency, users) -> None:
    req = concluded_request(
        session, agency, users, "withheld.third_party", "2026-06-01", "2026-06-10"
    )
    case = file(session, users, req, "2026-07-01", kind="litigation", route="direct")
    conclude(
        session, users, case, "2026-09-01", "ordered_to_perform",
        served_on="2026-09-03", reply_due_on="2026-10-30",
    )  # fmt: skip
    # Not reopened when recorded (an appeal may still be entered, even back-dated) …
    assert req.state == "concluded"
    # … but by the daily run: served 09-03, the appeal period ends 09-18, effective 09-19.
    legal = Actor.of(users["legal"])
    assert reopen_effective_orders(session, legal, NOW, [req]) == [req]
    assert req.state == "in_review"
    reopen = ops.history(session, req)[-1]
    assert reopen.trigger == "reopen" and reopen.effective_date == date(2026, 9, 19)
    d = ops.request_deadlines(
        session, req, ops.history(session, req), load_calendar(session), date(2026, 11, 20)
    )
    assert d.reply_due == date(2026, 10, 30) and d.overdue(date(2026, 11, 20))
    # Running it again changes nothing (idempotent).
    assert reopen_effective_orders(session, Actor.of(users["legal"]), NOW, [req]) == []


def test_first_instance_order_waits_during_the_appeal_period(session, agency, users) -> None:
    req = concluded_request(
        session, agency, users, "withheld.third_party", "2026-06-01", "2026-06-10"
    )
    case = file(session, users, req, "2026-07-01", kind="litigation", route="direct")
    conclude(session, users, case, "2026-11-16", "ordered_to_perform")
    legal = Actor.of(users["legal"])
    assert reopen_effective_orders(session, legal, NOW, [req]) == []  # runs until 12-01
    assert req.state == "concluded"
    later = datetime(2026, 12, 3, 2, 0)
    assert reopen_effective_orders(session, Actor.of(users["legal"]), later, [req]) == [req]
    assert ops.history(session, req)[-1].effective_date == date(2026, 12, 2)


def test_new_procedure_may_again_extend_and_reply_names_the_decision(
    session, agency, users
) -> None:
    req = concluded_request(
        session, agency, users, "withheld.third_party", "2026-06-01", "2026-06-10"
    )
    handler = Actor.of(users["handler"])
    case = file(
        session, users, req, "2026-07-01", kind="reconsideration", case_no="某府复〔2026〕9号"
    )
    conclude(session, users, case, "2026-09-01", "revoked_new_reply")
    assert req.state == "in_review"
    ops.fire(  # the extension is the approver's own act (docs/domain.md §15)
        session, req, "extend", Actor.of(users["approver"]), NOW,
        {"effective_date": "2026-09-10", "days": 10, "reason": "调档", "approver": "approver"},
    )  # fmt: skip
    ops.fire(
        session, req, "decide", handler, NOW,
        {"effective_date": "2026-09-20", "outcome": "disclosed", "delivery": "post"},
    )  # fmt: skip
    session.commit()
    reply = nops.issue_notice(session, handler, NOW, req, "reply", render=render_notice)
    session.commit()
    from tests.integration.test_notices import pdf_text

    text = pdf_text(reply.content)
    assert "某府复〔2026〕9号" in text and "重新作出答复" in text
