"""The audit pages: who recorded what, when, with the exact payload, and CSV exports.

For supervisors and auditors (审核人, 管理员, 查阅人) rather than clerks: where the
request page tells the story in words, these pages show the raw log — every event with
its sequence number, the states it moved between, the legal date, the recorded time and
the payload exactly as stored — for one request (with its 复议/诉讼 cases) or for
everything one user recorded. The same agency rule as elsewhere applies: a user sees
their own agency and those below it, and anything else is "not found" (404).

The exports go through ``workflow.kernel.csv_safe`` so that text typed by an applicant cannot
become a formula in the auditor's spreadsheet.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template, request
from flask_login import login_required
from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from models import Challenge, ChallengeEvent, Event, Request, User
from models.event import EventColumns
from views.access import MAX_ID, load_request_for, require_roles, visible_agency_ids
from views.common import positive_int, signed_in_user
from views.database import db
from views.presenters import EventLine, timeline
from views.security import personal_data
from workflow.challenges.operations import challenge_history
from workflow.challenges.spec import CHALLENGES, ChallengeState
from workflow.kernel.csv_safe import write_csv
from workflow.kernel.errors import NotFound, ValidationError
from workflow.kernel.payload import clean_text
from workflow.requests.operations import history

bp = Blueprint("audit", __name__)

AUDIT_ROLES = ("admin", "approver", "viewer")
PAGE_SIZE = 50
#: Rows read per query while exporting everything a user recorded.
EXPORT_BATCH = 1000
SEARCH_LIMIT = 50
MAX_QUERY = 100
REQUEST, CHALLENGE = "request", "challenge"
KIND_LABELS = {REQUEST: "申请", CHALLENGE: "复议诉讼案件"}

CSV_HEADER = (
    "类别",
    "编号",
    "机关",
    "序号",
    "操作",
    "操作代码",
    "原状态",
    "新状态",
    "法律日期",
    "记录时间（北京时间）",
    "记录时间（UTC）",
    "操作人",
    "操作人用户名",
    "记录内容（JSON）",
)


@bp.before_request
@login_required
@require_roles(*AUDIT_ROLES)
def _auditors_only() -> None:
    """Every audit page needs one of the audit roles (safe by default for new routes)."""


@dataclass(frozen=True)
class AuditLine:
    """One event as the audit pages show it: the timeline's words plus the raw record."""

    kind: str
    #: The request's tracking number or the case number.
    record: str
    record_id: int
    agency: str
    line: EventLine
    trigger: str
    from_state: str | None
    to_state: str
    recorded_utc: str
    username: str
    payload_json: str

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def csv_row(self) -> tuple[Any, ...]:
        return (
            self.kind_label,
            self.record,
            self.agency,
            self.line.seq,
            self.line.label,
            self.trigger,
            self.from_state or "",
            self.to_state,
            self.line.effective_date,
            self.line.recorded,
            self.recorded_utc,
            self.line.actor,
            self.username,
            self.payload_json,
        )


def _lines(kind: str, events: Sequence[EventColumns]) -> list[AuditLine]:
    """Audit lines of events of one lifecycle (each event's request / case loaded)."""
    if kind == REQUEST:
        words = timeline(events)
    else:
        words = timeline(events, CHALLENGES.by_trigger, ChallengeState)
    found = []
    for event, line in zip(events, words, strict=True):
        owner: Request | Challenge = event.request if kind == REQUEST else event.challenge
        req = owner if isinstance(owner, Request) else owner.request
        found.append(
            AuditLine(
                kind=kind,
                record=req.tracking_no if owner is req else owner.case_no,
                record_id=owner.id,
                agency=req.agency.name,
                line=line,
                trigger=event.trigger,
                from_state=event.from_state,
                to_state=event.to_state,
                recorded_utc=event.recorded_at.isoformat(timespec="seconds") + "Z",
                username=event.actor.username if event.actor else "",
                payload_json=json.dumps(
                    event.payload, ensure_ascii=False, indent=2, sort_keys=True
                ),
            )
        )
    return found


def request_lines(req: Request) -> list[AuditLine]:
    """Every event of the request, then every event of each of its cases, oldest first."""
    session = db()
    lines = _lines(REQUEST, history(session, req))
    cases = session.scalars(
        select(Challenge).where(Challenge.request_id == req.id).order_by(Challenge.id)
    )
    for case in cases:
        lines.extend(_lines(CHALLENGE, challenge_history(session, case)))
    return lines


def _visible_user(user_id: int) -> User:
    user = db().get(User, user_id) if 0 < user_id <= MAX_ID else None
    if user is None or user.agency_id not in visible_agency_ids(signed_in_user()):
        raise NotFound("用户不存在，或您无权查看")
    return user


