"""The request pages: list, register, detail with timeline and deadlines, and actions.

Every handler follows the same shape (docs/architecture.md, Layers): load and check access,
parse the form into plain strings, call *one* operation, commit once. Domain errors are
rolled back and shown on the form they came from; nothing here decides what the law
allows — the buttons, the reasons and the form fields all come from ``workflow.requests.spec``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TypeVar
from urllib.parse import quote

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

import settings
from documents.ledger_xlsx import ledger_xlsx
from models import Agency, Event, Request, RequestFacts, TrackingCounter, User, UserRole
from views.access import MAX_ID, load_request_for, require_roles, visible_agency_ids
from views.attachments import attachments_panel
from views.challenges import case_panel
from views.common import positive_int, signed_in_user, utc_now
from views.database import db
from views.deadline_explain import explain
from views.forms import (
    PayloadForm,
    action_defaults,
    approver_choices,
    build_form,
    submit_action,
    submit_form,
)
from views.notices import documents_panel
from views.office import office_panel
from views.presenters import (
    INTAKE_BY_NAME,
    ActionLine,
    EventLine,
    ListRow,
    deadline_panel,
    reply_status,
    submitted_text,
    timeline,
)
from views.security import personal_data
from workflow.catalog.applicants import APPLICANT_KINDS, KIND_BY_CODE
from workflow.catalog.channels import CHANNEL_BY_CODE, CHANNELS
from workflow.catalog.outcomes import GROUPS, OUTCOME_BY_CODE, OUTCOMES
from workflow.catalog.states import STORED_STATES, State
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.backdating import REASON_FIELD
from workflow.kernel.csv_safe import write_csv
from workflow.kernel.errors import NotFound
from workflow.kernel.guards import GuardContext
from workflow.kernel.lifecycle import PayloadField, TransitionSpec, blocking_reasons
from workflow.ledger import export as ledger_export
from workflow.requests.clocks import service_dates
from workflow.requests.intake import INTAKE_FIELDS, supplement_proposal
from workflow.requests.machine import available_actions
from workflow.requests.office import LINK_LABELS, links, procedure
from workflow.requests.office_operations import (
    ASSIGN_ROLES,
    PROPOSE_ROLES,
    handler_choices,
    register_request,
)
from workflow.requests.operations import (
    answer_on_the_spot,
    conflict_message,
    deadlines_of,
    fire,
    histories,
    history,
    request_deadlines,
)
from workflow.requests.query import (
    SEARCH_FIELDS_LABEL,
    SORTS,
    ListFilter,
    filtered,
    list_page,
    ordered,
    shared_tracking_numbers,
)
from workflow.requests.similar import (
    ART44_APPLICANTS,
    earlier_requests,
    information_applicants,
    likely_duplicates,
    same_information,
)
from workflow.requests.spec import SPEC_BY_TRIGGER, TRANSITIONS
from workflow.statistics.supervision import MEASURES
from workflow.store.calendar import load_calendar

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
        (
            "applicant_name",
            "applicant_kind",
            "id_type",
            "id_number",
            "legal_representative",
            "contact_person",
            "phone",
            "email",
            "address",
        ),
    ),
    ("所需信息", ("subject", "doc_numbers", "form_wanted", "delivery_wanted")),
    ("提交方式与收到日期", ("channel", "submitted_on", "received_on")),
)


@bp.before_request
@login_required
def _login_first() -> None:
    """Every page of this blueprint needs a signed-in user (safe by default for new routes)."""


# --------------------------------------------------------------------------- routes


@bp.get("/")
def index() -> Response:
    return redirect(url_for("dashboard.home"))


@bp.get("/requests")
def list_requests() -> str:
    """Visible requests with filters, search, sorting and keyset pages (fast at any depth)."""
    me = signed_in_user()
    session = db()
    visible = visible_agency_ids(me)
    flt = ListFilter.parse(request.args)
    today = local_today(utc_now())
    calendar = load_calendar(session)
    # Counting stops at COUNT_CAP: "1000+" is as useful to a clerk as the exact number,
    # and counting a whole province's requests on every page was the slowest statement.
    # A search is answered by the word index (workflow.requests.search): no window.
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
    personal_data("personal_data_viewed", [r.id for r in found], "list")
    return render_template(
        "requests/list.html",
        rows=rows,
        flt=flt,
        total=result.total,
        count_cap=COUNT_CAP,
        next_args=result.next.args() if result.next else None,
        number=positive_int(request.args.get("n"), 1) or 1,
        states=list(STORED_STATES),
        years=list(years),
        kinds=APPLICANT_KINDS,
        channels=CHANNELS,
        groups=GROUPS,
        outcomes=OUTCOMES,
        handlers=list(handlers),
        can_assign=bool(me.roles & ASSIGN_ROLES),
        assignable=handler_choices(session, me.agency_id) if me.roles & ASSIGN_ROLES else [],
        sorts=SORTS,
        show_agency=len(visible) > 1,
        agency_names=agency_names,
        shared_numbers=shared_tracking_numbers(found),
        search_hint=SEARCH_FIELDS_LABEL,
        measures=MEASURES,
        filter_agency=session.get(Agency, flt.agency).name if flt.agency in visible else None,
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

    The same rows as the list (search included), up to ``EXPORT_LIMIT``, however far
    back they are.
    """
    me = signed_in_user()
    session = db()
    flt = replace(ListFilter.parse(request.args), after="")
    today = local_today(utc_now())
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
    personal_data("personal_data_exported", [r.id for r in found], "requests.csv")
    return Response(
        write_csv(rows, EXPORT_HEADER),
        mimetype="text/csv",
        headers={
            "Content-Disposition": "attachment; filename=requests.csv; "
            "filename*=UTF-8''%E7%94%B3%E8%AF%B7%E5%88%97%E8%A1%A8.csv"
        },
    )


