"""Demo data: the docs/domain.md §10 reference year and a lively current year, all replayed
through ``workflow.requests.operations`` so every row obeys the same rules as the UI."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Agency, Challenge, Request, User
from workflow.catalog.applicants import KIND_CODES
from workflow.catalog.outcomes import DECIDABLE_OUTCOMES, OUTCOME_BY_CODE
from workflow.challenges import operations as challenge_ops
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.calendar import WorkingCalendar
from workflow.kernel.errors import DomainError
from workflow.kernel.guards import DUPLICATE
from workflow.requests import operations as ops
from workflow.store.calendar import load_calendar

AGENCY_CODE = "nanchang-etdz"
AGENCY_NAME = "南昌经济技术开发区"
SUB_AGENCY = ("nanchang-etdz-zrzy", "南昌经济技术开发区自然资源和规划局")
#: The remedy bodies the demo's replies name (agency settings; demo values: who the
#: 复议机关 of a development-zone organ is depends on local designation).
RECONSIDERATION_BODY = "南昌市人民政府"
SUB_RECONSIDERATION_BODY = "南昌经济技术开发区管理委员会"
COURT = "南昌铁路运输法院"
#: What the demo's decisions state where an outcome requires it (Outcome.requires).
DEMO_FACTS: dict[str, str] = {
    "grounds": "所申请信息中含有涉及个人隐私的内容，公开会对第三方合法权益造成损害",
    "legal_provision": "《中华人民共和国统计法》第三十九条",
    "secret_basis": "该文件已依法定密，定密依据依法不予告知",
    "responsible_agency": "南昌市自然资源局",
    "responsible_contact": "南昌市红谷滩区丰和中大道1009号，电话0791-00000000",
    "publication_route": "南昌经济技术开发区管理委员会门户网站“政府信息公开”栏目",
    "referral_procedure": "《不动产登记资料查询暂行办法》，向不动产登记机构申请查询",
}

#: Demo logins (demo mode only): username → (display name, roles).
DEMO_USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "dengji": ("登记员 王芳", ("registrar",)),
    "chengban": ("承办人 李明", ("handler",)),
    "shenhe": ("审核人 张华", ("approver", "handler")),
    "fazhi": ("法制员 陈静", ("legal",)),
    "admin": ("管理员 刘强", ("admin",)),
    "chayue": ("查阅人 赵敏", ("viewer",)),
}
DEMO_PASSWORD = "gongkai-demo"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "军", "涛", "明", "超", "霞")
ORGS = (
    "江西某某建设有限公司",
    "南昌某某科技有限公司",
    "某某律师事务所",
    "某某研究院",
    "某某公益基金会",
)
SUBJECTS = (
    "某地块征收补偿安置方案及补偿标准",
    "本区2025年度部门预算及“三公”经费支出情况",
    "某路段道路改造工程的立项批复文件",
    "某小区规划许可证及总平面图",
    "某企业环境影响评价审批文件",
    "本区老旧小区改造项目资金使用情况",
    "某村集体土地征收的批准文件",
    "某项行政处罚决定书",
    "本区招商引资优惠政策文件",
    "某学校新建工程的招投标信息",
)


@dataclass(frozen=True)
class Step:
    trigger: str
    #: Working days after the previous step.
    after: int
    payload: dict[str, Any]


def _kind_for(rng: random.Random) -> str:
    return rng.choices(KIND_CODES, weights=(70, 15, 2, 3, 6, 4))[0]


def _name_for(rng: random.Random, kind: str) -> str:
    if kind == "natural_person":
        return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
    return rng.choice(ORGS)


def ensure_agency(session: Session) -> Agency:
    agency = session.scalar(select(Agency).where(Agency.code == AGENCY_CODE))
    if agency is None:
        agency = Agency(
            code=AGENCY_CODE,
            name=AGENCY_NAME,
            reconsideration_body=RECONSIDERATION_BODY,
            court=COURT,
        )
        session.add(agency)
        session.add(
            Agency(
                code=SUB_AGENCY[0],
                name=SUB_AGENCY[1],
                parent=agency,
                reconsideration_body=SUB_RECONSIDERATION_BODY,
                court=COURT,
            )
        )
        session.flush()
    return agency


def ensure_users(session: Session, agency: Agency) -> dict[str, User]:
    users: dict[str, User] = {}
    for username, (display, roles) in DEMO_USERS.items():
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, display_name=display, agency=agency)
            user.set_password(DEMO_PASSWORD)
            user.set_roles(set(roles))
            session.add(user)
        users[username] = user
    session.flush()
    return users


def _actor_for(users: dict[str, User], trigger: str) -> Actor:
    name = {
        "register": "dengji",
        "accept": "dengji",
        "request_supplement": "dengji",
        "receive_supplement": "dengji",
        "supplement_lapsed": "chengban",
        "withdraw": "dengji",
        "reopen": "fazhi",
        "void": "shenhe",
        "extend": "shenhe",
    }.get(trigger, "chengban")
    return Actor.of(users[name])


def replay(
    session: Session,
    users: dict[str, User],
    agency: Agency,
    intake: dict[str, Any],
    steps: list[Step],
    calendar: WorkingCalendar,
    now: datetime,
    registrar: str = "dengji",
) -> Request:
    """Register and fire ``steps`` in order; stop at the first step that lies in the future."""
    today = local_today(now)
    request = ops.register(session, Actor.of(users[registrar]), now, intake, agency=agency)
    day = request.received_on
    for step in steps:
        day = calendar.add_working_days(day, step.after).day if step.after else day
        if day > today:
            break
        payload = {"effective_date": day.isoformat(), **step.payload}
        ops.fire(session, request, step.trigger, _actor_for(users, step.trigger), now, payload)
    return request


def reference_year_2019() -> Iterator[tuple[str, list[Step]]]:
    """The ten 2019 requests of docs/domain.md §10 (all natural persons, all concluded in 2019)."""
    accept = Step("accept", 1, {})
    plans: list[tuple[str, list[Step]]] = [
        ("2019-03-04", [accept, _decide("disclosed")]),
        ("2019-04-08", [accept, _decide("partially_disclosed")]),
        ("2019-05-13", [accept, _decide("partially_disclosed")]),
        ("2019-06-10", [accept, _decide("partially_disclosed")]),
        ("2019-07-08", [accept, _decide("partially_disclosed")]),
        (
            "2019-08-05",
            [
                accept,
                Step(
                    "consult_third_party", 3, {"party": "某置业有限公司", "matter": "是否同意公开"}
                ),
                Step("third_party_replied", 8, {"opinion": "object"}),
                _decide("withheld.third_party"),
            ],
        ),
        ("2019-09-02", [accept, _decide("unavailable.not_held")]),
        ("2019-10-08", [accept, _decide("unavailable.not_held")]),
        ("2019-10-21", [accept, _decide("not_processed.duplicate")]),
        (
            "2019-11-04",
            [
                Step(
                    "request_supplement",
                    3,
                    {"items": "请明确所需信息的名称或文号", "due_on": "2019-11-22"},
                ),
                Step("supplement_lapsed", 14, {"note": "申请人逾期未补正"}),
            ],
        ),
    ]
    yield from plans


#: Where a (五)1 applicant is referred (Art. 39 para 1; the decision must name it).
PETITION_REFERRAL = "南昌市信访局、12345政务服务便民热线"


def _decide(outcome: str, after: int = 10) -> Step:
    facts = {f: DEMO_FACTS[f] for f in OUTCOME_BY_CODE[outcome].requires}
    payload = {"outcome": outcome, "delivery": "post", **facts}
    if outcome == "not_processed.petition":
        payload["referred_to"] = PETITION_REFERRAL
    return Step("decide", after, payload)


def _reasons_steps() -> list[Step]:
    """Art. 35: before a (五)4 answer the applicant is asked for reasons, which fail."""
    matter = "您本月内提出了30余件内容基本相同的申请"
    return [
        Step("request_reasons", 1, {"matter": matter, "due_on": None}),
        Step("reasons_received", 1, {"finding": "unreasonable"}),
    ]


def current_year_plan(rng: random.Random, today: date) -> Iterator[tuple[date, list[Step]]]:
    """About 150 requests from last December to today, in every state of the lifecycle."""
    start = date(today.year - 1, 12, 1)
    span = (today - start).days
    for _ in range(150):
        recent = rng.random() < 0.4
        received = (
            today - timedelta(days=rng.randrange(1, 40))
            if recent
            else start + timedelta(days=rng.randrange(span))
        )
        if received.weekday() >= 5:
            received -= timedelta(days=received.weekday() - 4)
        yield received, _random_steps(rng)
    # One registration made in error, so the demo shows a voided request.
    yield (
        today - timedelta(days=20),
        [Step("accept", 1, {}), Step("void", 1, {"reason": "重复登记"})],
    )
    yield from _special_procedures(today)


def _special_procedures(today: date) -> Iterator[tuple[date, list[Step]]]:
    """One request for each special procedure, so every notice can be shown (and tested):
    Art. 35 deferral and (五)4, Art. 32 disclosure over an objection, 当场答复."""
    received = today - timedelta(days=60)
    received -= timedelta(days=max(received.weekday() - 4, 0))
    accept = Step("accept", 0, {})
    reasons = _reasons_steps()
    deferral = {"days": 10, "reason": "申请涉及的信息数量较多，需逐件检索"}
    yield (
        received,
        [
            accept,
            reasons[0],
            Step("reasons_received", 1, {"finding": "reasonable", "statement": "用于课题研究"}),
            Step("defer_reply", 1, deferral),
            _decide("disclosed", 5),
        ],
    )
    yield received, [accept, *reasons, _decide("not_processed.excessive", 1)]
    objection = {
        "party": "相关企业",
        "content": "项目合同的金额与期限",
        "reason": "涉及财政资金使用，公开有利于公众监督",
    }
    yield (
        received,
        [
            accept,
            Step("consult_third_party", 1, {"party": "相关企业"}),
            Step("third_party_replied", 5, {"opinion": "object"}),
            Step("notify_third_party", 1, objection),
            _decide("disclosed", 3),
        ],
    )
    yield received, [Step("answer_on_the_spot", 0, {"outcome": "disclosed"})]


def _random_steps(rng: random.Random) -> list[Step]:
    roll = rng.random()
    steps: list[Step] = []
    if roll > 0.95:
        return steps  # left at intake, waiting to be accepted
    if roll < 0.12:
        steps.append(
            Step(
                "request_supplement",
                rng.randint(1, 6),
                {"items": "请补充文件名称或文号", "due_on": None},
            )
        )
        if rng.random() < 0.25:
            return [*steps, Step("supplement_lapsed", 16, {"note": "逾期未补正"})]
        steps.append(Step("receive_supplement", rng.randint(2, 8), {}))
    else:
        steps.append(Step("accept", rng.randint(0, 2), {}))
    if rng.random() < 0.03:
        return [*steps, Step("withdraw", rng.randint(1, 5), {"reason": "申请人书面撤回"})]
    if rng.random() < 0.08:
        steps.append(Step("consult_third_party", rng.randint(2, 6), {"party": "相关企业"}))
        days, opinion = rng.randint(3, 15), rng.choice(["agree", "object", "no_reply"])
        # Silence can only be recorded once the party's 15 wd have run out (Art. 32).
        steps.append(
            Step("third_party_replied", 16 if opinion == "no_reply" else days, {"opinion": opinion})
        )
    elif rng.random() < 0.05:
        steps.append(Step("consult_agency", rng.randint(2, 6), {"party": "南昌市自然资源局"}))
        steps.append(Step("agency_replied", rng.randint(3, 15), {"opinion": "agree"}))
    elif rng.random() < 0.03:
        steps.append(
            Step("issue_fee_notice", rng.randint(2, 6), {"method": "per_page", "pages": 60})
        )
        if rng.random() < 0.3:
            return [*steps, Step("fee_lapsed", 21, {})]
        steps.append(Step("fee_paid", rng.randint(2, 15), {}))
    if rng.random() < 0.1:
        steps.append(
            Step(
                "extend",
                rng.randint(8, 14),
                {"days": 20, "reason": "需调取档案", "approver": "shenhe"},
            )
        )
    outcome = rng.choices(
        DECIDABLE_OUTCOMES,
        weights=[35, 0, 12, 1, 1, 1, 3, 1, 4, 1, 1, 25, 0, 2, 2, 3, 3, 1, 1, 1, 2],
    )[0]
    if outcome.code == "unavailable.still_unclear" and steps[0].trigger == "accept":
        # Art. 30: "仍不明确" only after an answered 补正 (no draw, so the stream stays).
        steps[0:1] = [
            Step("request_supplement", 2, {"items": "请明确所需信息的名称或文号", "due_on": None}),
            Step("receive_supplement", 3, {}),
        ]
    late = rng.random() < 0.05
    if outcome.code == "not_processed.excessive":
        steps.extend(_reasons_steps())
    steps.append(_decide(outcome.code, rng.randint(24, 30) if late else rng.randint(3, 15)))
    if rng.random() < 0.01:
        steps.append(Step("void", 1, {"reason": "重复登记"}))
    return steps


def load(session: Session, now: datetime | None = None, seed: int = 2019) -> dict[str, int]:
    """Load everything; returns counts. Refuses (DomainError) if the demo is already there."""
    now = now or datetime.now(UTC)
    agency = ensure_agency(session)
    if session.scalar(select(Request.id).where(Request.agency_id == agency.id).limit(1)):
        raise DomainError("演示数据已存在，未重复加载")
    users = ensure_users(session, agency)
    calendar = load_calendar(session)
    rng = random.Random(seed)
    reference: list[Request] = []
    asked_twice: Request | None = None
    for received, plan in reference_year_2019():
        intake = _intake(rng, "natural_person", date.fromisoformat(received))
        steps = plan
        if reference and _is_duplicate(plan):
            # The previous applicant asks again (same rng draws: nothing after changes).
            asked_twice = reference[-1]
            intake, steps = _cite_earlier(intake, plan, asked_twice)
            intake["subject"] = asked_twice.subject
        reference.append(replay(session, users, agency, intake, steps, calendar, now))
    _lawsuits_2019(session, users, reference, now)
    today = local_today(now)
    current = 0
    concluded_now: list[Request] = []
    for received, steps in current_year_plan(rng, today):
        kind = _kind_for(rng)
        intake = _intake(rng, kind, received)
        fixed = [_with_due(s, received, calendar) for s in steps]
        if asked_twice is not None and _is_duplicate(fixed):
            # 重复申请 cites an answered earlier request: the 2019 one asked twice.
            intake, fixed = _cite_earlier(intake, fixed, asked_twice)
        # About a third is registered by the handler, who then owns the case.
        registrar = "chengban" if rng.random() < 0.35 else "dengji"
        made = replay(session, users, agency, intake, fixed, calendar, now, registrar)
        current += 1
        if made.state == "concluded":
            concluded_now.append(made)
    _current_challenges(session, users, concluded_now, now)
    return {"reference_2019": 10, "current": current}


def _file(
    session: Session,
    users: dict[str, User],
    request: Request,
    now: datetime,
    filed: date,
    **case: str,
) -> Challenge:
    actor = Actor.of(users["fazhi"])
    return challenge_ops.file_challenge(
        session, actor, now, request, {"effective_date": filed.isoformat(), **case}
    )


def _conclude(
    session: Session, users: dict[str, User], case: Challenge, now: datetime, on: date, result: str
) -> None:
    actor = Actor.of(users["fazhi"])
    payload = {"effective_date": on.isoformat(), "result": result}
    challenge_ops.fire_challenge(session, case, "conclude", actor, now, payload)


def _lawsuits_2019(
    session: Session, users: dict[str, User], reference: list[Request], now: datetime
) -> None:
    """docs/domain.md §10: two direct lawsuits in 2019, both dismissed at first instance (维持)."""
    court = "南昌铁路运输法院"
    for request, filed, judged, number in (
        (reference[5], date(2019, 9, 20), date(2019, 12, 10), "（2019）赣7101行初112号"),
        (reference[6], date(2019, 10, 28), date(2019, 12, 23), "（2019）赣7101行初135号"),
    ):
        case = _file(
            session,
            users,
            request,
            now,
            filed,
            kind="litigation",
            route="direct",
            body=court,
            case_no=number,
            instance="first",
        )
        _conclude(session, users, case, now, judged, "claims_dismissed")


def _current_challenges(
    session: Session, users: dict[str, User], concluded: list[Request], now: datetime
) -> None:
    """A few current cases: one pending, one ordering a new reply (which reopens)."""
    replied = [r for r in concluded if r.received_on.year == local_today(now).year]
    today = local_today(now)
    if len(replied) < 2:
        return
    first, second = replied[0], replied[1]
    body = "南昌市人民政府"
    for request, number in ((first, "洪府复〔2026〕31号"), (second, "洪府复〔2026〕47号")):
        replied_on = ops.history(session, request)[-1].effective_date
        filed = max(replied_on + timedelta(days=10), today - timedelta(days=60))
        if filed > today:
            return
        case = _file(
            session,
            users,
            request,
            now,
            min(filed, today),
            kind="reconsideration",
            body=body,
            case_no=number,
        )
        if request is second and filed + timedelta(days=30) <= today:
            _conclude(session, users, case, now, filed + timedelta(days=30), "revoked_new_reply")


def _is_duplicate(steps: list[Step]) -> bool:
    return any(s.payload.get("outcome") == DUPLICATE for s in steps)


def _cite_earlier(
    intake: dict[str, Any], steps: list[Step], earlier: Request
) -> tuple[dict[str, Any], list[Step]]:
    """A 重复申请 (Art. 36(六)) by ``earlier``'s applicant, whose reply cites ``earlier``."""
    cited = [
        dataclasses.replace(s, payload={**s.payload, "earlier": earlier.tracking_no})
        if s.payload.get("outcome") == DUPLICATE
        else s
        for s in steps
    ]
    return {**intake, "applicant_name": earlier.applicant_name}, cited


