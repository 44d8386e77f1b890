"""The office's pages on a request: assignment (分办, one or many), proposals and sign-off
(审核签发) and corrections (更正); and the agency's list of 主动公开 candidates (条例
Art. 44). Thin: parse, call one operation of ``workflow.requests.office_operations`` (or
one query of ``workflow.requests.similar``), commit once (docs/domain.md §15)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from models import Agency, Event, Request, User
from views.access import MAX_ID, load_request_for, require_roles, visible_agency_ids
from views.common import local_time, perform_and_flash, positive_int, signed_in_user, utc_now
from views.database import db
from views.forms import build_form, submit_form
from views.presenters import describe_proposal
from workflow.catalog.states import OPEN_STATES, State
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.errors import NotFound, ValidationError
from workflow.requests import office, similar
from workflow.requests import office_operations as office_ops
from workflow.requests.spec import EXTENSION_PROPOSAL_FIELDS, TRIGGER_LABELS
from workflow.statistics.supervision import Period

bp = Blueprint("office", __name__)


@bp.before_request
@login_required
def _login_first() -> None:
    """Every page of this blueprint needs a signed-in user."""


@dataclass(frozen=True)
class FormPage:
    """What the action-form macro shows above a form: its title and its rule."""

    label: str
    rule: str


def _version() -> int | None:
    value = request.form.get("expected_version", "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else None


def _back(req: Request) -> Response:
    return redirect(url_for("requests.detail", request_id=req.id))


def _int_or_none(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) < 11 else None


# --------------------------------------------------------------------------- 分办


@bp.post(f"/requests/<int(max={MAX_ID}):request_id>/assign")
@require_roles(*office_ops.ASSIGN_ROLES)
def assign(request_id: int) -> Response:
    """Assign, reassign or (empty choice) unassign the request's 承办人."""
    me = signed_in_user()
    req = load_request_for(me, request_id, write=True)
    handler_id = _int_or_none(request.form.get("handler"))

    def operation() -> str:
        office_ops.assign(
            db(),
            req,
            Actor.of(me),
            utc_now(),
            handler_id,
            note=request.form.get("note", ""),
            expected_version=_version(),
        )
        name = req.handler.display_name if req.handler else "（未分配）"
        return f"申请 {req.tracking_no} 已分办给{name}"

    perform_and_flash(operation, refused="未分办：")
    return _back(req)


@bp.post("/requests/assign")
@require_roles(*office_ops.ASSIGN_ROLES)
def assign_many() -> Response:
    """Bulk 分办 from the list: every ticked request to the chosen handler, or none."""
    me = signed_in_user()
    ids = [i for i in (_int_or_none(v) for v in request.form.getlist("ids")) if i]
    for rid in ids:  # every selected request must be one the user may act on (403/404)
        load_request_for(me, rid, write=True)
    handler_id = _int_or_none(request.form.get("handler"))

    def operation() -> str:
        events = office_ops.assign_many(db(), ids, Actor.of(me), utc_now(), handler_id)
        user = db().get(User, handler_id) if handler_id else None
        return f"已将 {len(events)} 件申请分办给{user.display_name if user else '（未分配）'}"

    perform_and_flash(operation, refused="未分办：")
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/requests") else url_for("requests.list_requests"))


# --------------------------------------------------------------------------- 审核签发


@bp.route(f"/requests/<int(max={MAX_ID}):request_id>/propose-extension", methods=["GET", "POST"])
@require_roles(*office_ops.PROPOSE_ROLES)
def propose_extension(request_id: int) -> Response | tuple[str, int]:
    """提请延期：the handler's proposal, which waits for an approver (Art. 33 para 2)."""
    me = signed_in_user()
    req = load_request_for(me, request_id, write=True)
    form = build_form(EXTENSION_PROPOSAL_FIELDS, data={"days": 20})
    status = 200
    if request.method == "POST":
        event, status = submit_form(
            form,
            lambda: office_ops.propose(db(), req, Actor.of(me), utc_now(), "extension", form.raw()),
        )
        if event is not None:
            flash("已提请审核人批准延期；批准前答复期限不变", "success")
            return _back(req)
    page = FormPage("提请延期答复", office.OFFICE_RULES["extension"])
    return render_template(
        "office/form.html",
        req=req,
        page=page,
        form=form,
        state_label=State(req.state).label,
        conflict=status == 409,
        submit_label="提请审核",
    ), status


@bp.post(f"/requests/<int(max={MAX_ID}):request_id>/propose-signoff/<int(max={MAX_ID}):event_id>")
@require_roles(*office_ops.PROPOSE_ROLES)
def propose_signoff(request_id: int, event_id: int) -> Response:
    """提请签发 a decision, where the agency wants it signed before the reply is issued."""
    me = signed_in_user()
    req = load_request_for(me, request_id, write=True)

    def operation() -> str:
        office_ops.propose(db(), req, Actor.of(me), utc_now(), "decision", {"target_id": event_id})
        return "已提请审核人签发答复"

    perform_and_flash(operation, refused="未提请：")
    return _back(req)