#: The answer given on the spot, asked on the register form (Art. 33 para 1).
ON_THE_SPOT = SPEC_BY_TRIGGER["answer_on_the_spot"]
ON_THE_SPOT_ROLES = frozenset(SPEC_BY_TRIGGER["register"].roles) & ON_THE_SPOT.roles


@bp.get("/requests/export.xlsx")
def export_xlsx() -> Response:
    """The filtered list as the full 台账 (issue 15 item 7): the ledger import's columns,
    then every other column an office keeps (``workflow.ledger.export``).

    Filter by 收到年度 for a year's 台账. Like the CSV, not windowed and at most
    ``EXPORT_LIMIT`` rows; the file imports as it is (``import-ledger``).
    """
    me = signed_in_user()
    session = db()
    flt = replace(ListFilter.parse(request.args), after="")
    calendar = load_calendar(session)
    stmt = ordered(
        filtered(session, visible_agency_ids(me), flt, calendar, local_today(utc_now())), flt
    )
    found = list(session.scalars(stmt.limit(EXPORT_LIMIT)))
    name = f"申请台账{flt.year or ''}.xlsx"
    return Response(
        ledger_xlsx(ledger_export.header(), ledger_export.export_rows(session, found)),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f"attachment; filename=ledger{flt.year or ''}.xlsx; "
            f"filename*=UTF-8''{quote(name)}"
        },
    )


def _intake_form(today: date) -> PayloadForm:
    rules = [(c.label, c.receipt_rule) for c in CHANNELS]
    fields = (*INTAKE_FIELDS, *ON_THE_SPOT.fields)
    return build_form(
        fields,
        descriptions={"channel": rules},
        data={"submitted_on": today},
        backdate_reason=True,
    )


def _intake_sections() -> list[tuple[str, list[str]]]:
    """The sections of the register form; any intake field not placed lands in the last."""
    placed = {n for _, names in INTAKE_SECTIONS for n in names}
    sections = [
        (title, [n for n in names if n in INTAKE_BY_NAME]) for title, names in INTAKE_SECTIONS
    ]
    sections[-1][1].extend(f.name for f in INTAKE_FIELDS if f.name not in placed)
    sections[-1][1].append(REASON_FIELD)  # 补录原因, after the dates
    return sections


