"""A 二审 remand (发回重审) and the undoing of a reopen whose order a higher instance
reversed (issue 14 items 4 and 6; docs/domain.md §5.8–§5.9)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from models import RequestFacts
from tests.integration.test_challenge_pages import (
    LAWSUIT,
    case_act,
    file_via_page,
    replied_request,
)
from tests.integration.test_challenge_pages import (
    RECONSIDERATION as RECONSIDERATION_FORM,
)
from tests.integration.test_challenges import concluded_request, file
from tests.integration.test_order_effect import at, conclude
from tests.integration.test_pages import client_for, days_ago, reload
from workflow.catalog.challenges import LITIGATION, RECONSIDERATION, REMAND, results_for
from workflow.challenges import operations as cops
from workflow.challenges.order_effect import kept_reply, reopen_effective_orders
from workflow.challenges.spec import CHALLENGES, fields_for
from workflow.kernel.actor import Actor
from workflow.kernel.errors import GuardError
from workflow.requests import operations as ops
from workflow.statistics.queries import derive
from workflow.statistics.scope import Scope
from workflow.store.calendar import load_calendar

SECOND = {"instance": "second", "body": "某市中级人民法院", "case_no": "（2025）某01行终5号"}
RETRIAL = {"instance": "retrial", "body": "某省高级人民法院", "case_no": "（2026）某行申2号"}
REMANDED_TO = {"body": "某区人民法院", "case_no": "（2026）某0102行初重1号"}


def fire(session, users, case, trigger: str, on: str, now=None, **payload) -> None:
    cops.fire_challenge(
        session,
        case,
        trigger,
        Actor.of(users["legal"]),
        now or at(on),
        {"effective_date": on, **payload},
    )
    session.commit()


def table3_and_4(session, agency, year: int):
    found = derive(session, Scope.of(agency), year)
    return found.table3, found.table4


def decided_again(session, users, agency, case, on: str) -> dict[str, int]:
    """The remanded case decided again (撤销): table 四's direct-lawsuit row of that year."""
    conclude(session, users, case, on, "revoked", at(on))
    _, t4 = table3_and_4(session, agency, int(on[:4]))
    return t4["litigation_direct"]


def deadlines_on(session, req, day: date):
    return ops.request_deadlines(
        session, req, ops.history(session, req), load_calendar(session), day
    )


# --------------------------------------------------------------------------- the catalogue


def test_remand_is_an_appeal_courts_other_result_not_an_ending() -> None:
    assert REMAND.code == "remanded" and REMAND.column == "other"
    assert REMAND.kind == LITIGATION and REMAND.instances == ("second", "retrial")
    assert not REMAND.orders_new_reply  # not 纠正: the agency's act is not judged
    # Never offered as a 审结 result, at any instance of any kind.
    for kind, instance in [(LITIGATION, "first"), (LITIGATION, "second"), (RECONSIDERATION, None)]:
        assert REMAND not in results_for(kind, instance)
        conclude_field = next(
            f for f in fields_for(CHALLENGES.by_trigger["conclude"], kind, instance)
            if f.name == "result"
        )  # fmt: skip
        assert REMAND.code not in dict(conclude_field.choices)


# --------------------------------------------------------------------------- remand


def test_second_instance_remand_sends_the_case_back_to_first_instance(
    session, agency, users
) -> None:
    req = concluded_request(
        session, agency, users, "withheld.third_party", "2025-03-03", "2025-03-20"
    )
    case = file(session, users, req, "2025-04-10", kind="litigation", route="direct")
    with pytest.raises(GuardError, match="只有二审或再审人民法院可以裁定发回重审"):
        fire(session, users, case, "remand", "2025-05-06", **REMANDED_TO)
    session.rollback()
    conclude(session, users, case, "2025-06-30", "claims_dismissed", at("2025-06-30"))
    fire(session, users, case, "appeal", "2025-07-08", **SECOND)
    # A remand is its own step: recording it as a 审结 result is refused, with the way.
    with pytest.raises(GuardError, match=r"不是审结.*发回重审"):
        fire(session, users, case, "conclude", "2025-10-20", result="remanded")
    session.rollback()
    fire(session, users, case, "remand", "2025-10-20", document_no="裁定书", **REMANDED_TO)
    assert case.state == "pending" and case.instance == "first"
    assert case.case_no == REMANDED_TO["case_no"]
    assert cops.challenge_history(session, case)[-1].payload["result"] == "remanded"
    assert req.state == "concluded"  # it does not reopen the request
    # Table 四: 其他结果 in the year of the ruling, then open until the first instance decides.
    _, t4_2025 = table3_and_4(session, agency, 2025)
    assert t4_2025["litigation_direct"] == {
        "upheld": 0, "corrected": 0, "other": 1, "pending": 0, "total": 1,
    }  # fmt: skip
    _, t4_2026 = table3_and_4(session, agency, 2026)
    assert t4_2026["litigation_direct"]["pending"] == 1
    again = decided_again(session, users, agency, case, "2026-03-02")
    assert again["corrected"] == 1
    assert again["total"] == 1


