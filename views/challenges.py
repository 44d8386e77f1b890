"""The legal officer's pages: reconsideration and litigation cases (复议 / 诉讼, docs/domain.md §5).

Same shape as the request pages (``views.requests``), whose presenters and form flow are
reused: load and check access, parse the form into plain strings, call *one* operation of
``workflow.challenges.operations``, commit once. What may be recorded when, and by whom, comes
from ``workflow.challenges.spec``; the time limits from ``workflow.challenges.remedies``. Only legal
officers record cases (admins may void one, as the spec says); everyone else reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.wrappers import Response

import settings
from models import Challenge, ChallengeEvent, Request, User
from views.access import MAX_ID, load_request_for, require_roles, visible_agency_ids
from views.common import positive_int, signed_in_user, utc_now
from views.database import db
from views.forms import EFFECTIVE_DATE, action_defaults, build_form, submit_action, submit_form
from views.presenters import ActionLine, DeadlineLine, timeline
from workflow.catalog.challenges import (
    DIRECT,
    INSTANCE_LABELS,
    KIND_LABELS,
    KINDS,
    LAWSUIT_AFTER_RECONSIDERATION_DAYS,
    LAWSUIT_MONTHS,
    LITIGATION,
    RECONSIDERATION,
    RECONSIDERATION_DAYS,
    RECONSIDERATION_DECISION_DAYS,
    ROUTE_LABELS,
)
from workflow.challenges.agenda import case_logs
from workflow.challenges.operations import (
    case_conflict_message,
    challenge_history,
    file_challenge,
    fire_challenge,
    refusal_warning,
)
from workflow.challenges.order_effect import kept_reply
from workflow.challenges.remedies import (
    SIMPLIFIED_DECISION_DAYS,
    RemedyDeadlines,
    lawsuit_after_reconsideration_by,
    reconsideration_decision_by,
)
from workflow.challenges.spec import CHALLENGES, ChallengeState, case_actions, fields_for
from workflow.challenges.standing import Standing, own_deadlines, standing_of
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.calendar import WorkingCalendar
from workflow.kernel.errors import NotFound, PermissionDenied
from workflow.kernel.guards import EventLike, role_allowed
from workflow.kernel.lifecycle import blocking_reasons
from workflow.notices.operations import notices_of, remedy_deadlines
from workflow.requests.operations import history
from workflow.store.calendar import load_calendar

bp = Blueprint("challenges", __name__)

FILE = CHALLENGES.by_trigger["file"]
#: Roles that can act on an existing case (record a result, appeal, void).
CASE_ROLES: frozenset[str] = frozenset().union(
    *(t.roles for t in CHALLENGES.transitions if t.trigger != "file")
)
#: States a stored case may be in (the machine's virtual start ``new`` never is).
CASE_STATES: tuple[ChallengeState, ...] = tuple(
    s for s in ChallengeState if s is not ChallengeState.NEW
)

#: Days left at which the reference decision deadline is highlighted.
DUE_SOON_DAYS = 7
#: Closed cases listed under the open ones (most recently closed first).
RECENT_CLOSED = 30


@bp.before_request
@login_required
def _login_first() -> None:
    """Every page of this blueprint needs a signed-in user (safe by default for new routes)."""


def load_case_for(user: User, case_id: int, *, write: bool) -> Challenge:
    """The case if ``user`` may see it (404 otherwise); recording needs the same agency.

    Mirrors ``views.access.load_request_for``: another branch's case is 404, so its
    existence is not confirmed; a superior agency reads but does not record.
    """
    case = db().get(Challenge, case_id) if 0 < case_id <= MAX_ID else None
    if case is None or case.agency_id not in visible_agency_ids(user):
        raise NotFound("案件不存在，或您无权查看")
    if write and case.agency_id != user.agency_id:
        raise PermissionDenied("只能办理本机关的复议或诉讼案件，上级机关只能查阅")
    return case


# --------------------------------------------------------------------------- presenters


def kind_text(case: Challenge) -> str:
    """“行政复议”, or “行政诉讼（未经复议直接起诉）”: the kind as table 四 groups it."""
    kind = KIND_LABELS.get(case.kind, case.kind)
    return f"{kind}（{ROUTE_LABELS.get(case.route, case.route)}）" if case.route else kind


def days_left_note(day: date, today: date) -> tuple[str, int]:
    """Calendar days to ``day`` in words, and the number (negative once passed)."""
    left = (day - today).days
    if left > 0:
        return f"还有 {left} 天", left
    if left == 0:
        return "今日届满", left
    return f"已超过 {-left} 天", left


def standing(case: Challenge, events: Sequence[EventLike]) -> Standing:
    """The case's standing (workflow.challenges.standing)."""
    return standing_of(case.filed_on, events)