@bp.route("/requests/new", methods=["GET", "POST"])
@require_roles(*REGISTER_ROLES)
def new_request() -> Response | tuple[str, int]:
    """Register a request (登记); the receipt date and the clocks follow from the channel."""
    me = signed_in_user()
    now = utc_now()
    form = _intake_form(local_today(now))
    status = 200
    duplicates: list[Request] = []
    if request.method == "POST" and request.form.get("confirm_duplicate") != "1":
        duplicates = likely_duplicates(db(), me.agency_id, form.raw(), local_today(now))
    if request.method == "POST" and not duplicates:
        linked = positive_int(request.form.get("duplicate_of"))
        # 当场答复 (Art. 33 para 1): the same form, a second button, one more event.
        on_the_spot = request.form.get("on_the_spot") == "1"

        def operation() -> Request:
            if on_the_spot:
                return answer_on_the_spot(db(), Actor.of(me), now, form.raw(), agency=me.agency)
            return register_request(
                db(),
                Actor.of(me),
                now,
                form.raw(),
                agency=me.agency,
                duplicate_of=linked,
                backdate_limit=settings.backdate_days(),
            )

        req, status = submit_form(
            form,
            operation,
            conflict="保存时与他人的登记冲突，申请没有登记。请重新提交。",
        )
        if req is not None and req.state == State.CONCLUDED.value:
            flash(f"已登记并当场答复，编号 {req.tracking_no}，请出具答复书", "success")
            return redirect(url_for(".detail", request_id=req.id))
        if req is not None:
            flash(f"已登记，编号 {req.tracking_no}", "success")
            proposal = _supplement_proposal(req)
            if proposal:
                flash(f"申请要素不全，建议一次性告知补正。{proposal}", "warning")
            return redirect(url_for(".detail", request_id=req.id))
    return render_template(
        "requests/new.html",
        form=form,
        sections=_intake_sections(),
        rule=SPEC_BY_TRIGGER["register"].rule,
        duplicates=duplicates,
        on_the_spot=ON_THE_SPOT if me.roles & ON_THE_SPOT_ROLES else None,
    ), status


@bp.get(f"/requests/<int(max={MAX_ID}):request_id>")
def detail(request_id: int) -> str:
    """Facts, clocks, the event log and what the current user may do next."""
    me = signed_in_user()
    req = load_request_for(me, request_id, write=False)
    session = db()
    today = local_today(utc_now())
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
    personal_data("personal_data_viewed", [req.id], "detail")
    alike = same_information(session, req)
    return render_template(
        "requests/detail.html",
        challenge_panel=case_panel(session, req, events, me, today),
        documents=documents_panel(session, req, events, me, today, read_only=read_only),
        attachments=attachments_panel(session, req, events, me, read_only=read_only),
        req=req,
        facts=_facts(req),
        deadlines=deadline_panel(req, deadlines, today),
        provisional=bool(deadlines.provisional),
        explained=explain(deadlines),
        events=_with_correct_links(req, timeline(events), me, own),
        office=office_panel(req, events, me),
        same_information=alike,
        art44_applicants=information_applicants(session, req) if alike else 1,
        art44_least=ART44_APPLICANTS,
        links=[(office_link_label(k), i, n) for k, i, n in links(events)],
        actions=actions,
        read_only=read_only,
        own=own,
        state_label=State(req.state).label,
    )


@bp.get(f"/requests/<int(max={MAX_ID}):request_id>/deadlines")
def deadline_trace(request_id: int) -> str:
    """The "期限如何计算" explanation as a printable page (for a 复议 file)."""
    req = load_request_for(signed_in_user(), request_id, write=False)
    session = db()
    today = local_today(utc_now())
    events = history(session, req)
    deadlines = request_deadlines(session, req, events, load_calendar(session), today)
    return render_template(
        "requests/deadlines.html", req=req, today=today, explained=explain(deadlines)
    )


def office_link_label(kind: str) -> str:
    return LINK_LABELS.get(kind, kind)


def _decision_fields(req: Request, spec: TransitionSpec) -> tuple[tuple[PayloadField, ...], dict]:
    """The decision form offers this applicant's answered earlier requests for a 重复申请
    (Art. 36(六)), the one linked at registration chosen already."""
    if spec.trigger != "decide":
        return spec.fields, {}
    earlier = earlier_requests(db(), req)
    choices = tuple(
        (r.tracking_no, f"{r.tracking_no}（{r.received_on}）{r.subject[:30]}") for r in earlier
    )
    fields = tuple(
        replace(f, kind="choice", choices=choices) if f.name == "earlier" else f
        for f in spec.fields
    )
    linked = [no for kind, _id, no in links(history(db(), req)) if kind == "duplicate_of"]
    offered = {r.tracking_no for r in earlier}
    return fields, ({"earlier": linked[-1]} if linked and linked[-1] in offered else {})


