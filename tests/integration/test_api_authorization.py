"""Every JSON API route × every role, by bearer token, against an explicit table.

The cookie matrix (test_authorization_matrix.py) shows a session never opens the API;
this one shows what each role's *token* may do: the token acts as its user, so the
table is the pages' table — caseworkers act, legal/admin/viewer read, another agency
(every role) neither reads nor writes the test agency's records and gets 404 for them.
A refused call changes no row. A route without an entry fails the test.
"""

from __future__ import annotations

import io

import pytest

from tests.integration.routes import ROLES, call_for, rules, snapshot, url_of
from tests.integration.test_authorization_matrix import (
    ALLOW,
    CASEWORKERS,
    EVERYONE,
    HOME,
    STAFF,
    roles,
)
from tests.integration.world import build_world, intake
from workflow.online.tokens import create_token

#: Who may call what, per API endpoint (each has one method).
EXPECTATIONS = {
    "api.openapi": roles(EVERYONE),
    "api.list_requests": roles(STAFF),
    "api.register_request": roles(CASEWORKERS | {"other"}),
    "api.request_detail": roles(HOME),
    "api.fire_event": roles(CASEWORKERS),
    "api.request_notices": roles(HOME),
    "api.issue_request_notice": roles(CASEWORKERS),
    "api.notice_pdf": roles(HOME),
    "api.statistics": roles(HOME),
    "api.transfer": roles(CASEWORKERS | {"other"}),
    "api.assign_request": roles(CASEWORKERS),
    "api.correct_request": roles(CASEWORKERS),
    "api.propose": roles(CASEWORKERS),
    # The approver's list of their own agency (another agency's approver sees theirs).
    "api.pending_proposals": roles({"approver", "other"}),
    "api.approve_proposal": roles({"approver"}),
    "api.reject_proposal": roles({"approver"}),
    "api.split_request": roles(CASEWORKERS),
    # Merging concludes the others by 作废: who may void may merge.
    "api.merge_requests": roles({"approver", "admin"}),
    "api.request_attachments": roles(HOME),
    "api.upload_attachment": roles(CASEWORKERS),
    "api.attachment_file": roles(HOME),
}


class Multipart(dict):
    """A body sent as multipart/form-data (the attachment upload) instead of JSON."""


def _bodies(world) -> dict[str, tuple[dict, dict]]:
    """Per endpoint: (URL values overriding the shared ones, JSON body)."""
    return {
        "api.register_request": ({}, intake()),
        "api.fire_event": (
            {"request_id": world.registered.id},
            {"trigger": "accept", "effective_on": "2026-11-03"},
        ),
        "api.issue_request_notice": ({"request_id": world.registered.id}, {"kind": "receipt"}),
        "api.assign_request": ({"request_id": world.registered.id}, {"handler": "handler"}),
        "api.correct_request": (
            {"request_id": world.concluded.id},
            {"seq": 1, "field": "payload:subject", "new": "x", "reason": "r"},
        ),
        "api.propose": (
            {"request_id": world.registered.id},
            {"kind": "extension", "days": 5, "reason": "调档"},
        ),
        "api.approve_proposal": ({}, {}),
        "api.reject_proposal": ({}, {"reason": "不同意"}),
        "api.split_request": ({"request_id": world.registered.id}, {"items": []}),
        "api.merge_requests": ({"request_id": world.registered.id}, {"others": [], "reason": "r"}),
        "api.upload_attachment": (
            {"request_id": world.registered.id},
            Multipart(kind="other", file=(io.BytesIO(b"%PDF-1.4\n%m\n"), "m.pdf")),
        ),
        "api.transfer": (
            {},
            {**intake(), "channel": "platform", "source": "平台", "reference": "M-1"},
        ),
    }


API_ENDPOINTS = sorted(EXPECTATIONS)


def test_every_api_route_has_an_expectation(app) -> None:
    found = {r.endpoint for r in rules(app) if r.endpoint.startswith("api.")}
    assert found == set(EXPECTATIONS)


def verdict_ok(expected: str, response) -> bool:
    status = response.status_code
    if status >= 500 or not response.mimetype.startswith(("application/json", "application/pdf")):
        return False
    if expected == ALLOW:
        return status not in (401, 403, 404)
    return status in (401, 403, 404)


@pytest.mark.parametrize("endpoint", API_ENDPOINTS)
def test_api_route_against_the_matrix(endpoint, app, session, agency, users) -> None:
    world = build_world(session, agency, users)
    tokens = {role: create_token(session, users[role].username).token for role in users}
    tokens["other"] = create_token(session, world.outsider.username).token
    session.commit()
    for token in tokens.values():  # first use stamps last_used_at: not part of any verdict
        app.test_client().get("/api/v1/requests", headers={"Authorization": f"Bearer {token}"})
    [rule] = [r for r in rules(app) if r.endpoint == endpoint]
    [method] = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    table = EXPECTATIONS[endpoint]
    problems = []
    for role in sorted(ROLES, key=lambda r: table[r] == ALLOW):
        call = call_for(rule, world, session)
        values, body = _bodies(world).get(endpoint, ({}, None))
        url = url_of(app, rule, type(call)({**call.values, **values}, call.query))
        headers = {"Authorization": f"Bearer {tokens[role]}"} if role in tokens else {}
        before = snapshot(session) if method == "POST" and table[role] != ALLOW else None
        sent = (
            {"data": Multipart(body), "content_type": "multipart/form-data"}
            if isinstance(body, Multipart)
            else {"json": body}
        )
        response = app.test_client().open(url, method=method, headers=headers, **sent)
        if not verdict_ok(table[role], response):
            problems.append(
                f"{method} {url} as {role}: expected {table[role]}, got {response.status_code}"
            )
        if before is not None and snapshot(session) != before:
            problems.append(f"{method} {url} as {role} was refused but changed data")
    assert not problems, "\n".join(problems)
