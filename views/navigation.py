"""The top bar: one list of destinations, each shown only to the roles that may use it.

Blueprints register their pages here by endpoint name; an entry whose endpoint is not
registered (a feature not installed) is simply left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, request
from flask_login import current_user
from sqlalchemy import exists, select

from models import Agency
from views.database import db
from workflow.challenges.agenda import reminder_count
from workflow.kernel.actor import local_clock, local_today
from workflow.requests.reminders import Whose
from workflow.requests.spec import SPEC_BY_TRIGGER
from workflow.store.calendar import load_calendar


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    #: Roles that see the entry; None = every signed-in user.
    roles: frozenset[str] | None = None
    #: Other endpoints under which the entry counts as the current page
    #: ("admin." = every endpoint of that blueprint).
    also: tuple[str, ...] = ()
    #: Shown only to users of an agency with agencies below it (the supervisor's view).
    supervisors: bool = False

    def is_current(self, endpoint: str | None) -> bool:
        if endpoint is None:
            return False
        return endpoint == self.endpoint or any(
            endpoint.startswith(a) if a.endswith(".") else endpoint == a for a in self.also
        )


NAV: tuple[NavItem, ...] = (
    NavItem("工作台", "dashboard.home"),
    NavItem("提醒", "dashboard.reminders"),
    NavItem("申请列表", "requests.list_requests", also=("requests.detail", "requests.act")),
    NavItem("登记申请", "requests.new_request", SPEC_BY_TRIGGER["register"].roles),
    NavItem("网上申请", "portal_queue.queue", SPEC_BY_TRIGGER["register"].roles),
    NavItem(
        "复议诉讼",
        "challenges.list_cases",
        also=("challenges.",),
    ),
    NavItem("年度统计", "statistics.page", also=("statistics.",)),
    NavItem("年度报告", "reports.editor", also=("reports.",)),
    NavItem("下级机关", "supervision.page", also=("supervision.",), supervisors=True),
    NavItem("台账导入", "imports.ledger_upload", frozenset({"admin"})),
    NavItem(
        "系统管理",
        "admin.home",
        frozenset({"admin"}),
        also=("admin.", "api_tokens."),
    ),
    NavItem("审计", "audit.home", frozenset({"admin", "approver", "viewer"}), also=("audit.",)),
    NavItem(
        "安全日志",
        "security_audit.log_page",
        frozenset({"admin", "security_auditor"}),
        also=("security_audit.",),
    ),
)


def _items() -> list[dict[str, Any]]:
    if not current_user.is_authenticated:
        return []
    endpoints = current_app.view_functions
    roles = current_user.roles
    supervisor = db().scalar(select(exists().where(Agency.parent_id == current_user.agency_id)))
    return [
        {
            "label": item.label,
            "endpoint": item.endpoint,
            "current": item.is_current(request.endpoint),
        }
        for item in NAV
        if item.endpoint in endpoints
        and (item.roles is None or roles & item.roles)
        and (supervisor or not item.supervisors)
    ]


def _attention() -> int:
    """The reminder count on the bar: the user's own requests and cases needing action now;
    an approver's whole agency (workflow.requests.reminders, the same source as the list
    at /reminders). Called by the template, so pages without the bar run no query."""
    if not current_user.is_authenticated:
        return 0
    session = db()
    return reminder_count(
        session,
        Whose.of(current_user.agency_id, current_user.id, current_user.roles),
        local_today(datetime.now(UTC)),
        load_calendar(session),
    )


def init_app(app: Flask) -> None:
    register_roles = SPEC_BY_TRIGGER["register"].roles
    app.context_processor(
        lambda: {
            "nav_items": _items(),
            "attention_count": _attention,
            # Every stored time is shown in Beijing time (issue 15 item 10).
            "local_time": local_clock,
            "can_register": bool(
                current_user.is_authenticated and current_user.roles & register_roles
            ),
        }
    )