def _with_correct_links(
    req: Request, lines: list[EventLine], me: User, own: bool
) -> list[EventLine]:
    """The timeline with a 更正 link on each step, for users who may correct."""
    if not own or not (me.roles & PROPOSE_ROLES) or req.state == State.VOIDED.value:
        return lines
    return [
        line
        if line.office
        else replace(
            line, correct_url=url_for("office.correct", request_id=req.id, event_id=line.id)
        )
        for line in lines
    ]


def _facts(req: Request) -> list[tuple[str, str]]:
    """The intake facts in words, empty ones left out."""

    def label(name: str, value: str) -> str:
        spec = INTAKE_BY_NAME.get(name)
        return spec.choice_label(value) if spec and value else value

    kind = KIND_BY_CODE.get(req.applicant_kind)
    rows = [
        ("申请人", req.applicant_name),
        ("申请人类型", kind.label if kind else req.applicant_kind),
        ("证件", " ".join(x for x in (label("id_type", req.id_type), req.id_number) if x)),
        ("法定代表人或负责人", req.legal_representative),
        ("联系人", req.contact_person),
        ("联系电话", req.phone),
        ("电子邮箱", req.email),
        ("通信地址", req.address),
        ("所需信息", req.subject),
        ("文件名称、文号", req.doc_numbers),
        ("获取方式", label("form_wanted", req.form_wanted)),
        ("送达方式", label("delivery_wanted", req.delivery_wanted)),
        ("提交方式", label("channel", req.channel)),
        ("提交时间", submitted_text(req.submitted_at)),
        ("收到申请日期", req.received_on.isoformat()),
        ("承办机关", req.agency.name),
        ("承办人", req.handler.display_name if req.handler else ""),
        ("申请要素不全（建议告知补正）", _supplement_proposal(req) or ""),
    ]
    return [(k, v) for k, v in rows if v]


def _supplement_proposal(req: Request) -> str | None:
    """The 补正 the page proposes while the request awaits its first review (Art. 29, 30)."""
    if req.state != State.REGISTERED.value:
        return None
    return supplement_proposal({f.name: getattr(req, f.name, "") for f in INTAKE_FIELDS})


@bp.route(f"/requests/<int(max={MAX_ID}):request_id>/act/<trigger>", methods=["GET", "POST"])
def act(request_id: int, trigger: str) -> Response | tuple[str, int]:
    """One action's form; POST fires it with the version the user saw (else 409)."""
    spec = SPEC_BY_TRIGGER.get(trigger)
    if spec is None or trigger == "register":
        raise NotFound("没有这项操作")
    me = signed_in_user()
    req = load_request_for(me, request_id, write=True)
    now = utc_now()
    today = local_today(now)
    # An approval is the approver's own act: the only name offered is the user's own.
    approvers = [
        (name, label) for name, label in approver_choices(req.agency_id) if name == me.username
    ]
    fields, defaults = _decision_fields(req, spec)
    defaults = {**action_defaults(today, req.version), **defaults}
    proposal = _supplement_proposal(req)
    if trigger == "request_supplement" and proposal:
        defaults["items"] = proposal  # Art. 29: what the application lacks, proposed
    form = build_form(fields, date_label=spec.date_label, approvers=approvers, data=defaults)
    status = 200
    if request.method == "POST":

        def operation(version: int) -> Event:
            return fire(
                db(),
                req,
                trigger,
                Actor.of(me),
                now,
                form.raw(),
                expected_version=version,
                backdate_limit=settings.backdate_days(),
            )

        event, status = submit_action(
            form, req, operation, conflict=conflict_message(req.tracking_no)
        )
        if event is not None:
            flash(f"已记录“{spec.label}”，当前状态：{State(req.state).label}", "success")
            if event.payload.get("late"):
                flash(f"已标记逾期办理：{event.payload['late']}", "warning")
            return redirect(url_for(".detail", request_id=req.id))
    events = history(db(), req)
    deadlines = request_deadlines(db(), req, events, load_calendar(db()), today)
    context = GuardContext(
        req.state, req.received_on, procedure(events), me.roles, today, deadlines=deadlines
    )
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
