"""Synthetic, plausible request histories for a province: pure data, no database.

A *plan* is everything one request will go through — its intake and a chronological list
of actions with absolute effective dates — decided up front from a seed. Both write
paths of ``bench/generate.py`` replay the same plans (through ``workflow.requests.operations``, or
in memory and bulk-inserted), which is what makes their results comparable row by row.

Shares follow published city-wide annual reports: most applicants are natural persons;
of the concluded requests about a third are disclosed, a quarter "not held", a tenth
not processed, ~8 % partially disclosed, the rest spread over refusals, lapses and
withdrawals. About 10 % need supplementing, 8 % are extended, 5 % pause (consultation or
fee), 2 % are challenged (复议 / 诉讼), and a few are withdrawn or voided.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from typing import Any, Literal

from workflow.admin.demo import DEMO_FACTS, SUBJECTS, _intake
from workflow.catalog.applicants import KIND_CODES
from workflow.catalog.outcomes import OUTCOME_BY_CODE
from workflow.kernel.calendar import WorkingCalendar

# --------------------------------------------------------------------------- the province


@dataclass(frozen=True)
class AgencySpec:
    code: str
    name: str
    parent: str | None
    #: Relative share of the province's requests.
    weight: float


_DEPARTMENTS: tuple[tuple[str, str, float], ...] = (
    ("zrzy", "自然资源局", 6.0),
    ("zjj", "住房和城乡建设局", 3.0),
    ("sthj", "生态环境局", 1.2),
    ("ga", "公安局", 1.0),
    ("rs", "人力资源和社会保障局", 0.8),
)
_CITIES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("nc", "南昌市", (("dh", "东湖区"), ("xh", "西湖区"), ("qsh", "青山湖区"))),
    ("jj", "九江市", (("xy", "浔阳区"), ("ls", "濂溪区"))),
    ("gz", "赣州市", (("zg", "章贡区"), ("nk", "南康区"))),
)


def province(
    cities: Sequence[tuple[str, str, tuple[tuple[str, str], ...]]] = _CITIES,
) -> tuple[AgencySpec, ...]:
    """A province-like tree: the provincial government and its departments, three city
    governments with departments and district governments (with their own departments).
    ``cities`` replaces the three (``wide_province``)."""
    found = [AgencySpec("jx", "江西省人民政府", None, 2.0)]
    for code, name, weight in _DEPARTMENTS:
        found.append(AgencySpec(f"jx-{code}", f"江西省{name.replace('局', '厅')}", "jx", weight))
    for city, city_name, districts in cities:
        found.append(AgencySpec(city, f"{city_name}人民政府", "jx", 3.0))
        for code, name, weight in _DEPARTMENTS:
            found.append(AgencySpec(f"{city}-{code}", f"{city_name}{name}", city, weight * 1.5))
        for district, district_name in districts:
            code = f"{city}-{district}"
            found.append(AgencySpec(code, f"{city_name}{district_name}人民政府", city, 2.5))
            for dept, name, weight in _DEPARTMENTS[:2]:
                found.append(AgencySpec(f"{code}-{dept}", f"{district_name}{name}", code, weight))
    return tuple(found)


def wide_province(cities: int) -> tuple[AgencySpec, ...]:
    """The same tree with ``cities`` cities of four districts each (18 agencies a city):
    a province of hundreds of agencies for the supervisor's pages (17 cities → 312)."""
    districts = tuple((f"d{d}", f"第{d}区") for d in range(1, 5))
    return province(tuple((f"c{c:02d}", f"第{c}市", districts) for c in range(1, cities + 1)))


ROOT = "jx"
#: Bench accounts per agency: ``{code}-{suffix}``; one password for all of them.
ROLE_USERS: dict[str, tuple[str, ...]] = {
    "dengji": ("registrar",),
    "chengban": ("handler", "approver"),
    "fazhi": ("legal",),
}
#: A provincial supervisor who sees every request (the "whole province" reader).
VIEWER = "jx-chayue"
BENCH_PASSWORD = "bench-password-1"