def test_retrial_remand_sends_the_case_to_the_court_whose_judgment_it_set_aside(
    session, agency, users
) -> None:
    """法释〔2018〕1号 Art. 122: a 再审 court may send the case back to the court that gave
    the effective judgment, here the 二审 court; a 二审 court only back to 一审."""
    req = concluded_request(
        session, agency, users, "withheld.third_party", "2025-03-03", "2025-03-20"
    )
    case = file(session, users, req, "2025-04-10", kind="litigation", route="direct")
    conclude(session, users, case, "2025-06-30", "claims_dismissed", at("2025-06-30"))
    fire(session, users, case, "appeal", "2025-07-08", **SECOND)
    to_second = {**REMANDED_TO, "instance": "second"}
    with pytest.raises(GuardError, match="二审裁定发回重审的，案件回到一审"):
        fire(session, users, case, "remand", "2025-09-01", **to_second)
    session.rollback()
    conclude(session, users, case, "2025-10-20", "claims_dismissed", at("2025-10-20"))
    fire(session, users, case, "appeal", "2026-01-12", **RETRIAL)
    fire(session, users, case, "remand", "2026-03-02", **to_second)
    assert case.state == "pending" and case.instance == "second"
    assert case.case_no == REMANDED_TO["case_no"]
    assert req.state == "concluded"  # not 纠正: no new reply is ordered
    _, t4_2026 = table3_and_4(session, agency, 2026)
    assert t4_2026["litigation_direct"]["other"] == 1
    # Back at 二审, the court decides again: a second-instance result, which counts.
    again = decided_again(session, users, agency, case, "2026-06-01")
    assert again["corrected"] == 1
    assert again["other"] == 0


# --------------------------------------------------------------------------- undo of a reopen


def test_timely_appeal_recorded_after_the_reopen_undoes_it(session, agency, users) -> None:
    """Golden: judgment → effective → reopen → appeal → 二审 reverses → closed again."""
    req = concluded_request(
        session, agency, users, "withheld.third_party", "2025-09-01", "2025-09-20"
    )
    before = table3_and_4(session, agency, 2025)
    first_procedure = deadlines_on(session, req, date(2025, 10, 1))
    case = file(session, users, req, "2025-10-09", kind="litigation", route="direct")
    conclude(session, users, case, "2025-12-01", "ordered_to_perform", at("2025-12-01"))
    legal = Actor.of(users["legal"])
    # Nobody recorded an appeal within 15 days: the nightly run reopens on 12-17.
    assert reopen_effective_orders(session, legal, at("2025-12-18"), [req]) == [req]
    session.commit()
    assert req.state == "in_review"
    reopen = ops.history(session, req)[-1]
    assert reopen.effective_date == date(2025, 12, 17)
    assert deadlines_on(session, req, date(2026, 1, 20)).overdue(date(2026, 1, 20))
    # Then the appeal, filed in time (12-10), is entered late: the judgment never took
    # effect, so the reopen is undone by a new event (nothing rewritten).
    fire(session, users, case, "appeal", "2025-12-10", at("2026-01-20"), **SECOND)
    events = ops.history(session, req)
    assert req.state == "concluded"
    assert [e.trigger for e in events[-2:]] == ["reopen", "reopen_undone"]
    undo = events[-1]
    assert undo.effective_date == date(2025, 12, 17)  # not before the reopen it undoes
    assert "一审判决未发生法律效力" in undo.payload["reversed_by"]
    # Back to its previous conclusion: the same reply stands, nothing is overdue.
    replies = [e for e in events if e.trigger == "decide"]
    assert len(replies) == 1 and replies[0].payload["outcome"] == "withheld.third_party"
    d = deadlines_on(session, req, date(2026, 1, 20))
    assert not d.overdue(date(2026, 1, 20)) and d.concluded
    # The clock is the first procedure's again: its reply deadline and its explanation.
    assert d.reply_due == first_procedure.reply_due
    assert d.trace == first_procedure.trace
    stored = session.scalar(select(RequestFacts).where(RequestFacts.request_id == req.id))
    assert stored.reply_due is None  # off the workbench's and the reminders' overdue lists
    # The 二审 dismisses the claims: nothing reopens, nothing is undone twice.
    conclude(session, users, case, "2026-03-02", "claims_dismissed", at("2026-03-02"))
    assert reopen_effective_orders(session, legal, at("2026-03-03"), [req]) == []
    assert [e.trigger for e in ops.history(session, req)].count("reopen_undone") == 1
    # Statistics as before: the request counts once, in 2025, as it was.
    assert table3_and_4(session, agency, 2025)[0] == before[0]


