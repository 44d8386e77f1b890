"""The office's work through the JSON API (issue 15): 提请延期 / 签发, 审核同意 / 退回,
拆分 and 合并, with the same operations and refusals as the pages (docs/domain.md §15),
answers conforming to the generated OpenAPI document."""

from __future__ import annotations

import pytest

from models import Agency, Request
from tests.conftest import NOW, make_user
from tests.integration.api_http import conforms, document
from tests.integration.test_office_workflow import INTAKE, accepted, register, step
from workflow.kernel.actor import Actor
from workflow.online.tokens import create_token
from workflow.requests import operations as ops
from workflow.requests.office import PROPOSAL_KINDS, pending_proposals
from workflow.requests.spec import EXTENSION_PROPOSAL_FIELDS


@pytest.fixture
def api(app, session, users):
    """``api(username, method, path, body)`` with that user's bearer token."""
    tokens: dict[str, str] = {}

    def call(role: str, method: str, path: str, body=None):
        if role not in tokens:
            tokens[role] = create_token(session, role).token
            session.commit()
        return app.test_client().open(
            f"/api/v1{path}",
            method=method,
            json=body,
            headers={"Authorization": f"Bearer {tokens[role]}"},
        )

    return call


def test_the_document_lists_the_office_routes_generated_from_the_domain() -> None:
    paths = document()["paths"]
    for path in (
        "/requests/{id}/proposals",
        "/requests/{id}/proposals/{seq}/approve",
        "/requests/{id}/proposals/{seq}/reject",
        "/proposals",
        "/requests/{id}/split",
        "/requests/{id}/merge",
    ):
        assert path in paths, path
    extension, decision = document()["components"]["schemas"]["ProposalBody"]["oneOf"]
    assert set(extension["properties"]) == {f.name for f in EXTENSION_PROPOSAL_FIELDS} | {
        "kind",
        "note",
        "version",
    }
    assert extension["title"] == PROPOSAL_KINDS["extension"]
    assert "approver" not in extension["properties"]  # approving is the approver's own act
    assert decision["required"] == ["kind", "seq"]


def test_an_extension_is_proposed_listed_and_approved_by_the_approver(
    api, session, agency, users
) -> None:
    """Art. 33 para 2: the handler proposes, the approver's own approval records it."""
    req = accepted(session, agency, users)
    bad = api("handler", "POST", f"/requests/{req.id}/proposals", {"kind": "extension"})
    assert bad.status_code == 422 and "reason" in bad.json["errors"]
    typed = api(
        "handler",
        "POST",
        f"/requests/{req.id}/proposals",
        {"kind": "extension", "days": "20", "reason": "需调取档案"},
    )
    assert typed.status_code == 422 and "days" in typed.json["errors"]
    done = api(
        "handler",
        "POST",
        f"/requests/{req.id}/proposals",
        {"kind": "extension", "days": 10, "reason": "需调取档案"},
    )
    assert done.status_code == 201, done.get_data(as_text=True)
    conforms(done.json, "Proposed")
    seq = done.json["proposal"]["seq"]
    assert done.json["proposal"]["kind"] == "extension"
    assert "extend" not in [e["trigger"] for e in done.json["events"]]  # nothing recorded yet

    again = api(
        "handler",
        "POST",
        f"/requests/{req.id}/proposals",
        {"kind": "extension", "days": 5, "reason": "再次"},
    )
    assert again.status_code == 422 and "待审核的延期" in again.json["error"]

    assert api("handler", "GET", "/proposals").status_code == 403
    listed = api("approver", "GET", "/proposals")
    assert listed.status_code == 200
    conforms(listed.json, "ProposalList")
    assert [(p["tracking_no"], p["seq"]) for p in listed.json["items"]] == [(req.tracking_no, seq)]

    own = api("handler", "POST", f"/requests/{req.id}/proposals/{seq}/approve", {})
    assert own.status_code == 403 and own.json["error"]
    missing = api("approver", "POST", f"/requests/{req.id}/proposals/{seq + 50}/approve", {})
    assert missing.status_code == 404
    stale = api("approver", "POST", f"/requests/{req.id}/proposals/{seq}/approve", {"version": 1})
    assert stale.status_code == 409
    approved = api(
        "approver",
        "POST",
        f"/requests/{req.id}/proposals/{seq}/approve",
        {"note": "同意", "effective_on": "2026-11-10"},
    )
    assert approved.status_code == 200, approved.get_data(as_text=True)
    conforms(approved.json, "Request")
    extend = approved.json["events"][-1]
    assert extend["trigger"] == "extend" and extend["payload"]["approver"] == "approver"
    assert extend["effective_on"] == "2026-11-10" and extend["payload"]["days"] == 10
    assert api("approver", "GET", "/proposals").json["items"] == []
    twice = api("approver", "POST", f"/requests/{req.id}/proposals/{seq}/approve", {})
    assert twice.status_code == 422 and "已审核" in twice.json["error"]


def test_nobody_approves_their_own_proposal_and_a_rejection_needs_a_reason(
    api, session, agency, users
) -> None:
    make_user(session, agency, "approver2", "approver")
    req = accepted(session, agency, users)
    body = {"kind": "extension", "days": 5, "reason": "调档"}
    seq = api("approver", "POST", f"/requests/{req.id}/proposals", body).json["proposal"]["seq"]
    own = api("approver", "POST", f"/requests/{req.id}/proposals/{seq}/approve", {})
    assert own.status_code == 422 and "不能审核自己提请的事项" in own.json["error"]
    no_reason = api("approver2", "POST", f"/requests/{req.id}/proposals/{seq}/reject", {})
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]
    assert pending_proposals(ops.history(session, req))  # still waiting