def username(agency: str, role: str) -> str:
    return f"{agency}-{role}"


# --------------------------------------------------------------------------- plans

Target = Literal["request", "challenge"]


@dataclass(frozen=True)
class Act:
    """One action: fired at the request, or at the request's ``case``-th challenge."""

    target: Target
    trigger: str
    on: date
    payload: dict[str, Any]
    #: Which bench account acts (a key of ``ROLE_USERS``).
    user: str
    case: int = 0


@dataclass(frozen=True)
class Plan:
    agency: str
    intake: dict[str, Any]
    #: Who registers: the registrar, or (a third of the time) the handler, who then owns it.
    registrar: str
    acts: tuple[Act, ...]


@dataclass(frozen=True)
class Seed:
    """The compact form of a plan: enough to rebuild it anywhere (workers, tests)."""

    received_on: date
    agency: str
    seed: int


#: Applicant columns: natural persons dominate in every published report.
KIND_WEIGHTS: tuple[float, ...] = (86.0, 8.0, 0.5, 0.5, 2.0, 3.0)
#: Outcomes chosen by ``decide`` (shares of all concluded requests, in %); the lapses and
#: withdrawals that make up the rest come from their own lifecycle steps.
DECIDE_WEIGHTS: dict[str, float] = {
    "disclosed": 33.0,
    "partially_disclosed": 8.0,
    "withheld.state_secret": 0.3,
    "withheld.prohibited_by_law": 0.5,
    "withheld.security_stability": 0.3,
    "withheld.third_party": 1.5,
    "withheld.internal_affairs": 1.5,
    "withheld.process_information": 2.5,
    "withheld.enforcement_file": 1.0,
    "withheld.administrative_query": 1.2,
    "unavailable.not_held": 25.0,
    "unavailable.needs_creation": 3.5,
    "unavailable.still_unclear": 1.5,
    "not_processed.petition": 4.0,
    "not_processed.duplicate": 3.0,
    "not_processed.publication": 1.0,
    "not_processed.excessive": 1.0,
    "not_processed.confirmation": 1.0,
    "other.other": 2.0,
}
_KIND_CUM = tuple(accumulate(KIND_WEIGHTS))
_OUTCOMES = tuple(DECIDE_WEIGHTS)
_OUTCOME_CUM = tuple(accumulate(DECIDE_WEIGHTS.values()))

P_SUPPLEMENT = 0.10
P_SUPPLEMENT_LAPSE = 0.25
P_EXTEND = 0.08
P_PAUSE = 0.05
P_WITHDRAW = 0.02
P_VOID_EARLY = 0.004
P_VOID_LATE = 0.002
P_CHALLENGE = 0.022
P_LATE = 0.04
P_ON_THE_SPOT = 0.01


def skeleton(
    n: int, seed: int, first_year: int, today: date, agencies: Sequence[AgencySpec]
) -> list[Seed]:
    """``n`` receipt dates (slightly growing over the years) and agencies, in receipt order."""
    rng = random.Random(seed)
    start = date(first_year, 1, 1)
    span = (today - start).days + 1
    codes = [a.code for a in agencies]
    cum = list(accumulate(a.weight for a in agencies))
    found = []
    for _ in range(n):
        day = start + timedelta(days=min(span - 1, int(span * rng.random() ** 0.85)))
        if day.weekday() >= 5 and day - timedelta(days=day.weekday() - 4) >= start:
            day -= timedelta(days=day.weekday() - 4)
        agency = codes[bisect(cum, rng.random() * cum[-1])]
        found.append(Seed(day, agency, rng.getrandbits(48)))
    found.sort(key=lambda s: s.received_on)
    return found