def test_retrial_reversing_an_effective_order_undoes_the_reopen(session, agency, users) -> None:
    req = concluded_request(
        session, agency, users, "withheld.third_party", "2026-03-02", "2026-03-20"
    )
    case = file(session, users, req, "2026-04-01", kind="litigation", route="direct")
    conclude(session, users, case, "2026-05-06", "ordered_to_perform", at("2026-05-06"))
    legal = Actor.of(users["legal"])
    assert reopen_effective_orders(session, legal, at("2026-05-25"), [req]) == [req]
    session.commit()
    # An application for retrial does not suspend the judgment (行政诉讼法 Art. 90).
    fire(session, users, case, "appeal", "2026-06-15", **RETRIAL)
    assert req.state == "in_review"
    fire(session, users, case, "conclude", "2026-09-01", result="claims_dismissed")
    assert req.state == "concluded"
    undo = ops.history(session, req)[-1]
    assert undo.trigger == "reopen_undone" and undo.effective_date == date(2026, 9, 1)
    assert "判决驳回原告诉讼请求" in undo.payload["reversed_by"]


def test_a_new_reply_already_given_stands_when_the_order_is_reversed(
    session, agency, users
) -> None:
    req = concluded_request(
        session, agency, users, "withheld.third_party", "2026-03-02", "2026-03-20"
    )
    case = file(session, users, req, "2026-04-01", kind="litigation", route="direct")
    conclude(session, users, case, "2026-05-06", "ordered_to_perform", at("2026-05-06"))
    legal = Actor.of(users["legal"])
    reopen_effective_orders(session, legal, at("2026-05-25"), [req])
    ops.fire(
        session, req, "decide", Actor.of(users["handler"]), at("2026-06-10"),
        {"effective_date": "2026-06-10", "outcome": "disclosed", "delivery": "post"},
    )  # fmt: skip
    session.commit()
    fire(session, users, case, "appeal", "2026-06-15", **RETRIAL)
    fire(session, users, case, "conclude", "2026-09-01", result="claims_dismissed")
    triggers = [e.trigger for e in ops.history(session, req)]
    assert "reopen_undone" not in triggers and triggers[-1] == "decide"
    assert req.state == "concluded"
    assert kept_reply(session, case) == date(2026, 6, 10)  # what the page tells the officer