def agency_lines(
    case: Challenge, found: Standing, today: date, calendar: WorkingCalendar
) -> list[DeadlineLine]:
    """The agency's own deadlines in the case (workflow.challenges.standing.own_deadlines)."""
    lines = []
    pending = case.state == ChallengeState.PENDING.value
    for item in own_deadlines(case.kind, case.instance, pending, found, calendar):
        note, left = days_left_note(item.day, today)
        css = "overdue" if left < 0 else "due-soon" if left <= DUE_SOON_DAYS else ""
        lines.append(DeadlineLine(item.label, item.day, f"{item.note}；{note}", css))
    return lines


def case_deadline(
    case: Challenge, found: Standing, today: date, calendar: WorkingCalendar
) -> DeadlineLine | None:
    """The one clock worth showing on a case, or None.

    A pending reconsideration: the 复议机关's decision period (reference only): 30 days
    in the simplified procedure open to OGI cases, else 60 (行政复议法 Arts. 53, 62). A
    pending lawsuit: nothing binds a court that the agency could watch, so just the days
    since the instance began. A decided reconsideration: the applicant's 15 days to sue,
    from the service of the decision (its date until service is recorded). Every period
    ending on a rest day runs to the next working day (民事诉讼法 Art. 85).
    """
    if case.state == ChallengeState.PENDING.value and case.kind == RECONSIDERATION:
        due = reconsideration_decision_by(found.opened_on, calendar)
        simplified = reconsideration_decision_by(found.opened_on, calendar, simplified=True)
        note, left = days_left_note(due, today)
        css = "overdue" if left < 0 else "due-soon" if left <= DUE_SOON_DAYS else ""
        return DeadlineLine(
            "复议决定期限（参考）",
            due,
            f"普通程序{RECONSIDERATION_DECISION_DAYS}日；适用简易程序的为"
            f"{SIMPLIFIED_DECISION_DAYS}日（至{simplified.isoformat()}）；{note}",
            css,
        )
    if case.state == ChallengeState.PENDING.value:
        days = (today - found.opened_on).days
        return DeadlineLine("审理天数", None, f"自{found.opened_on.isoformat()}立案已 {days} 天")
    if case.state == ChallengeState.CONCLUDED.value and case.kind == RECONSIDERATION:
        assert found.concluded_on is not None  # a concluded case has a conclude event
        start = found.served_on or found.concluded_on
        due = lawsuit_after_reconsideration_by(start, calendar)
        note, _ = days_left_note(due, today)
        since = "送达" if found.served_on else "作出（送达日期未记录）"
        return DeadlineLine(
            "复议后起诉期限（参考）",
            due,
            f"复议决定书{since}之日起{LAWSUIT_AFTER_RECONSIDERATION_DAYS}日内可起诉；{note}",
        )
    return None


@dataclass(frozen=True)
class CaseRow:
    """One case as lists and the request page show it."""

    case: Challenge
    kind: str
    instance: str
    state: str
    result: str
    standing: Standing
    deadline: DeadlineLine | None
    #: The agency's own deadlines (复议答复, 答辩状, its appeal period).
    agency: list[DeadlineLine]


def case_rows(session: Session, cases: Sequence[Challenge], today: date) -> list[CaseRow]:
    """Rows for ``cases``, reading all their logs in one query."""
    calendar = load_calendar(session)
    logs = case_logs(session, cases)
    rows = []
    for case in cases:
        found = standing(case, logs[case.id])
        result = found.result.label if found.result else ""
        if result and case.state != ChallengeState.CONCLUDED.value:
            result = f"前一审级：{result}"  # appealed: the earlier result no longer stands
        rows.append(
            CaseRow(
                case=case,
                kind=kind_text(case),
                instance=INSTANCE_LABELS.get(case.instance, case.instance),
                state=ChallengeState(case.state).label,
                result=result,
                standing=found,
                deadline=case_deadline(case, found, today, calendar),
                agency=agency_lines(case, found, today, calendar),
            )
        )
    return rows


def remedy_lines(found: RemedyDeadlines | None, today: date) -> list[DeadlineLine]:
    """The applicant's remedy periods after the latest reply (Art. 51), with days left.

    Empty before any reply. Informational: a late application is for the 复议机关 or the
    court to reject, not for the agency to refuse to record.
    """
    if found is None:
        return []
    learned = f"自知道答复之日（{found.learned_on.isoformat()}）起"
    recon_note, _ = days_left_note(found.reconsideration_by, today)
    suit_note, _ = days_left_note(found.lawsuit_by, today)
    return [
        DeadlineLine(
            "申请行政复议期限",
            found.reconsideration_by,
            f"{learned}{RECONSIDERATION_DAYS}日；{recon_note}",
        ),
        DeadlineLine(
            "提起行政诉讼期限", found.lawsuit_by, f"{learned}{LAWSUIT_MONTHS}个月；{suit_note}"
        ),
    ] + (
        [
            DeadlineLine(
                "最长申请期限",
                found.outer_limit_by,
                "答复未经本系统出具，可能未告知救济途径：申请复议的期限自知道之日起"
                "最长不超过1年（《行政复议法》第二十条第三款）",
            )
        ]
        if found.outer_limit_by
        else []
    )


