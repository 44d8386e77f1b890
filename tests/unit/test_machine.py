"""Every transition and guard of the lifecycle, table-driven, without Flask or a database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from workflow.catalog.states import State
from workflow.kernel.errors import GuardError
from workflow.kernel.lifecycle import Transition
from workflow.requests.deadlines import Deadlines
from workflow.requests.machine import available_actions, fire
from workflow.requests.spec import SPEC_BY_TRIGGER, TRANSITIONS

RECEIVED = date(2026, 3, 2)
TODAY = date(2026, 6, 1)
ON = date(2026, 3, 20)


@dataclass
class Row:
    state: str
    received_on: date | None = RECEIVED


@dataclass(frozen=True)
class Ev:
    trigger: str
    effective_date: date
    payload: dict[str, Any] = field(default_factory=dict)


#: A valid payload for every trigger; a new trigger without an entry fails the suite.
VALID: dict[str, dict[str, Any]] = {
    "register": {},
    "accept": {},
    "request_supplement": {"items": "请写明文号", "due_on": "2026-04-10"},
    "receive_supplement": {},
    "supplement_lapsed": {},
    "extend": {"days": 20, "reason": "需要调档", "approver": "shenhe"},
    "consult_third_party": {"party": "某公司"},
    "third_party_replied": {"opinion": "agree"},
    "consult_agency": {"party": "某局"},
    "agency_replied": {"opinion": "no_reply"},
    "issue_fee_notice": {"method": "per_request", "amount": 100},
    "fee_paid": {},
    "reduce_fee": {"amount": 50, "reason": "申请人经济困难"},
    "waive_fee": {"reason": "申请人经济困难"},
    "fee_lapsed": {},
    "request_reasons": {"matter": "本月申请30件", "due_on": "2026-04-10"},
    "reasons_received": {"finding": "reasonable"},
    "defer_reply": {"days": 10, "reason": "申请数量较多"},
    "notify_third_party": {"party": "某公司", "content": "合同金额", "reason": "公共资金"},
    "decide": {"outcome": "disclosed", "delivery": "post"},
    "answer_on_the_spot": {"outcome": "disclosed"},
    "withdraw": {},
    "reopen": {"order": "（2026）赣01行终1号判决"},
    "reopen_undone": {"reversed_by": "（2026）赣行再1号判决：判决驳回原告诉讼请求"},
    "void": {"reason": "重复登记"},
}


#: The events a trigger presupposes (Art. 35: asked for reasons, found reasonable;
#: Art. 32: the third party objected).
PRIOR: dict[str, tuple[Ev, ...]] = {
    "reasons_received": (Ev("request_reasons", date(2026, 3, 2), VALID["request_reasons"]),),
    "defer_reply": (
        Ev("request_reasons", date(2026, 3, 2), VALID["request_reasons"]),
        Ev("reasons_received", date(2026, 3, 9), {"finding": "reasonable"}),
    ),
    "notify_third_party": (Ev("third_party_replied", date(2026, 3, 9), {"opinion": "object"}),),
    "reopen_undone": (Ev("reopen", date(2026, 3, 2), VALID["reopen"]),),
}
#: Answered on the spot: the day of receipt.
EFFECTIVE: dict[str, date] = {"answer_on_the_spot": RECEIVED}


def _fire(row: Row, trigger: str, *, roles: frozenset[str] | None = None, **kw: Any) -> Any:
    spec = SPEC_BY_TRIGGER[trigger]
    return fire(
        row,
        trigger,
        sink=lambda t: t,
        roles=roles if roles is not None else spec.roles,
        today=kw.pop("today", TODAY),
        effective_date=kw.pop("effective_date", EFFECTIVE.get(trigger, ON)),
        payload=kw.pop("payload", VALID[trigger]),
        history=kw.pop("history", PRIOR.get(trigger, ())),
        **kw,
    )


def test_every_trigger_has_a_valid_payload_case() -> None:
    assert set(VALID) == {t.trigger for t in TRANSITIONS}


CASES = [(t.trigger, s.value, t.dest.value) for t in TRANSITIONS for s in t.sources]


@pytest.mark.parametrize(("trigger", "source", "dest"), CASES)
def test_transition_moves_and_emits_one_event(trigger: str, source: str, dest: str) -> None:
    row = Row(source)
    emitted = _fire(row, trigger)
    assert row.state == dest
    expected_from = None if source == State.NEW.value else source
    assert emitted == Transition(trigger, expected_from, dest)


WRONG_STATE = [(t.trigger, s.value) for t in TRANSITIONS for s in State if s not in t.sources]


@pytest.mark.parametrize(("trigger", "state"), WRONG_STATE)
def test_trigger_refused_from_other_states(trigger: str, state: str) -> None:
    row = Row(state)
    with pytest.raises(GuardError, match="当前状态下不能"):
        _fire(row, trigger)
    assert row.state == state


ROLE_CASES = [
    (t.trigger, t.sources[0].value, role)
    for t in TRANSITIONS
    for role in ("registrar", "handler", "approver", "legal", "admin", "viewer")
    if role not in t.roles
]


@pytest.mark.parametrize(("trigger", "source", "role"), ROLE_CASES)
def test_roles_not_listed_are_refused(trigger: str, source: str, role: str) -> None:
    row = Row(source)
    with pytest.raises(GuardError, match="只有"):
        _fire(row, trigger, roles=frozenset({role}))
    assert row.state == source


def test_viewer_may_do_nothing() -> None:
    read_only = "viewers are read-only (docs/domain.md §1)"
    assert all("viewer" not in t.roles for t in TRANSITIONS), read_only


def test_only_approver_may_approve_extension_and_registrar_cannot_decide() -> None:
    assert "registrar" not in SPEC_BY_TRIGGER["decide"].roles
    assert "registrar" not in SPEC_BY_TRIGGER["extend"].roles


@pytest.mark.parametrize(
    ("trigger", "state", "history", "payload", "effective", "reason"),
    [
        (
            "request_supplement",
            "in_review",
            [Ev("request_supplement", RECEIVED), Ev("receive_supplement", RECEIVED)],
            VALID["request_supplement"],
            ON,
            "一次性告知",
        ),
        ("extend", "in_review", [Ev("extend", RECEIVED)], VALID["extend"], ON, "只能一次"),
        ("extend", "in_review", [], {"days": 20, "reason": "x"}, ON, "须经审核人"),
        ("decide", "in_review", [], {"delivery": "post"}, ON, "必须选择处理结果"),
        (
            "decide",
            "in_review",
            [],
            {"outcome": "other.fee_lapsed", "delivery": "post"},
            ON,
            "不能在作出答复时选择",
        ),
        ("decide", "in_review", [], VALID["decide"], date(2026, 6, 2), "不能晚于今天"),
        ("accept", "registered", [], {}, date(2026, 3, 1), "不能早于收到申请日期"),
        (
            "decide",
            "in_review",
            [Ev("accept", date(2026, 3, 25))],
            VALID["decide"],
            ON,
            "不能早于上一步骤",
        ),
        (
            "request_supplement",
            "registered",
            [],
            {"items": "x", "due_on": "2026-03-20"},
            ON,
            "补正期限应晚于",
        ),
    ],
)
def test_guards_refuse_with_a_reason(
    trigger: str,
    state: str,
    history: list[Ev],
    payload: dict[str, Any],
    effective: date,
    reason: str,
) -> None:
    row = Row(state)
    with pytest.raises(GuardError, match=reason):
        _fire(row, trigger, payload=payload, effective_date=effective, history=history)
    assert row.state == state


def _deadlines(**kw: Any) -> Deadlines:
    base: dict[str, Any] = {
        "supplement_notice_due": date(2026, 3, 11),
        "reply_due": None,
        "consultation_due": None,
        "fee_due": None,
        "applicant_supplement_due": None,
        "paused": False,
        "concluded": False,
        "provisional": False,
    }
    return Deadlines(**{**base, **kw})


@pytest.mark.parametrize(
    ("trigger", "state", "deadlines", "reason"),
    [
        (
            "supplement_lapsed",
            "supplement_requested",
            _deadlines(applicant_supplement_due=date(2026, 3, 20)),
            "补正期限",
        ),
        ("fee_lapsed", "awaiting_fee", _deadlines(fee_due=date(2026, 3, 25)), "缴费期限"),
    ],
)
def test_lapses_wait_for_the_applicants_deadline(
    trigger: str, state: str, deadlines: Deadlines, reason: str
) -> None:
    with pytest.raises(GuardError, match=reason):
        _fire(Row(state), trigger, deadlines=deadlines)
    row = Row(state)
    _fire(row, trigger, deadlines=deadlines, effective_date=date(2026, 3, 26))
    assert row.state == State.CONCLUDED.value


def test_all_reasons_are_reported_together() -> None:
    with pytest.raises(GuardError) as err:
        _fire(
            Row("in_review"),
            "decide",
            roles=frozenset({"registrar"}),
            payload={},
            effective_date=date(2026, 7, 1),
        )
    assert len(err.value.reasons) == 3


def test_available_actions_show_blocked_reasons_without_payload() -> None:
    actions = dict(
        (spec.trigger, reasons)
        for spec, reasons in available_actions(
            "in_review", RECEIVED, [Ev("extend", RECEIVED)], frozenset({"handler"}), TODAY
        )
    )
    assert actions["decide"] == []
    assert any("只能一次" in r for r in actions["extend"])
    assert any("只有" in r for r in actions["void"])
    assert "accept" not in actions and "register" not in actions


def test_trigger_sets_are_read_off_the_transition_table() -> None:
    """Clocks and counting act on these sets; each follows from where a trigger goes."""
    from workflow.catalog.outcomes import OUTCOME_OF_TRIGGER
    from workflow.requests import spec

    assert {"decide", "answer_on_the_spot", *OUTCOME_OF_TRIGGER} == spec.CONCLUDING_TRIGGERS
    assert {"decide", "answer_on_the_spot"} == spec.DECISION_TRIGGERS
    assert {"consult_third_party", "consult_agency", "issue_fee_notice"} == spec.PAUSING_TRIGGERS
    assert {"third_party_replied", "agency_replied", "fee_paid", "waive_fee"} == (
        spec.RESUMING_TRIGGERS
    )
    assert {"receive_supplement", "reopen"} == spec.RESTARTING_TRIGGERS
    # No trigger is two kinds of clock step at once.
    sets = [spec.CONCLUDING_TRIGGERS, spec.PAUSING_TRIGGERS, spec.RESUMING_TRIGGERS]
    assert sum(len(s) for s in sets) == len(frozenset().union(*sets))
