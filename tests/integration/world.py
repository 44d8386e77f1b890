"""A small, demo-like world for the cross-cutting tests (authorization, CSRF, headers, audit).

The test agency has one user per role (conftest's ``users``) plus a "target" account for
the admin pages to act on (so an admin test never disables a role user), a child agency,
and requests in the states the pages care about; another, unrelated agency has an
``outsider`` holding every role, so whatever they are refused is refused because of the
agency, not the role.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from models import Agency, CalendarOverride, Challenge, Request, User
from tests.conftest import NOW, TEST_REMEDY_BODIES, make_user
from workflow.catalog.roles import ROLE_CODES
from workflow.challenges import operations as cops
from workflow.kernel.actor import Actor
from workflow.requests import operations as ops

RECEIVED = "2026-11-02"
DECIDED = "2026-11-10"
OVERRIDE_DAY = date(2026, 12, 26)


@dataclass(frozen=True)
class World:
    agency: Agency
    other_agency: Agency
    child_agency: Agency
    #: Registered, not yet accepted (so ``accept`` is possible).
    registered: Request
    #: Decided (concluded) with a pending reconsideration case.
    concluded: Request
    challenge: Challenge
    #: A request of the other agency (never visible to the test agency).
    foreign: Request
    target: User
    outsider: User


def intake(name: str = "张三", subject: str = "某地块征收补偿安置方案") -> dict[str, str]:
    return {
        "applicant_name": name,
        "applicant_kind": "natural_person",
        "subject": subject,
        "channel": "in_person",
        "submitted_on": RECEIVED,
    }


def registered_request(
    session: Session, agency: Agency, clerk: User, name: str = "张三", subject: str = "某批复"
) -> Request:
    req = ops.register(session, Actor.of(clerk), NOW, intake(name, subject), agency=agency)
    session.commit()
    return req


def decided_request(session: Session, agency: Agency, clerk: User, handler: User) -> Request:
    req = registered_request(session, agency, clerk, "李四")
    ops.fire(session, req, "accept", Actor.of(clerk), NOW, {"effective_date": RECEIVED})
    ops.fire(
        session,
        req,
        "decide",
        Actor.of(handler),
        NOW,
        {"effective_date": DECIDED, "outcome": "disclosed", "delivery": "post"},
    )
    session.commit()
    return req


def file_case(session: Session, legal: User, req: Request, case_no: str = "复-2026-1") -> Challenge:
    case = cops.file_challenge(
        session,
        Actor.of(legal),
        NOW,
        req,
        {
            "effective_date": "2026-11-15",
            "kind": "reconsideration",
            "body": "某某区人民政府",
            "case_no": case_no,
        },
    )
    session.commit()
    return case


def build_world(session: Session, agency: Agency, users: dict[str, User]) -> World:
    other = Agency(code="other-agency", name="另一机关", **TEST_REMEDY_BODIES)
    child = Agency(
        code="test-agency-child", name="测试机关下属局", parent=agency, **TEST_REMEDY_BODIES
    )
    session.add_all([other, child])
    session.commit()
    outsider = make_user(session, other, "outsider", *ROLE_CODES)
    target = make_user(session, agency, "target", "viewer")
    registered = registered_request(session, agency, users["registrar"])
    concluded = decided_request(session, agency, users["registrar"], users["handler"])
    challenge = file_case(session, users["legal"], concluded)
    foreign = registered_request(session, other, outsider, "王五")
    session.add(CalendarOverride(day=OVERRIDE_DAY, is_workday=True, note="调休上班"))
    session.commit()
    return World(
        agency=agency,
        other_agency=other,
        child_agency=child,
        registered=registered,
        concluded=concluded,
        challenge=challenge,
        foreign=foreign,
        target=target,
        outsider=outsider,
    )