def test_undo_needs_a_reopened_procedure(session, agency, users) -> None:
    req = concluded_request(session, agency, users, "disclosed", "2026-03-02", "2026-03-20")
    case = file(session, users, req, "2026-04-01", kind="reconsideration", case_no="复9")
    conclude(session, users, case, "2026-05-06", "revoked_new_reply", at("2026-05-06"))
    assert req.state == "in_review"  # a 复议决定 takes effect on service
    approver = Actor.of(users["approver"])
    ops.fire(
        session, req, "reopen_undone", approver, at("2026-05-20"),
        {"effective_date": "2026-05-20", "reversed_by": "复议决定被法院判决撤销"},
    )  # fmt: skip
    session.commit()
    assert req.state == "concluded"
    clerk = Actor.of(users["registrar"])
    fresh = ops.register(
        session, clerk, at("2026-05-18"),
        {"applicant_name": "王五", "applicant_kind": "natural_person", "subject": "某文件",
         "channel": "in_person", "submitted_on": "2026-05-18"},
        agency=agency,
    )  # fmt: skip
    ops.fire(session, fresh, "accept", clerk, at("2026-05-18"), {"effective_date": "2026-05-18"})
    with pytest.raises(GuardError, match="不是因复议决定或判决重新办理"):
        ops.fire(
            session, fresh, "reopen_undone", approver, at("2026-05-20"),
            {"effective_date": "2026-05-20", "reversed_by": "无"},
        )  # fmt: skip


# --------------------------------------------------------------------------- the page


def test_case_page_offers_remand_only_at_second_instance(app, session, agency, users) -> None:

    req = replied_request(session, agency, users)
    legal = client_for(app, "legal")
    case_id = file_via_page(legal, req.id, **LAWSUIT)
    first = legal.get(f"/challenges/{case_id}").text
    assert "发回重审" in first and "只有二审或再审人民法院可以裁定发回重审" in first
    assert f'href="/challenges/{case_id}/act/remand"' not in first
    refused = case_act(legal, session, case_id, "remand", effective_date=days_ago(3), **REMANDED_TO)
    assert refused.status_code == 400 and "只有二审或再审人民法院" in refused.text
    assert (
        case_act(
            legal,
            session,
            case_id,
            "conclude",
            effective_date=days_ago(10),
            result="claims_dismissed",
        ).status_code
        == 302
    )
    assert (
        case_act(
            legal, session, case_id, "appeal", effective_date=days_ago(8), **SECOND
        ).status_code
        == 302
    )
    second = legal.get(f"/challenges/{case_id}").text
    assert f'href="/challenges/{case_id}/act/remand"' in second
    conclude_form = legal.get(f"/challenges/{case_id}/act/conclude").text
    assert REMAND.label not in conclude_form  # a remand is no 审结 result
    done = case_act(legal, session, case_id, "remand", effective_date=days_ago(2), **REMANDED_TO)
    assert done.status_code == 302, done.text
    after = legal.get(done.headers["Location"]).text
    assert "审理中" in after and "一审" in after and REMANDED_TO["case_no"] in after
    assert "前一审级：裁定撤销原判、发回重审" in legal.get(f"/requests/{req.id}").text


def test_appeal_entered_on_the_page_undoes_the_reopen_and_says_so(
    app, session, agency, users
) -> None:

    req = replied_request(session, agency, users)  # answered 40 days ago
    legal = client_for(app, "legal")
    case_id = file_via_page(legal, req.id, **{**LAWSUIT, "effective_date": days_ago(38)})
    ordered = case_act(
        legal, session, case_id, "conclude",
        effective_date=days_ago(30), result="ordered_to_perform",
    )  # fmt: skip
    assert ordered.status_code == 302
    # The nightly run: no appeal recorded within 15 days, so the order took effect.
    reopen_effective_orders(session, Actor.of(users["legal"]), datetime.now(UTC), [req])
    session.commit()
    assert reload(session, req.id).state == "in_review"
    appeal = case_act(
        legal, session, case_id, "appeal", effective_date=days_ago(20), **SECOND
    )  # filed in time, entered late
    assert appeal.status_code == 302, appeal.text
    assert "重新办理已撤销，申请回到原办结状态" in legal.get(appeal.headers["Location"]).text
    assert reload(session, req.id).state == "concluded"
    page = legal.get(f"/requests/{req.id}").text
    assert "撤销重新办理" in page and "一审判决未发生法律效力" in page


def test_a_reconsideration_offers_no_remand(app, session, agency, users) -> None:
    req = replied_request(session, agency, users)
    legal = client_for(app, "legal")
    case_id = file_via_page(legal, req.id, **RECONSIDERATION_FORM)
    page = legal.get(f"/challenges/{case_id}").text
    assert "记录审理结果" in page and "发回重审" not in page