@dataclass(frozen=True)
class CasePanel:
    """The 复议与诉讼 card of a request: its cases, the remedy periods, the file link."""

    cases: list[CaseRow]
    remedies: list[DeadlineLine]
    replied: bool
    can_file: bool


def case_panel(
    session: Session, req: Request, events: Sequence[EventLike], user: User, today: date
) -> CasePanel:
    """Everything the request page and the filing form show about a request's cases."""
    cases = list(
        session.scalars(
            select(Challenge)
            .where(Challenge.request_id == req.id)
            .order_by(Challenge.filed_on, Challenge.id)
        )
    )
    # The service date of the reply notice, once recorded, starts the remedy periods.
    remedies = remedy_lines(
        remedy_deadlines(events, notices_of(session, req), load_calendar(session)), today
    )
    return CasePanel(
        cases=case_rows(session, cases, today),
        remedies=remedies,
        replied=bool(remedies),
        can_file=req.agency_id == user.agency_id and bool(user.roles & FILE.roles),
    )


# --------------------------------------------------------------------------- routes


@bp.get("/challenges")
def list_cases() -> str:
    """Open cases of the visible agencies with their clocks, then the recently closed."""
    me = signed_in_user()
    session = db()
    visible = visible_agency_ids(me)
    today = local_today(utc_now())
    kind = request.args.get("kind", "")
    kind = kind if kind in KIND_LABELS else ""
    state = request.args.get("state", "")
    state = state if state in {s.value for s in CASE_STATES} else ""
    year = positive_int(request.args.get("year"))

    stmt = select(Challenge).where(Challenge.agency_id.in_(visible))
    if kind:
        stmt = stmt.where(Challenge.kind == kind)
    if state:
        stmt = stmt.where(Challenge.state == state)
    if year:
        stmt = stmt.where(
            Challenge.filed_on >= date(year, 1, 1), Challenge.filed_on < date(year + 1, 1, 1)
        )
    stmt = stmt.options(selectinload(Challenge.request).selectinload(Request.agency))
    pending = ChallengeState.PENDING.value
    open_cases = list(
        session.scalars(
            stmt.where(Challenge.state == pending).order_by(Challenge.filed_on, Challenge.id)
        )
    )
    closed_on = (
        select(ChallengeEvent.challenge_id, func.max(ChallengeEvent.effective_date).label("day"))
        .where(ChallengeEvent.trigger.in_(("conclude", "void")))
        .group_by(ChallengeEvent.challenge_id)
        .subquery()
    )
    closed = list(
        session.scalars(
            stmt.join(closed_on, closed_on.c.challenge_id == Challenge.id)
            .where(Challenge.state != pending)
            .order_by(closed_on.c.day.desc(), Challenge.id.desc())
            .limit(None if year else RECENT_CLOSED)
        )
    )
    years = sorted(
        {
            d.year
            for d in session.scalars(
                select(Challenge.filed_on).where(Challenge.agency_id.in_(visible)).distinct()
            )
        },
        reverse=True,
    )
    return render_template(
        "challenges/list.html",
        open_rows=case_rows(session, open_cases, today),
        closed_rows=case_rows(session, closed, today),
        kinds=KINDS,
        kind=kind,
        states=CASE_STATES,
        state=state,
        years=years,
        year=year,
        recent_limit=None if year else RECENT_CLOSED,
        show_agency=len(visible) > 1,
    )


@bp.get(f"/challenges/<int(max={MAX_ID}):challenge_id>")
def detail(challenge_id: int) -> str:
    """Facts, the case's clock, its log in words and what the user may record next."""
    me = signed_in_user()
    case = load_case_for(me, challenge_id, write=False)
    session = db()
    today = local_today(utc_now())
    events = challenge_history(session, case)
    [row] = case_rows(session, [case], today)
    own = case.agency_id == me.agency_id
    read_only = not own or not (me.roles & CASE_ROLES)
    actions: list[ActionLine] = []
    if not read_only:
        actions = [
            ActionLine(spec, reasons, url_for(".act", challenge_id=case.id, trigger=spec.trigger))
            for spec, reasons in case_actions(case, events, me.roles, today)
        ]
    return render_template(
        "challenges/detail.html",
        case=case,
        row=row,
        facts=_facts(case),
        events=timeline(events, CHALLENGES.by_trigger, ChallengeState),
        actions=actions,
        read_only=read_only,
        own=own,
    )


