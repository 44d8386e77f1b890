"""The security log page: who signed in, failed, was refused, changed an account, or
looked at applicants' data (issue 18 item 2, issue 15 item 8).

For the security auditor (安全审计员) and the administrator, within their own agency and
those below it; an administrator does not see the entries about their own account
(``workflow.admin.security_log``). The page only reads: there is no form that changes an
entry, and the table refuses updates and deletes (append-only triggers).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from flask import Blueprint, render_template, request
from flask_login import login_required

from views.access import require_roles, visible_agency_ids
from views.common import local_time, positive_int, signed_in_user
from views.database import db
from workflow.admin import security_log
from workflow.catalog.security import SECURITY_KIND_BY_CODE, SECURITY_KINDS

bp = Blueprint("security_audit", __name__)

PAGE_SIZE = 100
#: ``?days=`` choices: how far back the page looks (the log itself keeps everything).
DAY_CHOICES = (1, 7, 30, 183, 366)


@bp.before_request
@login_required
@require_roles(*sorted(security_log.READER_ROLES))
def _readers_only() -> None:
    """The security auditor and the administrator only (safe by default)."""


@bp.get("/audit/security")
def log_page() -> str:
    me = signed_in_user()
    kind = request.args.get("kind", "")
    kind = kind if kind in SECURITY_KIND_BY_CODE else ""
    username = (request.args.get("username") or "").strip()[:64]
    days = positive_int(request.args.get("days"), 30) or 30
    days = days if days in DAY_CHOICES else 30
    since = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=days)
    wanted = security_log.LogFilter(kind=kind, username=username, since=since)
    page = positive_int(request.args.get("page"), 1) or 1
    rows, total = security_log.entries(
        db(), me, visible_agency_ids(me), wanted, PAGE_SIZE, (page - 1) * PAGE_SIZE
    )
    lines = [
        {
            "at": local_time(r.at),
            "label": SECURITY_KIND_BY_CODE[r.kind].label,
            "username": r.username,
            "subject": r.subject.username if r.subject else "",
            "address": r.address,
            "detail": json.dumps(r.detail, ensure_ascii=False, sort_keys=True),
        }
        for r in rows
    ]
    return render_template(
        "audit/security.html",
        lines=lines,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        kinds=SECURITY_KINDS,
        kind=kind,
        username=username,
        days=days,
        day_choices=DAY_CHOICES,
    )