class _Planner:
    """Builds one plan; every date is a working-day offset from the one before."""

    def __init__(self, seed: Seed, calendar: WorkingCalendar, today: date) -> None:
        self.rng = random.Random(seed.seed)
        self.seed = seed
        self.calendar = calendar
        self.today = today
        self.acts: list[Act] = []
        self.last = seed.received_on

    def wd(self, day: date, n: int) -> date:
        return self.calendar.add_working_days(day, n).day

    def act(self, trigger: str, on: date, payload: dict[str, Any], user: str = "chengban") -> date:
        on = max(on, self.last)
        self.acts.append(Act("request", trigger, on, payload, user))
        self.last = on
        return on

    def case_act(self, case: int, trigger: str, on: date, payload: dict[str, Any]) -> date:
        self.acts.append(Act("challenge", trigger, on, payload, "fazhi", case))
        return on

    def build(self) -> Plan:
        rng = self.rng
        kind = KIND_CODES[bisect(_KIND_CUM, rng.random() * _KIND_CUM[-1])]
        intake = _intake(rng, kind, self.seed.received_on)
        intake["subject"] = f"{rng.choice(SUBJECTS)}（{self.seed.seed % 10_000:04d}）"
        registrar = "chengban" if rng.random() < 1 / 3 else "dengji"
        self._lifecycle()
        acts = tuple(_until(self.acts, self.today))
        return Plan(self.seed.agency, intake, registrar, acts)

    def _lifecycle(self) -> None:
        rng, received = self.rng, self.seed.received_on
        if rng.random() < P_VOID_EARLY:
            self.act("void", self.wd(received, rng.randint(0, 3)), {"reason": "重复登记"})
            return
        if rng.random() < P_ON_THE_SPOT:  # Art. 33 para 1: answered the day it came in
            self.act("answer_on_the_spot", received, {"outcome": "disclosed"})
            return
        start = received
        if rng.random() < P_SUPPLEMENT:
            notice = self.wd(received, rng.randint(1, 6))
            due = self.wd(notice, 15)
            self.act(
                "request_supplement",
                notice,
                {"items": "请明确所需信息的名称、文号或其他特征描述", "due_on": due.isoformat()},
                "dengji",
            )
            if rng.random() < P_SUPPLEMENT_LAPSE:
                self.act("supplement_lapsed", self.wd(due, rng.randint(1, 5)), {}, "dengji")
                return
            start = self.act(
                "receive_supplement", self.wd(notice, rng.randint(2, 10)), {}, "dengji"
            )
        else:
            self.act("accept", self.wd(received, rng.randint(0, 2)), {}, "dengji")
        if rng.random() < P_WITHDRAW:
            self.act(
                "withdraw",
                self.wd(self.last, rng.randint(1, 10)),
                {"reason": "申请人撤回"},
                "dengji",
            )
            return
        paused = 0
        if rng.random() < P_PAUSE:
            lapsed, paused = self._pause()
            if lapsed:
                return
        extended = 0
        if rng.random() < P_EXTEND:
            extended = 20
            on = self.wd(start, rng.randint(12, 19) + paused)
            self.act(
                "extend",
                on,
                {"days": 20, "reason": "需调取档案核查", "approver": "{chengban}"},
            )
        late = rng.random() < P_LATE
        offset = rng.randint(21, 30) if late else rng.randint(3, 19)
        if extended and not late:
            offset += rng.randint(0, 15)
        decided = self._decide(self.wd(start, offset + paused))
        if rng.random() < P_CHALLENGE:
            self._challenges(decided)
        elif rng.random() < P_VOID_LATE:
            self.act("void", self.wd(self.last, rng.randint(1, 5)), {"reason": "登记错误"})

    def _pause(self) -> tuple[bool, int]:
        """A consultation or a fee notice; returns (concluded by a lapse, working days paused)."""
        rng = self.rng
        roll = rng.random()
        begin = self.wd(self.last, rng.randint(2, 6))
        if roll < 0.5:
            self.act("consult_third_party", begin, {"party": "相关企业", "matter": "是否同意公开"})
            days = rng.randint(3, 15)
            opinion = rng.choice(("agree", "object", "no_reply"))
            if opinion == "no_reply":  # only once the party's 15 wd have run out (Art. 32)
                days = 16
            replied = self.act("third_party_replied", self.wd(begin, days), {"opinion": opinion})
            if opinion == "object" and rng.random() < 0.3:  # Art. 32: disclosed over it
                notice = {
                    "party": "相关企业",
                    "content": "项目合同金额",
                    "reason": "涉及公共资金使用",
                }
                self.act("notify_third_party", self.wd(replied, 1), notice)
            days = min(days, 15)  # the pause stops counting at the party's deadline
        elif roll < 0.8:
            self.act("consult_agency", begin, {"party": "江西省自然资源厅"})
            days = rng.randint(3, 15)
            self.act("agency_replied", self.wd(begin, days), {"opinion": "agree"})
        else:
            # Per page: the amount follows from the pages (the per-request tier would need
            # the applicant's other requests of the month, which a plan does not know).
            pages = 30 + 10 * rng.randint(1, 5)
            self.act("issue_fee_notice", begin, {"method": "per_page", "pages": pages})
            roll = rng.random()
            if roll < 0.3:
                self.act("fee_lapsed", self.wd(begin, rng.randint(21, 25)), {})
                return True, 0
            days = rng.randint(2, 15)
            if roll < 0.4:
                self.act("waive_fee", self.wd(begin, days), {"reason": "申请人确有经济困难"})
                return False, days
            if roll < 0.5:
                reduced = {"amount": 50, "reason": "申请人确有经济困难"}
                self.act("reduce_fee", self.wd(begin, 1), reduced)
            self.act("fee_paid", self.wd(begin, days), {})
        return False, days

    def _decide(self, on: date, *, redo: bool = False) -> date:
        rng = self.rng
        outcome = _OUTCOMES[bisect(_OUTCOME_CUM, rng.random() * _OUTCOME_CUM[-1])]
        if outcome == "not_processed.duplicate":
            # A 重复申请 must cite this applicant's answered earlier request (Art. 36(六),
            # docs/domain.md §15), which a synthetic plan does not have; the
            # draw is kept (same random stream) and counted in the same group instead.
            outcome = "not_processed.petition"
        payload: dict[str, Any] = {
            "outcome": outcome,
            "delivery": rng.choice(("post", "email", "online", "in_person")),
        }
        if outcome == "unavailable.still_unclear" and (
            redo or all(a.trigger != "receive_supplement" for a in self.acts)
        ):  # a new reply is a new procedure: the first one's 补正 does not count
            outcome = payload["outcome"] = "unavailable.needs_creation"  # Art. 30 guard
        if outcome.startswith(("withheld.", "not_processed.")):
            payload["grounds"] = "经审查，依据《条例》相关规定作出上述决定。"
        if outcome == "not_processed.petition":
            payload["referred_to"] = "本市信访局"
        deferred = outcome == "disclosed" and rng.random() < 0.02
        if outcome == "not_processed.excessive" or deferred:  # Art. 35 first
            asked = self.act(
                "request_reasons",
                self.wd(self.last, 1),
                {"matter": "本月申请30余件", "due_on": self.wd(self.last, 11).isoformat()},
            )
            finding = "reasonable" if deferred else "unreasonable"
            self.act("reasons_received", self.wd(asked, 1), {"finding": finding})
            if deferred:
                self.act("defer_reply", self.wd(asked, 1), {"days": 10, "reason": "申请数量较多"})
        # The facts the outcome's reply must state (workflow.catalog.outcomes.Outcome.requires).
        for fact in OUTCOME_BY_CODE[outcome].requires:
            payload.setdefault(fact, DEMO_FACTS[fact])
        return self.act("decide", max(on, self.wd(self.last, 1)), payload)

    def _challenges(self, decided: date) -> None:
        rng = self.rng
        year = decided.year
        number = self.seed.seed % 100_000
        roll = rng.random()
        if roll < 0.55:
            filed = decided + timedelta(days=rng.randint(10, 55))
            self._case(0, "reconsideration", None, filed, year, number, recon_results())
        elif roll < 0.9:
            filed = decided + timedelta(days=rng.randint(20, 170))
            self._case(0, "litigation", "direct", filed, year, number, lawsuit_results())
        else:
            filed = decided + timedelta(days=rng.randint(10, 55))
            recon_no = _recon_no(year, number)
            done = self._case(0, "reconsideration", None, filed, year, number, (("maintained", 1),))
            filed = done + timedelta(days=rng.randint(5, 14))
            self._case(
                1,
                "litigation",
                "after_reconsideration",
                filed,
                year,
                number,
                lawsuit_results(),
                prior=recon_no,
            )

    def _case(
        self,
        case: int,
        kind: str,
        route: str | None,
        filed: date,
        year: int,
        number: int,
        results: Sequence[tuple[str, float]],
        prior: str | None = None,
    ) -> date:
        rng = self.rng
        if kind == "reconsideration":
            body, case_no = "江西省人民政府", _recon_no(year, number)
            payload: dict[str, Any] = {"kind": kind, "body": body, "case_no": case_no}
        else:
            body, case_no = "南昌铁路运输法院", f"（{year}）赣7101行初{number}号"
            payload = {"kind": kind, "route": route, "body": body, "case_no": case_no}
            payload["instance"] = "first"
            if prior:
                payload["prior_case_no"] = prior
        self.case_act(case, "file", filed, payload)
        span = (30, 80) if kind == "reconsideration" else (60, 180)
        concluded = filed + timedelta(days=rng.randint(*span))
        appeal = kind == "litigation" and rng.random() < 0.25
        if kind == "litigation":
            # A first-instance order takes effect only after its appeal period (the daily
            # reopen-effective run, workflow.challenges.order_effect): here orders come from
            # reconsiderations and second instances, which take effect on service.
            results = [(c, w) for c, w in results if c not in ORDERS_NEW_REPLY]
        result = _pick(rng, results)
        self.case_act(case, "conclude", concluded, {"result": result})
        if appeal:
            appealed = concluded + timedelta(days=rng.randint(10, 20))
            self.case_act(
                case,
                "appeal",
                appealed,
                {
                    "instance": "second",
                    "body": "南昌铁路运输中级法院",
                    "case_no": f"（{year}）赣71行终{number}号",
                },
            )
            concluded = appealed + timedelta(days=rng.randint(60, 120))
            result = _pick(rng, lawsuit_results())
            self.case_act(case, "conclude", concluded, {"result": result})
        if result in ORDERS_NEW_REPLY:
            # The result reopens the request (challenge_ops does it); a new reply follows.
            self.last = max(self.last, concluded)
            self._decide(self.wd(concluded, rng.randint(10, 20)), redo=True)
        return concluded