def test_a_decision_is_signed_off_through_the_api(api, session, agency, users) -> None:
    agency.decision_signoff = True
    session.commit()
    req = accepted(session, agency, users)
    decide = step(
        session, req, users["handler"], "decide", "2026-11-12", outcome="disclosed", delivery="post"
    )
    wrong = api("handler", "POST", f"/requests/{req.id}/proposals", {"kind": "decision", "seq": 2})
    assert wrong.status_code == 422 and "只有答复需要签发" in wrong.json["error"]
    no_seq = api("handler", "POST", f"/requests/{req.id}/proposals", {"kind": "decision"})
    assert no_seq.status_code == 422 and "seq" in no_seq.json["errors"]
    unknown = api("handler", "POST", f"/requests/{req.id}/proposals", {"kind": "x"})
    assert unknown.status_code == 422 and "kind" in unknown.json["errors"]
    proposed = api(
        "handler", "POST", f"/requests/{req.id}/proposals", {"kind": "decision", "seq": decide.seq}
    )
    assert proposed.status_code == 201, proposed.get_data(as_text=True)
    seq = proposed.json["proposal"]["seq"]
    blocked = api("handler", "POST", f"/requests/{req.id}/notices", {"kind": "reply"})
    assert blocked.status_code == 422 and "签发" in blocked.json["error"], blocked.json
    signed = api("approver", "POST", f"/requests/{req.id}/proposals/{seq}/approve", {})
    assert signed.status_code == 200
    assert signed.json["events"][-1]["trigger"] == "approve"
    issued = api("handler", "POST", f"/requests/{req.id}/notices", {"kind": "reply"})
    assert issued.status_code == 201, issued.json


def test_a_rejected_proposal_leaves_the_deadline_as_it_was(api, session, agency, users) -> None:
    req = accepted(session, agency, users)
    before = api("handler", "GET", f"/requests/{req.id}").json["deadlines"]["reply_due"]
    body = {"kind": "extension", "days": 20, "reason": "调档"}
    seq = api("handler", "POST", f"/requests/{req.id}/proposals", body).json["proposal"]["seq"]
    rejected = api(
        "approver", "POST", f"/requests/{req.id}/proposals/{seq}/reject", {"reason": "理由不足"}
    )
    assert rejected.status_code == 200
    assert rejected.json["events"][-1]["payload"]["reason"] == "理由不足"
    assert rejected.json["deadlines"]["reply_due"] == before


def test_split_through_the_api_registers_each_further_item(api, session, agency, users) -> None:
    req = register(session, agency, users["registrar"])
    path = f"/requests/{req.id}/split"
    assert api("viewer", "POST", path, {"items": ["a", "b"]}).status_code == 403
    not_list = api("handler", "POST", path, {"items": "第一项\n第二项"})
    assert not_list.status_code == 422 and "items" in not_list.json["errors"]
    one = api("handler", "POST", path, {"items": ["只有一项"]})
    assert one.status_code == 422 and "拆分至少需要两项" in one.json["error"]
    done = api("handler", "POST", path, {"items": ["第一项", "第二项", "第三项"]})
    assert done.status_code == 201, done.get_data(as_text=True)
    conforms(done.json, "SplitResult")
    created = done.json["created"]
    assert len(created) == 2 and all(c["received_on"] == done.json["received_on"] for c in created)
    subjects = {session.get(Request, c["id"]).subject for c in created}
    assert subjects == {"第二项", "第三项"}
    assert done.json["events"][-1]["payload"]["kind"] == "split_kept"


def test_merge_through_the_api_is_the_approvers_and_refuses_another_applicant(
    api, session, agency, users
) -> None:
    keep = register(session, agency, users["registrar"])
    twin = register(session, agency, users["registrar"])
    stranger = register(session, agency, users["registrar"], applicant_name="王五")
    other = Agency(code="elsewhere", name="别处")
    session.add(other)
    session.commit()
    outsider = make_user(session, other, "outsider", "registrar")
    foreign = ops.register(session, Actor.of(outsider), NOW, {**INTAKE}, agency=other)
    session.commit()
    path = f"/requests/{keep.id}/merge"
    body = {"others": [twin.id], "reason": "重复登记"}
    assert api("handler", "POST", path, body).status_code == 403  # 作废 is the approver's
    assert api("approver", "POST", path, {"others": [twin.id]}).status_code == 422
    assert api("approver", "POST", path, {**body, "others": "1"}).status_code == 422
    assert api("approver", "POST", path, {**body, "others": [foreign.id]}).status_code == 404
    person = api("approver", "POST", path, {**body, "others": [stranger.id]})
    assert person.status_code == 422 and "不是同一申请人" in person.json["error"]
    done = api("approver", "POST", path, body)
    assert done.status_code == 200, done.get_data(as_text=True)
    conforms(done.json, "MergeResult")
    assert [m["state"] for m in done.json["merged"]] == ["voided"]
    session.expire_all()
    assert session.get(Request, twin.id).state == "voided"
    assert session.get(Request, keep.id).state != "voided"