@bp.post(
    f"/requests/<int(max={MAX_ID}):request_id>/proposals/<int(max={MAX_ID}):proposal_id>/approve"
)
@require_roles(office_ops.APPROVER)
def approve(request_id: int, proposal_id: int) -> Response:
    """审核同意: the approver's own act."""
    me = signed_in_user()
    req = load_request_for(me, request_id, write=True)
    raw = {k: request.form.get(k, "") for k in ("note", "effective_date")}

    def operation() -> str:
        office_ops.approve(
            db(), req, Actor.of(me), utc_now(), proposal_id, raw, expected_version=_version()
        )
        return f"已审核同意（申请 {req.tracking_no}）"

    perform_and_flash(operation, refused="未审核：")
    return _back(req)


@bp.post(
    f"/requests/<int(max={MAX_ID}):request_id>/proposals/<int(max={MAX_ID}):proposal_id>/reject"
)
@require_roles(office_ops.APPROVER)
def reject(request_id: int, proposal_id: int) -> Response:
    """审核退回, with the reason."""
    me = signed_in_user()
    req = load_request_for(me, request_id, write=True)

    def operation() -> str:
        office_ops.reject(
            db(),
            req,
            Actor.of(me),
            utc_now(),
            proposal_id,
            request.form.get("reason", ""),
            expected_version=_version(),
        )
        return f"已退回（申请 {req.tracking_no}）"

    perform_and_flash(operation, refused="未退回：")
    return _back(req)


# --------------------------------------------------------------------------- 更正


def _target(req: Request, event_id: int) -> Event:
    event = db().get(Event, event_id)
    if event is None or event.request_id != req.id or office.is_office(event):
        raise NotFound("没有这条办理记录")
    return event


@bp.route(
    f"/requests/<int(max={MAX_ID}):request_id>/correct/<int(max={MAX_ID}):event_id>",
    methods=["GET", "POST"],
)
@require_roles(*office_ops.PROPOSE_ROLES)
def correct(request_id: int, event_id: int) -> Response | tuple[str, int]:
    """更正 one recorded step: directly (a payload field; a date or outcome by an approver)
    or as a proposal that waits for an approver."""
    me = signed_in_user()
    req = load_request_for(me, request_id, write=True)
    target = _target(req, event_id)
    choices = tuple(office_ops.correctable_fields(db(), target))
    fields = tuple(
        replace(f, choices=choices) if f.name == "field" else f for f in office.CORRECTION_FIELDS
    )
    form = build_form(fields)
    status = 200
    if request.method == "POST":
        raw = {**form.raw(), "target_id": str(target.id)}
        direct = not office.needs_approver(raw.get("field", "")) or "approver" in me.roles

        def operation() -> Event:
            if direct:
                return office_ops.correct(db(), req, Actor.of(me), utc_now(), raw)
            return office_ops.propose(db(), req, Actor.of(me), utc_now(), "correction", raw)

        event, status = submit_form(form, operation)
        if event is not None:
            flash(
                "已记录更正" if direct else "已提请审核人批准更正；批准前仍按原记录计算",
                "success",
            )
            return _back(req)
    label = TRIGGER_LABELS.get(target.trigger, target.trigger)
    page = FormPage(
        f"更正第{target.seq}条记录（{label}，{target.effective_date.isoformat()}）",
        office.OFFICE_RULES["correction"],
    )
    return render_template(
        "office/form.html",
        req=req,
        page=page,
        form=form,
        state_label=State(req.state).label,
        conflict=status == 409,
        submit_label="保存更正" if "approver" in me.roles else "保存或提请审核",
    ), status


# --------------------------------------------------------------------------- split, merge


@bp.route(f"/requests/<int(max={MAX_ID}):request_id>/split", methods=["GET", "POST"])
@require_roles(*office_ops.PROPOSE_ROLES)
def split(request_id: int) -> Response | tuple[str, int]:
    """拆分 a multi-item application into several requests (one item a line)."""
    me = signed_in_user()
    req = load_request_for(me, request_id, write=True)
    form = build_form(office.SPLIT_FIELDS)
    status = 200
    if request.method == "POST":
        made, status = submit_form(
            form,
            lambda: office_ops.split(
                db(), req, Actor.of(me), utc_now(), form.raw()["items"].splitlines()
            ),
        )
        if made is not None:
            numbers = "、".join(r.tracking_no for r in made)
            flash(f"已拆分：本申请继续办理第1项，新登记 {numbers}", "success")
            return _back(req)
    return render_template(
        "office/form.html",
        req=req,
        page=FormPage("拆分申请", office.OFFICE_RULES["split"]),
        form=form,
        state_label=State(req.state).label,
        conflict=status == 409,
        submit_label="拆分",
    ), status


