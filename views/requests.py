"""The request pages: list, register, detail with timeline and deadlines, and actions.

Every handler follows the same shape (DESIGN.md principle 4): load and check access,
parse the form into plain strings, call *one* operation, commit once. Domain errors are
rolled back and shown on the form they came from; nothing here decides what the law
allows — the buttons, the reasons and the form fields all come from ``workflow.spec``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from app import db
from models import Agency, Event, Request, RequestFacts, TrackingCounter, User, UserRole
from models.event import EventColumns
from views.access import MAX_ID, load_request_for, require_roles, visible_agency_ids
from views.deadline_explain import explain
from views.forms import (
    VERSION_FIELD,
    PayloadForm,
    action_defaults,
    apply_errors,
    approver_choices,
    build_form,
)
from workflow.catalog.applicants import APPLICANT_KINDS, KIND_BY_CODE
from workflow.catalog.channels import CHANNEL_BY_CODE, CHANNELS
from workflow.catalog.outcomes import GROUPS, OUTCOME_BY_CODE, OUTCOMES
from workflow.clocks import service_dates
from workflow.csv_safe import write_csv
from workflow.deadlines import DUE_SOON_DAYS, Deadlines
from workflow.errors import ConflictError, DomainError, GuardError, NotFound, ValidationError
from workflow.guards import GuardContext
from workflow.intake import INTAKE_FIELDS
from workflow.machine import available_actions, blocking_reasons
from workflow.operations import (
    LOCAL_ZONE,
    Actor,
    conflict_message,
    deadlines_of,
    fire,
    histories,
    history,
    load_calendar,
    local_today,
    register,
    request_deadlines,
)
from workflow.request_query import SORTS, ListFilter, filtered, list_page, ordered
from workflow.similar_requests import likely_duplicates
from workflow.spec import SPEC_BY_TRIGGER, TRANSITIONS, PayloadField, TransitionSpec
from workflow.states import STORED_STATES, State

bp = Blueprint("requests", __name__)
T = TypeVar("T")

PAGE_SIZE = 50
#: The list counts matching requests up to this many and then shows "1000+".
COUNT_CAP = 1000
#: Roles that can fire at least one action; anyone else only reads.
ACTING_ROLES: frozenset[str] = frozenset().union(
    *(t.roles for t in TRANSITIONS if t.trigger != "register")
)
REGISTER_ROLES = tuple(sorted(SPEC_BY_TRIGGER["register"].roles))

#: The register form, in the order a clerk reads a paper application.
INTAKE_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "申请人",
        ("applicant_name", "applicant_kind", "id_type", "id_number", "phone", "email", "address"),
    ),
    ("所需信息", ("subject", "doc_numbers", "form_wanted", "delivery_wanted")),
    ("提交方式与收到日期", ("channel", "submitted_on", "received_on")),
)
_INTAKE_BY_NAME: dict[str, PayloadField] = {f.name: f for f in INTAKE_FIELDS}
#: The register event repeats the intake; the timeline shows only how receipt was fixed.
_REGISTER_SHOWN = ("channel", "submitted_on", "received_on", "receipt_rule")
_EXTRA_LABELS = {"receipt_rule": "收到日期认定"}
#: Payload keys shown as a notice above an event's details, not as one of them:
#: ``late`` (逾期办理, red) and ``warning`` (a rule the legal officer should check, yellow).
_NOTICE_KEYS = ("late", "warning")


@bp.before_request
@login_required
def _login_first() -> None:
    """Every page of this blueprint needs a signed-in user (safe by default for new routes)."""


def _me() -> User:
    """The signed-in user as the ORM row (not the proxy), for typed helpers."""
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    return user


def _now() -> datetime:
    return datetime.now(UTC)


def commit_or_conflict(message: str) -> None:
    """Commit the one transaction of the action; a lost race becomes a conflict (409)."""
    try:
        db().commit()
    except (StaleDataError, IntegrityError) as exc:
        db().rollback()
        raise ConflictError(message) from exc


def _commit(req: Request) -> None:
    commit_or_conflict(conflict_message(req.tracking_no))


def submit_form(form: PayloadForm, operation: Callable[[], T]) -> tuple[T | None, int]:
    """Run a form's one operation (which commits); domain refusals go back onto the form.

    Returns ``(result, 200)``, or ``(None, status)`` after a rollback with the messages on
    the form: 400 for bad input or a guard's refusal, 409 for a conflict. Any other
    refusal (permission, not found) is rolled back and re-raised for the error page.
    """
    try:
        return operation(), 200
    except ConflictError as err:
        db().rollback()
        apply_errors(form, {}, [str(err)])
        return None, 409
    except ValidationError as err:
        db().rollback()
        apply_errors(form, err.field_errors, [str(err)])
        return None, 400
    except GuardError as err:
        db().rollback()
        apply_errors(form, err.field_errors, err.reasons)
        return None, 400
    except DomainError:
        db().rollback()
        raise


def submit_action(
    form: PayloadForm, row: Any, operation: Callable[[int], T]
) -> tuple[T | None, int]:
    """:func:`submit_form` for an action on an existing ``row`` (request or case).

    ``operation`` gets the version the user saw (the hidden field), so a decision taken
    on a stale screen is refused (409). The form then carries the row's current version:
    the page shows the current state, so a deliberate resubmit may proceed.
    """
    version = form.submitted_version()
    if version is None:
        apply_errors(form, {}, ["表单缺少版本信息，请刷新页面后重新操作"])
        return None, 400
    result, status = submit_form(form, lambda: operation(version))
    if status == 409:
        form[VERSION_FIELD].data = str(row.version)
    return result, status


# --------------------------------------------------------------------------- presenters


_PROVISIONAL = "（暂定，节假日安排未公布）"


@dataclass(frozen=True)
class DeadlineLine:
    """One row of the deadline panel (or the list's deadline cell)."""

    label: str
    day: date | None
    note: str = ""
    css: str = ""


def reply_status(deadlines: Deadlines, today: date) -> DeadlineLine:
    """The reply deadline in words: days left, due today, overdue, paused or not running."""
    label = "答复期限"
    if deadlines.voided:
        return DeadlineLine(label, None, "已作废")
    if deadlines.concluded:
        return DeadlineLine(label, deadlines.reply_due, "已办结", "done")
    if deadlines.reply_due is None:
        due = deadlines.applicant_supplement_due
        note = "待补正，收到补正材料后重新计算"
        if due:
            note += f"（申请人补正期限 {due.isoformat()}）"
        return DeadlineLine(label, None, note, "paused")
    provisional = _PROVISIONAL if "reply_due" in deadlines.provisional else ""
    if deadlines.paused and not deadlines.overdue(today):
        note = "暂停计时" + ("（对方逾期未复的，最迟至此日）" if deadlines.consultation_due else "")
        return DeadlineLine(label, deadlines.reply_due, note + provisional, "paused")
    left = deadlines.days_left(today)
    if left is None:
        return DeadlineLine(label, deadlines.reply_due, provisional)
    if left < 0:
        return DeadlineLine(
            label, deadlines.reply_due, f"已逾期 {-left} 个工作日{provisional}", "overdue"
        )
    if left == 0:
        return DeadlineLine(label, deadlines.reply_due, "今日到期" + provisional, "due-soon")
    css = "due-soon" if left <= DUE_SOON_DAYS else ""
    return DeadlineLine(label, deadlines.reply_due, f"剩余 {left} 个工作日{provisional}", css)


def deadline_panel(req: Request, deadlines: Deadlines, today: date) -> list[DeadlineLine]:
    """The four clocks of docs/domain.md §3 for the detail page, each with its state in
    words; "暂定" only on a deadline that rests on an unannounced year."""

    def provisional(name: str) -> str:
        return _PROVISIONAL if name in deadlines.provisional else ""

    def presumed(name: str) -> str:
        return "（按推定送达日计算）" if name in deadlines.presumed else ""

    notice_due = deadlines.supplement_notice_due
    notice = DeadlineLine(
        "补正告知期限",
        notice_due,
        "收到申请后7个工作日" + provisional("supplement_notice_due")
        if notice_due
        else "2008年《条例》未规定补正告知期限",
    )
    if notice_due and req.state == State.REGISTERED.value and today > notice_due:
        notice = DeadlineLine(
            "补正告知期限", notice_due, "已超过法定期限，此后告知补正将标记为逾期", "overdue"
        )
    consult = DeadlineLine("征求意见期限", deadlines.consultation_due, "—")
    if deadlines.consultation_due:
        late = today > deadlines.consultation_due
        consult = DeadlineLine(
            "征求意见期限",
            deadlines.consultation_due,
            ("已届满，请记录意见或逾期未答复" if late else "对方应在此日前回复（15个工作日）")
            + provisional("consultation_due")
            + presumed("consultation_due"),
            "overdue" if late else "",
        )
    fee = DeadlineLine("缴费期限", deadlines.fee_due, "—")
    if deadlines.fee_due:
        late = today > deadlines.fee_due
        fee = DeadlineLine(
            "缴费期限",
            deadlines.fee_due,
            ("已届满，可认定逾期未缴费" if late else "申请人应在此日前缴费（20个工作日）")
            + provisional("fee_due")
            + presumed("fee_due"),
            "overdue" if late else "",
        )
    return [notice, reply_status(deadlines, today), consult, fee]


def local_time(value: datetime | None) -> str:
    """A stored (naive UTC) time as Beijing time, the way staff read clocks."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")


def _submitted_text(value: datetime) -> str:
    """The submission time; a back-dated registration stores local midnight, so date only."""
    text = local_time(value)
    return text.removesuffix(" 00:00")


def outcome_text(code: str) -> str:
    """An outcome as the report names it: group · row（basis）."""
    outcome = OUTCOME_BY_CODE.get(code)
    if outcome is None:
        return code
    basis = "" if outcome.basis in ("", "—") else f"（{outcome.basis}）"
    if outcome.label == outcome.group.label:
        return outcome.label + basis
    return f"{outcome.group.label} · {outcome.label}{basis}"


def _value_text(spec: PayloadField, value: Any, names: Mapping[str, str]) -> str:
    if spec.kind == "choice":
        return spec.choice_label(str(value))
    if spec.kind == "outcome":
        return outcome_text(str(value))
    if spec.kind == "approver":
        return names.get(str(value), str(value))
    if spec.kind == "int" and spec.name == "days":
        return f"{value} 个工作日"
    return str(value)


def describe_payload(
    trigger: str,
    payload: Mapping[str, Any],
    names: Mapping[str, str],
    specs: Mapping[str, TransitionSpec] = SPEC_BY_TRIGGER,
) -> list[tuple[str, str]]:
    """An event's payload in words, labelled as on the form it was entered with.

    Keys the form does not know (older payloads, import extras) are still shown, so the
    log never hides what was recorded; ``late`` and ``warning`` are left out here and
    shown as notices. ``specs`` is the lifecycle's table (requests, or challenges).
    """
    by_name: Mapping[str, PayloadField]
    if trigger == "register":
        by_name, order = _INTAKE_BY_NAME, _REGISTER_SHOWN
    else:
        spec = specs.get(trigger)
        by_name = {f.name: f for f in (spec.fields if spec else ())}
        order = (*by_name, *(k for k in payload if k not in by_name))
    lines = []
    for key in order:
        if key in _NOTICE_KEYS or key not in payload:
            continue
        known = by_name.get(key)
        if known is not None:
            lines.append((known.label, _value_text(known, payload[key], names)))
        else:
            lines.append((_EXTRA_LABELS.get(key, key), str(payload[key])))
    return lines


def _state_label(value: str, states: type[StrEnum] = State) -> str:
    """Chinese state name; the raw value for anything unknown (the log is never hidden)."""
    try:
        return states(value).label  # type: ignore[attr-defined]
    except ValueError:
        return value


@dataclass(frozen=True)
class EventLine:
    seq: int
    label: str
    change: str
    effective_date: date
    recorded: str
    actor: str
    details: list[tuple[str, str]]
    late: str | None
    warning: str | None = None


def timeline(
    events: Sequence[EventColumns],
    specs: Mapping[str, TransitionSpec] = SPEC_BY_TRIGGER,
    states: type[StrEnum] = State,
) -> list[EventLine]:
    """The event log as the detail page shows it, oldest first.

    ``specs`` and ``states`` name the lifecycle: a request's by default, or a challenge's
    (复议/诉讼) — both logs have the same columns and are read the same way.
    """
    usernames = {
        str(v)
        for e in events
        for f in (specs[e.trigger].fields if e.trigger in specs else ())
        if f.kind == "approver" and (v := e.payload.get(f.name))
    }
    names: dict[str, str] = {}
    if usernames:
        rows = db().execute(
            select(User.username, User.display_name).where(User.username.in_(usernames))
        )
        names = {u: d for u, d in rows}
    lines = []
    for event in events:
        spec = specs.get(event.trigger)
        before = _state_label(event.from_state, states) if event.from_state else ""
        after = _state_label(event.to_state, states)
        late, warning = event.payload.get("late"), event.payload.get("warning")
        lines.append(
            EventLine(
                seq=event.seq,
                label=spec.label if spec else event.trigger,
                change=f"{before} → {after}" if before and before != after else after,
                effective_date=event.effective_date,
                recorded=local_time(event.recorded_at),
                actor=event.actor.display_name if event.actor else "系统",
                details=describe_payload(event.trigger, event.payload, names, specs),
                late=str(late) if late else None,
                warning=str(warning) if warning else None,
            )
        )
    return lines


@dataclass(frozen=True)
class ActionLine:
    spec: TransitionSpec
    reasons: list[str]
    url: str


@dataclass
class ListRow:
    request: Request
    kind_label: str
    state_label: str
    reply: DeadlineLine


# --------------------------------------------------------------------------- routes


@bp.get("/")
def index() -> Response:
    return redirect(url_for("dashboard.home"))


def _positive_int(text: str | None, default: int | None = None) -> int | None:
    """A small positive int from a query string, else ``default`` (never an exception).

    ASCII digits only: ``"²".isdigit()`` is true but ``int("²")`` fails.
    """
    text = (text or "").strip()
    if text.isascii() and text.isdigit() and 0 < len(text) < 7 and int(text) > 0:
        return int(text)
    return default


@bp.get("/requests")
def list_requests() -> str:
    """Visible requests with filters, search, sorting and keyset pages (fast at any depth)."""
    me = _me()
    session = db()
    visible = visible_agency_ids(me)
    flt = ListFilter.parse(request.args)
    today = local_today(_now())
    calendar = load_calendar(session)
    # Counting stops at COUNT_CAP: "1000+" is as useful to a clerk as the exact number,
    # and counting a whole province's requests on every page was the slowest statement.
    # A search examines at most SEARCH_WINDOW requests per page (workflow.request_query).
    result = list_page(session, visible, flt, calendar, today, size=PAGE_SIZE, count_cap=COUNT_CAP)
    found = result.rows
    # The rows' agency names in one statement (``r.agency`` would lazy-load one a row).
    agency_names = dict(
        session.execute(
            select(Agency.id, Agency.name).where(Agency.id.in_({r.agency_id for r in found}))
        ).all()
    )
    events = histories(session, [r.id for r in found])
    served = service_dates(session, [r.id for r in found])
    rows = [
        ListRow(
            request=req,
            kind_label=KIND_BY_CODE[req.applicant_kind].label,
            state_label=State(req.state).label,
            reply=reply_status(
                deadlines_of(req, events[req.id], calendar, today, served[req.id]), today
            ),
        )
        for req in found
    ]
    # Every registration increments its year's counter, so the counters list exactly the
    # years that have requests, without scanning the requests (bench/RESULTS.md).
    years = session.scalars(
        select(TrackingCounter.year)
        .where(TrackingCounter.agency_id.in_(visible))
        .distinct()
        .order_by(TrackingCounter.year.desc())
    )
    handlers = session.scalars(
        select(User)
        .join(UserRole)
        .where(User.agency_id.in_(visible), UserRole.role.in_(("handler", "approver")))
        .distinct()
        .order_by(User.display_name)
    )
    return render_template(
        "requests/list.html",
        rows=rows,
        flt=flt,
        total=result.total,
        count_cap=COUNT_CAP,
        next_args=result.next.args() if result.next else None,
        more_args=result.more.args() if result.more else None,
        window=result.window,
        number=_positive_int(request.args.get("n"), 1) or 1,
        states=list(STORED_STATES),
        years=list(years),
        kinds=APPLICANT_KINDS,
        channels=CHANNELS,
        groups=GROUPS,
        outcomes=OUTCOMES,
        handlers=list(handlers),
        sorts=SORTS,
        show_agency=len(visible) > 1,
        agency_names=agency_names,
    )


#: The columns of the CSV export, in order (labels are what the clerk sees in Excel).
EXPORT_HEADER = (
    "编号",
    "申请人",
    "申请人类型",
    "所需信息",
    "提交方式",
    "收到日期",
    "状态",
    "答复期限",
    "期限情况",
    "处理结果",
    "机关",
)
#: Rows beyond this are left out of one export (the page says so); use stats/ledger tools.
EXPORT_LIMIT = 50_000


@bp.get("/requests/export.csv")
def export_csv() -> Response:
    """The filtered list as CSV (UTF-8 with BOM, formulas neutralised).

    A search here is not windowed (unlike the list page, which examines at most
    ``SEARCH_WINDOW`` requests per page): an export holds every match, up to
    ``EXPORT_LIMIT`` rows, however far back they are.
    """
    me = _me()
    session = db()
    flt = replace(ListFilter.parse(request.args), after="")
    today = local_today(_now())
    calendar = load_calendar(session)
    stmt = ordered(filtered(session, visible_agency_ids(me), flt, calendar, today), flt)
    found = list(session.scalars(stmt.limit(EXPORT_LIMIT)))
    events = histories(session, [r.id for r in found])
    served = service_dates(session, [r.id for r in found])
    outcomes = dict(
        session.execute(
            select(RequestFacts.request_id, RequestFacts.outcome).where(
                RequestFacts.request_id.in_([r.id for r in found])
            )
        ).all()
    )
    rows = []
    for req in found:
        deadlines = deadlines_of(req, events[req.id], calendar, today, served[req.id])
        reply = reply_status(deadlines, today)
        outcome = outcomes.get(req.id)
        rows.append(
            (
                req.tracking_no,
                req.applicant_name,
                KIND_BY_CODE[req.applicant_kind].label,
                req.subject,
                CHANNEL_BY_CODE[req.channel].label,
                req.received_on,
                State(req.state).label,
                reply.day,
                reply.note,
                OUTCOME_BY_CODE[outcome].short if outcome else "",
                req.agency.name,
            )
        )
    return Response(
        write_csv(rows, EXPORT_HEADER),
        mimetype="text/csv",
        headers={
            "Content-Disposition": "attachment; filename=requests.csv; "
            "filename*=UTF-8''%E7%94%B3%E8%AF%B7%E5%88%97%E8%A1%A8.csv"
        },
    )


def _intake_form(today: date) -> PayloadForm:
    rules = [(c.label, c.receipt_rule) for c in CHANNELS]
    return build_form(INTAKE_FIELDS, descriptions={"channel": rules}, data={"submitted_on": today})


def _intake_sections() -> list[tuple[str, list[str]]]:
    """The sections of the register form; any intake field not placed lands in the last."""
    placed = {n for _, names in INTAKE_SECTIONS for n in names}
    sections = [
        (title, [n for n in names if n in _INTAKE_BY_NAME]) for title, names in INTAKE_SECTIONS
    ]
    sections[-1][1].extend(f.name for f in INTAKE_FIELDS if f.name not in placed)
    return sections


@bp.route("/requests/new", methods=["GET", "POST"])
@require_roles(*REGISTER_ROLES)
def new_request() -> Response | tuple[str, int]:
    """Register a request (登记); the receipt date and the clocks follow from the channel."""
    me = _me()
    now = _now()
    form = _intake_form(local_today(now))
    status = 200
    duplicates: list[Request] = []
    if request.method == "POST" and request.form.get("confirm_duplicate") != "1":
        duplicates = likely_duplicates(db(), me.agency_id, form.raw(), local_today(now))
    if request.method == "POST" and not duplicates:
        try:
            req = register(db(), Actor.of(me), now, form.raw(), agency=me.agency)
            _commit(req)
        except ValidationError as err:
            db().rollback()
            apply_errors(form, err.field_errors, [str(err)])
            status = 400
        except DomainError:
            db().rollback()
            raise
        else:
            flash(f"已登记，编号 {req.tracking_no}", "success")
            return redirect(url_for(".detail", request_id=req.id))
    return render_template(
        "requests/new.html",
        form=form,
        sections=_intake_sections(),
        rule=SPEC_BY_TRIGGER["register"].rule,
        duplicates=duplicates,
    ), status


@bp.get(f"/requests/<int(max={MAX_ID}):request_id>")
def detail(request_id: int) -> str:
    """Facts, clocks, the event log and what the current user may do next."""
    me = _me()
    req = load_request_for(me, request_id, write=False)
    session = db()
    today = local_today(_now())
    events = history(session, req)
    deadlines = request_deadlines(session, req, events, load_calendar(session), today)
    own = req.agency_id == me.agency_id
    read_only = not own or not (me.roles & ACTING_ROLES)
    actions: list[ActionLine] = []
    if not read_only:
        actions = [
            ActionLine(spec, reasons, url_for(".act", request_id=req.id, trigger=spec.trigger))
            for spec, reasons in available_actions(
                req.state, req.received_on, events, me.roles, today, deadlines
            )
        ]
    # Imported here: views.challenges builds on this module's presenters (import cycle).
    from views.challenges import case_panel
    from views.notices import documents_panel

    return render_template(
        "requests/detail.html",
        challenge_panel=case_panel(session, req, events, me, today),
        documents=documents_panel(session, req, events, me, today, read_only=read_only),
        req=req,
        facts=_facts(req),
        deadlines=deadline_panel(req, deadlines, today),
        provisional=bool(deadlines.provisional),
        explained=explain(deadlines),
        events=timeline(events),
        actions=actions,
        read_only=read_only,
        own=own,
        state_label=State(req.state).label,
    )


@bp.get(f"/requests/<int(max={MAX_ID}):request_id>/deadlines")
def deadline_trace(request_id: int) -> str:
    """The "期限如何计算" explanation as a printable page (for a 复议 file)."""
    req = load_request_for(_me(), request_id, write=False)
    session = db()
    today = local_today(_now())
    events = history(session, req)
    deadlines = request_deadlines(session, req, events, load_calendar(session), today)
    return render_template(
        "requests/deadlines.html", req=req, today=today, explained=explain(deadlines)
    )


def _facts(req: Request) -> list[tuple[str, str]]:
    """The intake facts in words, empty ones left out."""

    def label(name: str, value: str) -> str:
        spec = _INTAKE_BY_NAME.get(name)
        return spec.choice_label(value) if spec and value else value

    kind = KIND_BY_CODE.get(req.applicant_kind)
    rows = [
        ("申请人", req.applicant_name),
        ("申请人类型", kind.label if kind else req.applicant_kind),
        ("证件", " ".join(x for x in (label("id_type", req.id_type), req.id_number) if x)),
        ("联系电话", req.phone),
        ("电子邮箱", req.email),
        ("通信地址", req.address),
        ("所需信息", req.subject),
        ("文件名称、文号", req.doc_numbers),
        ("获取方式", label("form_wanted", req.form_wanted)),
        ("送达方式", label("delivery_wanted", req.delivery_wanted)),
        ("提交方式", label("channel", req.channel)),
        ("提交时间", _submitted_text(req.submitted_at)),
        ("收到申请日期", req.received_on.isoformat()),
        ("承办机关", req.agency.name),
        ("承办人", req.handler.display_name if req.handler else ""),
    ]
    return [(k, v) for k, v in rows if v]


@bp.route(f"/requests/<int(max={MAX_ID}):request_id>/act/<trigger>", methods=["GET", "POST"])
def act(request_id: int, trigger: str) -> Response | tuple[str, int]:
    """One action's form; POST fires it with the version the user saw (else 409)."""
    spec = SPEC_BY_TRIGGER.get(trigger)
    if spec is None or trigger == "register":
        raise NotFound("没有这项操作")
    me = _me()
    req = load_request_for(me, request_id, write=True)
    now = _now()
    today = local_today(now)
    approvers = (
        approver_choices(req.agency_id) if any(f.kind == "approver" for f in spec.fields) else []
    )
    form = build_form(
        spec.fields,
        date_label=spec.date_label,
        approvers=approvers,
        data=action_defaults(today, req.version),
    )
    status = 200
    if request.method == "POST":

        def operation(version: int) -> Event:
            event = fire(
                db(), req, trigger, Actor.of(me), now, form.raw(), expected_version=version
            )
            _commit(req)
            return event

        event, status = submit_action(form, req, operation)
        if event is not None:
            flash(f"已记录“{spec.label}”，当前状态：{State(req.state).label}", "success")
            if event.payload.get("late"):
                flash(f"已标记逾期办理：{event.payload['late']}", "warning")
            return redirect(url_for(".detail", request_id=req.id))
    events = history(db(), req)
    deadlines = request_deadlines(db(), req, events, load_calendar(db()), today)
    context = GuardContext(req.state, req.received_on, events, me.roles, today, deadlines=deadlines)
    blocked = [r for r in blocking_reasons(spec, context) if r not in form.general_errors]
    return render_template(
        "requests/action.html",
        req=req,
        spec=spec,
        form=form,
        blocked=blocked,
        conflict=status == 409,
        state_label=State(req.state).label,
    ), status