def _user_events(user: User) -> Any:
    """(kind, id, recorded_at) of every event the user recorded, in visible agencies."""
    visible = visible_agency_ids(signed_in_user())
    requests_part = (
        select(literal(REQUEST).label("kind"), Event.id.label("id"), Event.recorded_at.label("at"))
        .join(Request, Request.id == Event.request_id)
        .where(Event.actor_id == user.id, Request.agency_id.in_(visible))
    )
    cases_part = (
        select(literal(CHALLENGE), ChallengeEvent.id, ChallengeEvent.recorded_at)
        .join(Challenge, Challenge.id == ChallengeEvent.challenge_id)
        .where(ChallengeEvent.actor_id == user.id, Challenge.agency_id.in_(visible))
    )
    return union_all(requests_part, cases_part).subquery()


def user_lines(user: User, limit: int, offset: int) -> list[AuditLine]:
    """A page of the user's events, newest first."""
    session = db()
    found = _user_events(user)
    keys = session.execute(
        select(found.c.kind, found.c.id)
        .order_by(found.c.at.desc(), found.c.kind, found.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    loaded: dict[tuple[str, int], AuditLine] = {}
    for kind, model, owner in (
        (REQUEST, Event, Event.request),
        (CHALLENGE, ChallengeEvent, ChallengeEvent.challenge),
    ):
        ids = [i for k, i in keys if k == kind]
        if ids:
            events = list(
                session.scalars(
                    select(model)
                    .where(model.id.in_(ids))
                    .options(selectinload(owner), selectinload(model.actor))
                )
            )
            for event, line in zip(events, _lines(kind, events), strict=True):
                loaded[(kind, event.id)] = line
    return [loaded[(kind, i)] for kind, i in keys]


def _count(user: User) -> int:
    found = _user_events(user)
    return db().scalar(select(func.count()).select_from(found)) or 0


def _all_user_lines(user: User) -> Iterator[AuditLine]:
    offset = 0
    while True:
        batch = user_lines(user, EXPORT_BATCH, offset)
        yield from batch
        if len(batch) < EXPORT_BATCH:
            return
        offset += EXPORT_BATCH


# --------------------------------------------------------------------------- routes


@bp.get("/audit")
def home() -> str:
    """Search by tracking number (part of it) or by username / name."""
    try:
        query = clean_text((request.args.get("q") or "")[:MAX_QUERY], MAX_QUERY)
    except ValueError:  # direction controls in a search: nothing to search for
        query = ""
    requests_found: list[Request] = []
    users_found: list[User] = []
    if query:
        session = db()
        visible = visible_agency_ids(signed_in_user())
        requests_found = list(
            session.scalars(
                select(Request)
                .where(
                    Request.agency_id.in_(visible),
                    Request.tracking_no.contains(query, autoescape=True),
                )
                .order_by(Request.id.desc())
                .limit(SEARCH_LIMIT)
            )
        )
        lowered = query.lower()
        users_found = list(
            session.scalars(
                select(User)
                .where(
                    User.agency_id.in_(visible),
                    func.lower(User.username).contains(lowered, autoescape=True)
                    | User.display_name.contains(query, autoescape=True),
                )
                .order_by(User.username)
                .limit(SEARCH_LIMIT)
            )
        )
    return render_template(
        "audit/home.html",
        query=query,
        requests_found=requests_found,
        users_found=users_found,
        limit=SEARCH_LIMIT,
    )


@bp.get(f"/audit/requests/<int(max={MAX_ID}):request_id>")
def request_log(request_id: int) -> str:
    req = load_request_for(signed_in_user(), request_id, write=False)
    personal_data("personal_data_viewed", [req.id], "audit")
    return render_template("audit/request.html", req=req, lines=request_lines(req))


@bp.get(f"/audit/users/<int(max={MAX_ID}):user_id>")
def user_log(user_id: int) -> str:
    user = _visible_user(user_id)
    total = _count(user)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(positive_int(request.args.get("page"), 1) or 1, pages)
    lines = user_lines(user, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return render_template(
        "audit/user.html", user=user, lines=lines, page=page, pages=pages, total=total
    )


def _filename(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)[:80] or "export"


@bp.get("/audit/export.csv")
def export() -> Response:
    """``?request=<id>`` or ``?user=<id>``: the same events as the page, as CSV."""
    request_id = positive_int(request.args.get("request"))
    user_id = positive_int(request.args.get("user"))
    if request_id is not None:
        req = load_request_for(signed_in_user(), request_id, write=False)
        lines: Iterator[AuditLine] = iter(request_lines(req))
        name = f"audit-request-{req.tracking_no}"
        personal_data("personal_data_exported", [req.id], "audit.csv")
    elif user_id is not None:
        user = _visible_user(user_id)
        lines = _all_user_lines(user)
        name = f"audit-user-{user.username}"
    else:
        raise ValidationError("请指定要导出的申请（request=编号）或用户（user=编号）")
    data = write_csv((line.csv_row() for line in lines), CSV_HEADER)
    return Response(
        data,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={_filename(name)}.csv"},
    )