@bp.route(f"/requests/<int(max={MAX_ID}):request_id>/merge", methods=["GET", "POST"])
@require_roles(*office_ops.MERGE_ROLES)
def merge(request_id: int) -> Response | tuple[str, int]:
    """合并: this applicant's other open registrations of the same application into this one."""
    me = signed_in_user()
    req = load_request_for(me, request_id, write=True)
    candidates = office_ops.merge_candidates(db(), req)
    choices = tuple(
        (str(r.id), f"{r.tracking_no}（{r.received_on}）{r.subject[:30]}") for r in candidates
    )
    fields = tuple(
        replace(f, choices=choices) if f.name == "ids" else f for f in office.MERGE_FIELDS
    )
    form = build_form(fields)
    status = 200
    if request.method == "POST":
        wanted = {i for i in (_int_or_none(v) for v in request.form.getlist("ids")) if i}
        others = [r for r in candidates if r.id in wanted]
        done, status = submit_form(
            form,
            lambda: office_ops.merge(
                db(), req, others, Actor.of(me), utc_now(), form.raw()["reason"]
            ),
        )
        if done is not None:
            flash(f"已将 {len(others)} 件申请并入本申请", "success")
            return _back(req)
    return render_template(
        "office/form.html",
        req=req,
        page=FormPage("合并申请", office.OFFICE_RULES["merge"]),
        form=form,
        state_label=State(req.state).label,
        conflict=status == 409,
        submit_label="合并",
        multiple="ids",
    ), status


# --------------------------------------------------------------------------- Art. 44


@bp.get("/requests/publication-candidates")
def publication_candidates() -> tuple[str, int]:
    """条例 Art. 44: information asked for by several different applicants of one agency
    in a period (default the last 12 months), a candidate for 主动公开. Readers of the
    agency (their own or one below); a bad period keeps the default with the reason."""
    me = signed_in_user()
    session = db()
    code = request.args.get("agency", "").strip() or me.agency.code
    agency = session.scalar(select(Agency).where(Agency.code == code[:64]))
    if agency is None or agency.id not in visible_agency_ids(me):
        raise NotFound("机关不存在，或您无权查看")
    today = local_today(utc_now())
    default = Period(today - similar.WINDOW, today)
    problem = None
    period = default
    if request.args.get("start") or request.args.get("end"):
        try:
            period = Period.parse(request.args.get("start"), request.args.get("end"), today)
        except ValidationError as err:
            problem = str(err)
    least = similar.ART44_APPLICANTS
    if typed := request.args.get("min", "").strip():
        wanted = positive_int(typed)
        if wanted is not None and similar.ART44_MIN <= wanted <= similar.ART44_MAX:
            least = wanted
        else:
            problem = (
                f"申请人数应为 {similar.ART44_MIN}–{similar.ART44_MAX} 的整数，已按 {least} 人列出"
            )
    groups = similar.publication_candidates(session, agency.id, period.start, period.end, least)
    agencies = me.agency.descendants()
    return render_template(
        "office/publication_candidates.html",
        agency=agency,
        agencies=agencies,
        period=period,
        least=least,
        groups=groups,
        problem=problem,
        limits=(similar.ART44_MIN, similar.ART44_MAX),
    ), 200


# --------------------------------------------------------------------------- the panel


@dataclass(frozen=True)
class ProposalLine:
    event: Event
    text: str
    by: str
    when: str
    own: bool


def office_panel(req: Request, events: list[Event], me: User) -> dict[str, Any]:
    """What the 分办与审核 card of the detail page shows and offers to ``me``."""
    session = db()
    own = req.agency_id == me.agency_id
    pending = [
        ProposalLine(
            e,
            describe_proposal(e),
            e.actor.display_name if e.actor else "",
            local_time(e.recorded_at),
            e.actor_id == me.id,
        )
        for e in office.pending_proposals(events)
    ]
    agency = session.get(Agency, req.agency_id)
    decisions = [
        e
        for e in events
        if e.trigger == "decide"
        and agency is not None
        and agency.decision_signoff
        and not office.signed_off(events, e.id)
        and not any(int(p.event.payload.get("target_id", 0)) == e.id for p in pending)
    ]
    return {
        "can_assign": own and bool(me.roles & office_ops.ASSIGN_ROLES) and req.state != "voided",
        "handlers": office_ops.handler_choices(session, req.agency_id) if own else [],
        "can_propose": own and bool(me.roles & office_ops.PROPOSE_ROLES),
        "can_approve": own and office_ops.APPROVER in me.roles,
        "can_split": own
        and bool(me.roles & office_ops.PROPOSE_ROLES)
        and req.state in {s.value for s in OPEN_STATES},
        "can_merge": own
        and bool(me.roles & office_ops.MERGE_ROLES)
        and req.state != State.VOIDED.value,
        "propose_extension": own
        and req.state == State.IN_REVIEW.value
        and "approver" not in me.roles
        and bool(me.roles & office_ops.PROPOSE_ROLES)
        and not any(e.trigger == "extend" for e in office.procedure(events)),
        "pending": pending,
        "unsigned": decisions,
        "today": local_today(utc_now()),
    }