def _with_due(step: Step, received: date, calendar: WorkingCalendar) -> Step:
    """Supplement deadlines are 15 working days after the (approximate) notice date; the
    time to explain reasons (Art. 35) ends well after any step of a demo request."""
    if step.trigger not in ("request_supplement", "request_reasons") or step.payload.get("due_on"):
        return step
    days = step.after + 15 if step.trigger == "request_supplement" else 60
    due = calendar.add_working_days(received, days).day
    return Step(step.trigger, step.after, {**step.payload, "due_on": due.isoformat()})


def _intake(rng: random.Random, kind: str, received: date) -> dict[str, Any]:
    channel = rng.choices(("online", "in_person", "post", "letter"), weights=(60, 20, 15, 5))[0]
    return {
        "applicant_name": _name_for(rng, kind),
        "applicant_kind": kind,
        "phone": f"1{rng.randint(3, 9)}{rng.randint(0, 999_999_999):09d}",
        "subject": rng.choice(SUBJECTS),
        "channel": channel,
        "submitted_on": received.isoformat(),
        "received_on": received.isoformat(),
        "delivery_wanted": "post",
        "form_wanted": "paper",
    }


def safe_load(session: Session, now: datetime | None = None) -> tuple[bool, str]:
    try:
        counts = load(session, now)
    except DomainError as exc:
        return False, str(exc)
    return (
        True,
        f"已加载：2019年参考数据 {counts['reference_2019']} 件，本年度 {counts['current']} 件",
    )
