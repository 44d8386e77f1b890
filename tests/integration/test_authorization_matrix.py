"""Every route × every role against an explicit table of who may do what.

Each route of ``app.url_map`` is called (GET for GET routes, POST for POST routes) as each
role of docs/domain.md §1, as someone signed out, and as a user of *another* agency who holds every
role (so what they are refused, they are refused because of the agency). The outcome
must match ``EXPECTATIONS``:

- ``ALLOW``: the feature answered — not 401/403/404/500, and not sent to the login page
  (a 400 for the test's minimal form, or a 409, still counts as reaching the feature);
- ``DENY``: 403 or 404 (404 where even the existence of a record is not to be revealed),
  401 where the credentials are not the kind the route takes (a cookie at the API), or
  the login page for someone signed out; a refused POST changed no row;
- ``GUARD``: refused by the operation's own role rule with its message (``只有…可以…``):
  400 on the action form, or a redirect back with the message flashed (publishing); a
  refused POST changed no row.

A route without an entry fails with "add an expectation for <endpoint>", so a new page
cannot ship without someone deciding who may open it. Within a route the refused roles
go first, so an allowed role's change (accepting a request …) cannot mask a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from app import create_app
from tests.integration.routes import (
    ROLES,
    call_for,
    client_for_role,
    methods_of,
    rules,
    snapshot,
    url_of,
)
from tests.integration.world import build_world

ALLOW, DENY, GUARD = "allow", "deny", "guard"

EVERYONE = frozenset(ROLES)
#: Signed in, any agency.
STAFF = EVERYONE - {"anonymous"}
#: Signed in, in the test agency.
HOME = STAFF - {"other"}
CASEWORKERS = frozenset({"registrar", "handler", "approver"})
AUDITORS = frozenset({"admin", "approver", "viewer"})
REPORT_EDITORS = frozenset({"admin", "approver", "handler"})
PUBLISHERS = frozenset({"admin", "approver"})

Expectation = dict[str, str]


def roles(allow: Iterable[str], guard: Iterable[str] = ()) -> Expectation:
    allowed, guarded = set(allow), set(guard)
    return {r: ALLOW if r in allowed else GUARD if r in guarded else DENY for r in ROLES}


def get(allow: Iterable[str]) -> dict[str, Expectation]:
    return {"GET": roles(allow)}


def post(allow: Iterable[str], guard: Iterable[str] = ()) -> dict[str, Expectation]:
    return {"POST": roles(allow, guard)}


def both(allow: Iterable[str]) -> dict[str, Expectation]:
    return {"GET": roles(allow), "POST": roles(allow)}


#: Who may call what. ``other`` (another agency, every role) is refused wherever a record
#: of the test agency is named, and allowed on pages that show the caller's own agency.
EXPECTATIONS: dict[str, dict[str, Expectation]] = {
    "static": get(EVERYONE),
    # ------------------------------------------------------------------ auth
    "auth.login": both(EVERYONE),
    "auth.logout": post(EVERYONE),
    "auth.change_password": both(STAFF),
    "auth.second_factor": both(EVERYONE),
    "auth.sessions": both(STAFF),
    "auth.two_factor_page": both(STAFF),
    "auth.recovery_codes": both(STAFF),
    "security_audit.log_page": get({"admin", "other"}),
    # Infrastructure: no personal data, no figures; /metrics answers the local machine only
    # (the test client is local).
    "health.healthz": get(EVERYONE),
    "health.metrics": get(EVERYONE),
    # ------------------------------------------------------------------ requests
    "requests.index": get(STAFF),
    "requests.list_requests": get(STAFF),
    "requests.export_csv": get(STAFF),
    "requests.export_xlsx": get(STAFF),
    "requests.new_request": both(CASEWORKERS | {"other"}),
    "requests.detail": get(HOME),
    "requests.deadline_trace": get(HOME),
    # The action form is shown to the agency's staff with the reasons it is blocked;
    # firing it is refused by the spec's role guard for everyone but caseworkers.
    "requests.act": {
        "GET": roles(HOME),
        "POST": roles(CASEWORKERS, guard={"legal", "admin", "viewer"}),
    },
    # ------------------------------------------------------------------ office (分办, 审核, 更正)
    "office.assign": post(CASEWORKERS),
    "office.assign_many": post(CASEWORKERS),
    "office.propose_extension": both(CASEWORKERS),
    "office.propose_signoff": post(CASEWORKERS),
    "office.approve": post({"approver"}),
    "office.reject": post({"approver"}),
    "office.correct": both(CASEWORKERS),
    "office.split": both(CASEWORKERS),
    # Merging concludes the others by 作废: who may void may merge.
    "office.merge": both({"approver", "admin"}),
    # 条例 Art. 44 candidates: every reader of an agency (another agency sees its own).
    "office.publication_candidates": get(STAFF),
    # ------------------------------------------------------------------ challenges
    "challenges.list_cases": get(STAFF),
    "challenges.detail": get(HOME),
    "challenges.new_case": both({"legal"}),
    "challenges.act": {"GET": roles({"legal"}), "POST": roles({"legal"})},
    # ------------------------------------------------------------------ notices
    "notices.download": get(HOME),
    "attachments.download": get(HOME),
    "attachments.upload": post(CASEWORKERS),
    "notices.issue": post(CASEWORKERS),
    "notices.served": post(CASEWORKERS),
    # ------------------------------------------------------------------ statistics, reports
    "statistics.page": get(HOME),
    "statistics.drill": get(HOME),
    # A role refusal is a 403 like everywhere else; the rules of publishing (year over,
    # checks passed, not yet published) are flashed on the statistics page.
    "statistics.publish_view": post(PUBLISHERS),
    "statistics.republish_view": post(PUBLISHERS),
    "statistics.publish_confirm": get(PUBLISHERS),
    "reports.editor": {"GET": roles(HOME), "POST": roles(REPORT_EDITORS)},
    "reports.pdf": get(HOME),
    "reports.xlsx": get(HOME),
    # The supervisor's view: the test agency has an agency below it; the other has none.
    "supervision.page": get(HOME),
    "supervision.export_xlsx": get(HOME),
    "supervision.trends_page": get(HOME),
    "supervision.reports": get(HOME),
    "supervision.consolidated_page": get(HOME),
    "supervision.breakdown": get(HOME),
    # ------------------------------------------------------------------ dashboard, audit
    "dashboard.home": get(STAFF),
    "dashboard.reminders": get(STAFF),
    # An empty selection is refused with a message (nothing changes); another agency's
    # caseworker can only name requests that are not theirs (refused the same way).
    "dashboard.record_lapses_view": post(CASEWORKERS | {"other"}),
    "audit.home": get(AUDITORS | {"other"}),
    "audit.request_log": get(AUDITORS),
    "audit.user_log": get(AUDITORS),
    "audit.export": get(AUDITORS),
    # ------------------------------------------------------------------ imports, admin
    "imports.ledger_upload": both({"admin", "other"}),
    "imports.ledger_template": get({"admin", "other"}),
    "imports.ledger_template_xlsx": get({"admin", "other"}),
    "imports.job": get({"admin"}),
    "imports.cancel_job": post({"admin"}),
    "admin.home": get({"admin", "other"}),
    "admin.users": get({"admin", "other"}),
    "admin.new_user": both({"admin", "other"}),
    "admin.agencies": both({"admin", "other"}),
    "admin.edit_agency": both({"admin"}),
    "admin.agency_remedies": both({"admin"}),
    "admin.calendar": get({"admin", "other"}),
    # The calendar is national: any top-level agency's admin keeps it (both are top-level).
    "admin.add_override": post({"admin", "other"}),
    "admin.delete_override": post({"admin", "other"}),
    "admin.enter_year": post({"admin", "other"}),
    "admin.user_detail": get({"admin"}),
    "admin.user_roles": post({"admin"}),
    "admin.user_active": post({"admin"}),
    "admin.user_password": post({"admin"}),
    "admin.user_two_factor": post({"admin"}),
    "api_tokens.tokens": get({"admin", "other"}),
    "api_tokens.revoke": post({"admin"}),
    # The reports of an agency and those below, as a job (report editors; a job of the
    # test agency is "not found" for another agency's users).
    "report_batch.start": both(REPORT_EDITORS | {"other"}),
    "report_batch.job": get(REPORT_EDITORS),
    "report_batch.cancel": post(REPORT_EDITORS),
    "report_batch.download": get(REPORT_EDITORS),
    # ------------------------------------------------------------------ portal
    # The applicant's side is public; the queue is the agency's caseworkers' (an
    # application to the test agency is "not found" for another agency's clerks).
    "portal.index": get(EVERYONE),
    "portal.apply": both(EVERYONE),
    "portal.status_page": both(EVERYONE),
    # Only the visitor who opened a submission with its 查询码 (a session grant no role
    # holds) reaches its notices and actions: test_portal_follow_up.py walks that.
    "portal.notice_pdf": get(()),
    "portal.answer_supplement_page": post(()),
    "portal.withdraw_page": post(()),
    "portal.leave": post(EVERYONE),
    "portal_queue.queue": get(CASEWORKERS | {"other"}),
    "portal_queue.confirm_receipt": post(CASEWORKERS),
    # ------------------------------------------------------------------ JSON API
    # A session cookie never authorises the API (401 for every signed-in role, too): who
    # may do what with a bearer token is test_api_authorization.py's matrix.
    "api.openapi": get(EVERYONE),
    "api.list_requests": get(()),
    "api.register_request": post(()),
    "api.request_detail": get(()),
    "api.fire_event": post(()),
    "api.assign_request": post(()),
    "api.correct_request": post(()),
    "api.propose": post(()),
    "api.pending_proposals": get(()),
    "api.approve_proposal": post(()),
    "api.reject_proposal": post(()),
    "api.split_request": post(()),
    "api.merge_requests": post(()),
    "api.request_attachments": get(()),
    "api.upload_attachment": post(()),
    "api.attachment_file": get(()),
    "api.request_notices": get(()),
    "api.issue_request_notice": post(()),
    "api.notice_pdf": get(()),
    "api.statistics": get(()),
    "api.transfer": post(()),
}

#: The routes as registered (the url_map does not need a database to be read).
_APP = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
ENDPOINTS = sorted({rule.endpoint for rule in rules(_APP)})
_APP.extensions["db_engine"].dispose()


def test_every_route_has_an_expectation() -> None:
    missing = [e for e in ENDPOINTS if e not in EXPECTATIONS]
    assert not missing, "\n".join(
        f"add an expectation for {e} to EXPECTATIONS in {__name__}" for e in missing
    )
    stale = sorted(set(EXPECTATIONS) - set(ENDPOINTS))
    assert not stale, f"EXPECTATIONS names routes that no longer exist: {stale}"
    for endpoint, by_method in EXPECTATIONS.items():
        for method, table in by_method.items():
            assert set(table) == set(ROLES), f"{endpoint} {method}: one verdict per role"


#: Routes whose success *is* the way to the login page.
LANDS_ON_LOGIN = frozenset({"auth.logout", "auth.second_factor"})


def is_login_redirect(response) -> bool:
    location = response.headers.get("Location", "")
    return response.status_code in (301, 302, 303) and "/login" in location


def guard_message_shown(client, response) -> bool:
    """The role rule's message, on the page or on the page redirected to (flashed)."""
    if response.status_code in (302, 303):
        response = client.get(response.headers["Location"])
    elif response.status_code != 400:
        return False
    text = response.get_data(as_text=True)
    return "只有" in text and "可以" in text