def _facts(case: Challenge) -> list[tuple[str, str]]:
    """The case's facts in words (the request is linked separately), empty ones left out."""
    rows = [
        ("案件类型", kind_text(case)),
        ("审级", INSTANCE_LABELS.get(case.instance, case.instance)),
        ("复议机关或人民法院", case.body),
        ("案号", case.case_no),
        ("立案日期", case.filed_on.isoformat()),
        ("在先的行政复议", case.prior.case_no if case.prior else ""),
        ("被申请人/被告机关", case.request.agency.name),
    ]
    return [(k, v) for k, v in rows if v]


@bp.route(f"/requests/<int(max={MAX_ID}):request_id>/challenges/new", methods=["GET", "POST"])
@require_roles(*sorted(FILE.roles))
def new_case(request_id: int) -> Response | tuple[str, int]:
    """Record a reconsideration or lawsuit against a request's handling (登记案件)."""
    me = signed_in_user()
    req = load_request_for(me, request_id, write=True)
    session = db()
    now = utc_now()
    today = local_today(now)
    form = build_form(FILE.fields, date_label=FILE.date_label, data={EFFECTIVE_DATE: today})
    status = 200
    if request.method == "POST":
        case, status = submit_form(
            form,
            lambda: file_challenge(
                session,
                Actor.of(me),
                now,
                req,
                form.raw(),
                backdate_limit=settings.backdate_days(),
            ),
            conflict="保存时与他人的操作冲突，案件没有登记。请刷新后重新操作。",
        )
        if case is not None:
            flash(f"已登记{kind_text(case)}案件 {case.case_no}", "success")
            warning = challenge_history(session, case)[0].payload.get("warning")
            if warning:
                flash(str(warning), "warning")
            return redirect(url_for(".detail", challenge_id=case.id))
    events = history(session, req)
    return render_template(
        "challenges/new.html",
        req=req,
        spec=FILE,
        form=form,
        challenge_panel=case_panel(session, req, events, me, today),
        # Said before saving too: whether a direct lawsuit would meet the 2024 rule.
        direct_suit_warning=refusal_warning(
            history(session, req), {"kind": LITIGATION, "route": DIRECT}
        ),
    ), status


@bp.route(f"/challenges/<int(max={MAX_ID}):challenge_id>/act/<trigger>", methods=["GET", "POST"])
def act(challenge_id: int, trigger: str) -> Response | tuple[str, int]:
    """Record an appeal, a result or a void; POST carries the version the user saw."""
    spec = CHALLENGES.by_trigger.get(trigger)
    if spec is None or trigger == "file":
        raise NotFound("没有这项操作")
    me = signed_in_user()
    case = load_case_for(me, challenge_id, write=True)
    session = db()
    now = utc_now()
    today = local_today(now)
    if not_allowed := role_allowed(spec.roles)(CHALLENGES.context(case, (), me.roles, today)):
        raise PermissionDenied(not_allowed)
    form = build_form(
        fields_for(spec, case.kind, case.instance),
        date_label=spec.date_label,
        data=action_defaults(today, case.version),
    )
    status = 200
    if request.method == "POST":
        request_state = case.request.state

        def operation(version: int) -> ChallengeEvent:
            return fire_challenge(
                session,
                case,
                trigger,
                Actor.of(me),
                now,
                form.raw(),
                expected_version=version,
                backdate_limit=settings.backdate_days(),
            )

        event, status = submit_action(
            form, case, operation, conflict=case_conflict_message(case.case_no)
        )
        if event is not None:
            flash(f"已记录“{spec.label}”，案件状态：{ChallengeState(case.state).label}", "success")
            if case.request.state != request_state:
                again = case.request.state != "concluded"
                flash(
                    "申请已转为重新办理" if again else "重新办理已撤销，申请回到原办结状态",
                    "info",
                )
            elif (kept := kept_reply(session, case)) is not None:
                flash(
                    f"重新办理中已于{kept.isoformat()}作出新的答复，该答复继续有效，"
                    "重新办理不再撤销",
                    "info",
                )
            return redirect(url_for(".detail", challenge_id=case.id))
    context = CHALLENGES.context(case, challenge_history(session, case), me.roles, today)
    blocked = [r for r in blocking_reasons(spec, context) if r not in form.general_errors]
    return render_template(
        "challenges/action.html",
        case=case,
        kind=kind_text(case),
        spec=spec,
        form=form,
        blocked=blocked,
        conflict=status == 409,
        state_label=ChallengeState(case.state).label,
    ), status
