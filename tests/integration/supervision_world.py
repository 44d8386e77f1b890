"""A hand-built province for the supervisor's view: four agencies, known requests.

    测试机关 (root, the supervisor)      r10 replied in 1 working day
    ├── 甲局 (a)                          r1 replied in 6 wd · r2 replied late in 21 wd (withheld)
    │   │                                 r3 open and overdue · r4 received 2025, withdrawn 2026
    │   │                                 r5 voided · cases: r1 upheld, r2 corrected
    │   └── 甲局下属所 (a1)               r6 replied in 2 wd
    └── 乙局 (b)                          r7 open and overdue · r8 open, not yet due
                                          r9 replied in 4 wd (partially) · case pending
    另一机关 (other): a sibling tree the supervisor never sees; r11 there.

Every date is in March–November 2026 away from public holidays, so the working days
can be counted by hand (Monday to Friday); the test's ``today`` is conftest's NOW
(2026-11-20).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from models import Agency, Challenge, Request, User
from tests.conftest import NOW, decision_facts, make_user
from workflow.challenges import operations as cops
from workflow.kernel.actor import Actor
from workflow.requests import operations as ops

TODAY = date(2026, 11, 20)


@dataclass(frozen=True)
class Province:
    root: Agency
    a: Agency
    a1: Agency
    b: Agency
    other: Agency
    supervisor: User
    clerk_a: User
    clerk_b: User
    outsider: User
    requests: dict[str, Request]
    cases: dict[str, Challenge]


def _register(session: Session, clerk: User, received: str, subject: str) -> Request:
    raw = {
        "applicant_name": "张三",
        "applicant_kind": "natural_person",
        "subject": subject,
        "channel": "in_person",
        "submitted_on": received,
    }
    return ops.register(session, Actor.of(clerk), NOW, raw, agency=clerk.agency)


def _fire(
    session: Session, req: Request, clerk: User, trigger: str, day: str, **extra: str
) -> None:
    ops.fire(session, req, trigger, Actor.of(clerk), NOW, {"effective_date": day, **extra})


def _decided(session: Session, clerk: User, received: str, decided: str, outcome: str) -> Request:
    req = _register(session, clerk, received, f"答复于{decided}")
    _fire(session, req, clerk, "accept", received)
    extra = decision_facts(outcome)
    _fire(session, req, clerk, "decide", decided, outcome=outcome, delivery="post", **extra)
    return req


def _case(
    session: Session, legal: User, req: Request, filed: str, result: str | None, concluded: str = ""
) -> Challenge:
    case = cops.file_challenge(
        session,
        Actor.of(legal),
        NOW,
        req,
        {
            "effective_date": filed,
            "kind": "reconsideration",
            "body": "某某市人民政府",
            "case_no": f"复-{req.id}",
        },
    )
    if result is not None:
        cops.fire_challenge(
            session,
            case,
            "conclude",
            Actor.of(legal),
            NOW,
            {"effective_date": concluded, "result": result},
        )
    return case


def build_province(session: Session, root: Agency, supervisor: User) -> Province:
    a = Agency(code="a-bureau", name="甲局", parent=root)
    b = Agency(code="b-bureau", name="乙局", parent=root)
    a1 = Agency(code="a1-office", name="甲局下属所", parent=a)
    other = Agency(code="other-root", name="另一机关")
    session.add_all([a, b, a1, other])
    session.commit()
    roles = ("registrar", "handler", "approver")
    clerk_root = make_user(session, root, "clerk-root", *roles)
    clerk_a = make_user(session, a, "clerk-a", *roles, "admin")
    legal_a = make_user(session, a, "legal-a", "legal")
    clerk_a1 = make_user(session, a1, "clerk-a1", *roles)
    clerk_b = make_user(session, b, "clerk-b", *roles)
    legal_b = make_user(session, b, "legal-b", "legal")
    outsider = make_user(session, other, "outsider-clerk", *roles)

    r: dict[str, Request] = {}
    r["r1"] = _decided(session, clerk_a, "2026-03-02", "2026-03-10", "disclosed")
    r["r2"] = _decided(session, clerk_a, "2026-03-02", "2026-03-31", "withheld.state_secret")
    r["r3"] = _register(session, clerk_a, "2026-10-12", "在办已逾期")
    _fire(session, r["r3"], clerk_a, "accept", "2026-10-12")
    r["r4"] = _register(session, clerk_a, "2025-12-15", "去年收到今年撤回")
    _fire(session, r["r4"], clerk_a, "withdraw", "2026-01-05")
    r["r5"] = _register(session, clerk_a, "2026-05-11", "登记错误")
    _fire(session, r["r5"], clerk_a, "void", "2026-05-12", reason="重复登记")
    r["r6"] = _decided(session, clerk_a1, "2026-06-01", "2026-06-03", "disclosed")
    r["r7"] = _register(session, clerk_b, "2026-07-01", "在办已逾期")
    _fire(session, r["r7"], clerk_b, "accept", "2026-07-01")
    r["r8"] = _register(session, clerk_b, "2026-11-16", "在办未到期")
    r["r9"] = _decided(session, clerk_b, "2026-02-02", "2026-02-06", "partially_disclosed")
    r["r10"] = _decided(session, clerk_root, "2026-04-01", "2026-04-02", "disclosed")
    r["r11"] = _decided(session, outsider, "2026-03-02", "2026-03-31", "disclosed")
    cases = {
        "upheld": _case(session, legal_a, r["r1"], "2026-04-01", "maintained", "2026-05-20"),
        "corrected": _case(session, legal_a, r["r2"], "2026-05-06", "revoked", "2026-06-10"),
        "pending": _case(session, legal_b, r["r9"], "2026-03-02", None),
    }
    session.commit()
    return Province(root, a, a1, b, other, supervisor, clerk_a, clerk_b, outsider, r, cases)