def verdict_ok(endpoint: str, expected: str, role: str, client, response) -> bool:
    status = response.status_code
    if status >= 500:
        return False
    if expected == ALLOW:
        lost = role != "anonymous" and endpoint not in LANDS_ON_LOGIN
        return status not in (401, 403, 404) and not (lost and is_login_redirect(response))
    if expected == GUARD:
        return guard_message_shown(client, response)
    if role == "anonymous":
        return is_login_redirect(response) or status in (401, 403, 404)
    return status in (401, 403, 404)


def _reset_between_roles(session, world) -> None:
    """Undo what an allowed role's POST may have removed that the next role needs."""
    from models import CalendarOverride
    from tests.integration.world import OVERRIDE_DAY

    session.expire_all()
    if session.get(CalendarOverride, OVERRIDE_DAY) is None:
        session.add(CalendarOverride(day=OVERRIDE_DAY, is_workday=True, note="调休上班"))
        session.commit()
    session.rollback()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_route_against_the_matrix(endpoint, app, session, agency, users) -> None:
    expected = EXPECTATIONS.get(endpoint)
    if expected is None:
        pytest.fail(f"add an expectation for {endpoint} to EXPECTATIONS in {__name__}")
    world = build_world(session, agency, users)
    problems: list[str] = []
    for rule in [r for r in rules(app) if r.endpoint == endpoint]:
        for method in methods_of(rule):
            if method not in expected:
                pytest.fail(f"add an expectation for {endpoint} {method} to EXPECTATIONS")
            table = expected[method]
            for role in sorted(ROLES, key=lambda r: table[r] == ALLOW):
                _reset_between_roles(session, world)
                call = call_for(rule, world, session)
                url = url_of(app, rule, call)
                client = client_for_role(app, session, world, users, role)
                before = snapshot(session) if method == "POST" and table[role] != ALLOW else None
                body = call.data if method == "POST" else None
                response = client.open(url, method=method, data=body)
                if not verdict_ok(endpoint, table[role], role, client, response):
                    where = response.headers.get("Location", "")
                    problems.append(
                        f"{method} {url} as {role}: expected {table[role]}, "
                        f"got {response.status_code} {where}".rstrip()
                    )
                if before is not None and snapshot(session) != before:
                    problems.append(f"{method} {url} as {role} was refused but changed data")
    assert not problems, "\n".join(problems)