ORDERS_NEW_REPLY = frozenset({"revoked_new_reply", "ordered_to_perform"})


def recon_results() -> tuple[tuple[str, float], ...]:
    return (
        ("maintained", 55),
        ("application_rejected", 10),
        ("withdrawn", 8),
        ("revoked_new_reply", 12),
        ("confirmed_illegal", 8),
        ("revoked", 7),
    )


def lawsuit_results() -> tuple[tuple[str, float], ...]:
    return (
        ("claims_dismissed", 55),
        ("suit_rejected", 15),
        ("withdrawn", 10),
        ("ordered_to_perform", 10),
        ("confirmed_illegal", 10),
    )


def _recon_no(year: int, number: int) -> str:
    return f"赣府复〔{year}〕{number}号"


def _pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    return rng.choices([c for c, _ in weighted], weights=[w for _, w in weighted])[0]


def _until(acts: Sequence[Act], today: date) -> Iterator[Act]:
    """Acts up to ``today``: history stops at the first one still in the future.

    A challenge act in the future also ends the plan (whatever follows depends on it).
    """
    for act in sorted(acts, key=lambda a: a.on):
        if act.on > today:
            return
        yield act


def plan_for(seed: Seed, calendar: WorkingCalendar, today: date) -> Plan:
    """The full plan of one request; the same seed always gives the same plan."""
    return _Planner(seed, calendar, today).build()


def resolve_payload(payload: dict[str, Any], agency: str) -> dict[str, Any]:
    """Fill in the agency-specific account names (``{chengban}`` → ``nc-zrzy-chengban``)."""
    if payload.get("approver") == "{chengban}":
        return {**payload, "approver": username(agency, "chengban")}
    return payload
