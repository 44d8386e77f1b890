"""Calling any route of the app as any role: shared by the authorization, CSRF and header tests.

``CALLS`` says, per endpoint, how to fill its URL (and query string, and a form body for
POST) from the ``World``; anything not named there is filled by parameter name from
``by_name``. A route with a parameter nobody knows fails with a message saying what to add.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from documents.notices_pdf import render_notice
from models import LoginSession, Notice, Request, User
from tests.integration.world import OVERRIDE_DAY, World
from workflow.kernel.actor import Actor

#: Every role of docs/domain.md §1, someone signed out, and another agency's user with every role.
ROLES = ("anonymous", "registrar", "handler", "approver", "legal", "admin", "viewer", "other")
METHODS = ("GET", "POST")


@dataclass(frozen=True)
class Call:
    """How to call one route: values for the URL rule, a query string, a form body."""

    values: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


def _version(session: Session, request_id: int) -> str:
    session.expire_all()
    return str(session.get(Request, request_id).version)


def _notice_id(session: Session, world: World) -> int:
    """The world's one notice (issued on demand: rendering a PDF takes a moment)."""
    found = session.scalar(select(Notice.id).where(Notice.request_id == world.concluded.id))
    if found is not None:
        return found
    from tests.conftest import NOW
    from workflow.notices.operations import issue_notice

    handler = session.scalar(select(User).where(User.username == "handler"))
    notice = issue_notice(
        session, Actor.of(handler), NOW, world.concluded, "reply", render=render_notice
    )
    session.commit()
    return notice.id


def _user_id(session: Session, username: str) -> int:
    found = session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


def _token_id(session: Session) -> int:
    """An API token of the test agency's viewer (made on demand), for the revoke route."""
    from models import ApiToken
    from workflow.online.tokens import create_token

    viewer = session.scalar(select(User).where(User.username == "viewer"))
    found = session.scalar(
        select(ApiToken.id).where(ApiToken.user_id == viewer.id, ApiToken.revoked_at.is_(None))
    )
    if found is not None:
        return found
    issued = create_token(session, "viewer", "矩阵测试")
    session.commit()
    return issued.row.id


def _submission_id(session: Session, world: World) -> int:
    """A pending portal application to the test agency (made on demand)."""
    from models import PortalSubmission
    from tests.conftest import NOW
    from workflow.online.portal import submit

    found = session.scalar(select(PortalSubmission.id).where(PortalSubmission.request_id.is_(None)))
    if found is not None:
        return found
    raw = {"applicant_name": "网上申请人", "applicant_kind": "natural_person", "subject": "某文件"}
    done = submit(session, world.agency, {**raw, "phone": "13800000000"}, NOW)
    session.commit()
    return done.submission.id


def _job_id(session: Session, world: World) -> str:
    """A finished ledger-import job of the test agency's admin."""
    from jobs.queue import JobRecord, save

    admin = session.scalar(select(User).where(User.username == "admin"))
    assert admin is not None
    record = JobRecord("0" * 31 + "1", "ledger_import", "台账.csv", admin.id, world.agency.id)
    record.state, record.message = "done", "已导入 0 行。"
    save(record)
    return record.id


def _batch_job_id(session: Session, world: World) -> str:
    """A finished report batch of the test agency's admin, with its ZIP."""
    import zipfile

    from jobs.queue import JobRecord, save
    from jobs.report_batch import KIND, batch_path

    admin = session.scalar(select(User).where(User.username == "admin"))
    assert admin is not None
    record = JobRecord("0" * 31 + "2", KIND, "年度报告", admin.id, world.agency.id)
    record.state, record.message = "done", "已生成 1 份年度报告"
    save(record)
    with zipfile.ZipFile(batch_path(record.id), "w") as archive:
        archive.writestr("test-agency-2025年度报告.pdf", b"%PDF-1.4")
    return record.id


def _decide_id(session: Session, world: World) -> int:
    """The decision event of the world's concluded request (to correct or sign off)."""
    from models import Event

    found = session.scalar(
        select(Event.id).where(Event.request_id == world.concluded.id, Event.trigger == "decide")
    )
    assert found is not None
    return found


def _proposal_id(session: Session, world: World) -> int:
    """A pending correction proposal of the handler on the concluded request (made on demand)."""
    from models import Event
    from tests.conftest import NOW
    from workflow.requests.office import pending_proposals
    from workflow.requests.office_operations import propose
    from workflow.requests.operations import history

    pending = pending_proposals(history(session, world.concluded))
    if pending:
        return pending[0].id
    handler = session.scalar(select(User).where(User.username == "handler"))
    raw = {"target_id": _decide_id(session, world), "field": "payload:grounds"}
    made: Event = propose(
        session,
        world.concluded,
        Actor.of(handler),
        NOW,
        "correction",
        {**raw, "new": "补充理由", "reason": "漏写"},
    )
    session.commit()
    return made.id


def _proposal_seq(session: Session, world: World) -> int:
    """The ``seq`` of that pending proposal (the API names a proposal by its seq)."""
    from models import Event

    event = session.get(Event, _proposal_id(session, world))
    assert event is not None
    return event.seq


def _attachment_id(session: Session, world: World) -> int:
    """An attachment of the world's concluded request (filed on demand)."""
    from models import Attachment
    from models.file_store import open_file_store
    from tests.conftest import NOW
    from workflow.attachments.operations import attach

    found = session.scalar(select(Attachment.id).where(Attachment.request_id == world.concluded.id))
    if found is not None:
        return found
    registrar = session.scalar(select(User).where(User.username == "registrar"))
    row = attach(
        session,
        Actor.of(registrar),
        NOW,
        world.concluded,
        {"kind": "application"},
        "申请书.pdf",
        b"%PDF-1.4\n% matrix\n",
        open_file_store(),
        max_bytes=1 << 20,
    )
    session.commit()
    return row.id


STATS_QUERY = {"agency": "test-agency", "year": 2026}
SUPERVISION_QUERY = {"agency": "test-agency", "start": "2026-01-01", "end": "2026-12-31"}

#: Per endpoint: (world, session) -> Call. Endpoints not listed get values by name.
CALLS: dict[str, Callable[[World, Session], Call]] = {
    "requests.act": lambda w, s: Call(
        {"request_id": w.registered.id, "trigger": "accept"},
        data={"expected_version": _version(s, w.registered.id), "effective_date": "2026-11-03"},
    ),
    "challenges.act": lambda w, s: Call(
        {"challenge_id": w.challenge.id, "trigger": "conclude"},
        data={
            "expected_version": str(w.challenge.version),
            "effective_date": "2026-11-20",
            "result": "maintained",
        },
    ),
    "challenges.new_case": lambda w, s: Call({"request_id": w.concluded.id}),
    "notices.issue": lambda w, s: Call({"request_id": w.registered.id}, data={"kind": "receipt"}),
    "notices.download": lambda w, s: Call({"notice_id": _notice_id(s, w)}),
    "notices.served": lambda w, s: Call(
        {"notice_id": _notice_id(s, w)}, data={"served_on": "2026-11-20"}
    ),
    "audit.export": lambda w, s: Call(query={"request": w.concluded.id}),
    "statistics.page": lambda w, s: Call(query=STATS_QUERY),
    "statistics.drill": lambda w, s: Call(
        query={**STATS_QUERY, "table": "3", "cell": "new_received.total"}
    ),
    "statistics.publish_view": lambda w, s: Call(query=STATS_QUERY),
    "statistics.republish_view": lambda w, s: Call(query=STATS_QUERY, data={"confirmed": "1"}),
    "statistics.publish_confirm": lambda w, s: Call(query=STATS_QUERY),
    "reports.editor": lambda w, s: Call(query={**STATS_QUERY, "year": 2025}),
    "reports.pdf": lambda w, s: Call(query={**STATS_QUERY, "year": 2025}),
    "reports.xlsx": lambda w, s: Call(query={**STATS_QUERY, "year": 2025}),
    "static": lambda w, s: Call({"filename": "app.css"}),
    "api.notice_pdf": lambda w, s: Call({"notice_id": _notice_id(s, w)}),
    "api.statistics": lambda w, s: Call(query=STATS_QUERY),
    "api.attachment_file": lambda w, s: Call({"attachment_id": _attachment_id(s, w)}),
    "api.approve_proposal": lambda w, s: Call(
        {"request_id": w.concluded.id, "seq": _proposal_seq(s, w)}
    ),
    "api.reject_proposal": lambda w, s: Call(
        {"request_id": w.concluded.id, "seq": _proposal_seq(s, w)}
    ),
    "api_tokens.revoke": lambda w, s: Call({"token_id": _token_id(s)}),
    "portal.apply": lambda w, s: Call({"code": "test-agency"}),
    "portal.notice_pdf": lambda w, s: Call({"notice_id": _notice_id(s, w)}),
    "admin.agency_remedies": lambda w, s: Call(
        {"code": "test-agency"},
        data={"reconsideration_body": "测试市人民政府", "court": "测试市人民法院"},
    ),
    "portal_queue.confirm_receipt": lambda w, s: Call(
        {"submission_id": _submission_id(s, w)}, data={"received_on": "2026-11-20"}
    ),
    "imports.job": lambda w, s: Call({"job_id": _job_id(s, w)}),
    "office.assign": lambda w, s: Call(
        {"request_id": w.registered.id}, data={"handler": str(_user_id(s, "handler"))}
    ),
    "office.assign_many": lambda w, s: Call(
        data={"ids": str(w.registered.id), "handler": str(_user_id(s, "approver"))}
    ),
    "office.propose_extension": lambda w, s: Call(
        {"request_id": w.registered.id}, data={"days": "10", "reason": "调档"}
    ),
    "office.propose_signoff": lambda w, s: Call(
        {"request_id": w.concluded.id, "event_id": _decide_id(s, w)}
    ),
    "office.approve": lambda w, s: Call(
        {"request_id": w.concluded.id, "proposal_id": _proposal_id(s, w)}
    ),
    "office.reject": lambda w, s: Call(
        {"request_id": w.concluded.id, "proposal_id": _proposal_id(s, w)}, data={"reason": "不同意"}
    ),
    "office.split": lambda w, s: Call({"request_id": w.registered.id}, data={"items": ""}),
    "office.merge": lambda w, s: Call({"request_id": w.registered.id}, data={"reason": "重复登记"}),
    "office.correct": lambda w, s: Call(
        {"request_id": w.concluded.id, "event_id": _decide_id(s, w)},
        data={"field": "payload:grounds", "new_text": "补充的理由", "reason": "漏写"},
    ),
    "admin.edit_agency": lambda w, s: Call(
        {"agency_id": w.child_agency.id}, data={"name": w.child_agency.name, "active": "1"}
    ),
    "attachments.download": lambda w, s: Call({"attachment_id": _attachment_id(s, w)}),
    "attachments.upload": lambda w, s: Call({"request_id": w.concluded.id}, data={"kind": "other"}),
    "supervision.page": lambda w, s: Call(query=SUPERVISION_QUERY),
    "supervision.export_xlsx": lambda w, s: Call(query=SUPERVISION_QUERY),
    "supervision.trends_page": lambda w, s: Call(query={"agency": "test-agency"}),
    "supervision.reports": lambda w, s: Call(query=STATS_QUERY),
    "supervision.consolidated_page": lambda w, s: Call(query=STATS_QUERY),
    "supervision.breakdown": lambda w, s: Call(
        query={**STATS_QUERY, "table": "3", "cell": "new_received.total"}
    ),
    "imports.cancel_job": lambda w, s: Call({"job_id": _job_id(s, w)}),
    "report_batch.job": lambda w, s: Call({"job_id": _batch_job_id(s, w)}),
    "report_batch.cancel": lambda w, s: Call({"job_id": _batch_job_id(s, w)}),
    "report_batch.download": lambda w, s: Call({"job_id": _batch_job_id(s, w)}),
}


def by_name(world: World, name: str) -> Any:
    values = {
        "request_id": world.concluded.id,
        "challenge_id": world.challenge.id,
        "user_id": world.target.id,
        "day": OVERRIDE_DAY.isoformat(),
    }
    if name not in values:
        raise LookupError(name)
    return values[name]


def call_for(rule: Rule, world: World, session: Session) -> Call:
    """The call of ``rule``, every URL parameter filled (or a clear failure)."""
    made = CALLS[rule.endpoint](world, session) if rule.endpoint in CALLS else Call()
    values = dict(made.values)
    for name in rule.arguments:
        if name not in values:
            try:
                values[name] = by_name(world, name)
            except LookupError:
                raise AssertionError(
                    f"add a URL value for <{name}> of {rule.endpoint} "
                    "(CALLS or by_name in tests/integration/routes.py)"
                ) from None
    return Call(values, made.query, made.data)


def rules(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule))


def methods_of(rule: Rule) -> list[str]:
    methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    unknown = set(methods) - set(METHODS)
    assert not unknown, f"{rule.endpoint}: teach the tests about {sorted(unknown)}"
    return methods


def url_of(app: Flask, rule: Rule, call: Call) -> str:
    adapter = app.url_map.bind("localhost")
    return adapter.build(rule.endpoint, {**call.values, **call.query})


def signed_in(app: Flask, session: Session, user: User) -> FlaskClient:
    """A client signed in as ``user`` without the (deliberately slow) password check."""
    from views.auth import SESSION_TOKEN

    client = app.test_client()
    token = secrets.token_urlsafe(16)
    session.add(
        LoginSession(token_hash=hashlib.sha256(token.encode()).hexdigest(), user_id=user.id)
    )
    session.commit()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(user.id)
        cookie["_fresh"] = True
        cookie[SESSION_TOKEN] = token
    return client


def client_for_role(
    app: Flask, session: Session, world: World, users: dict[str, User], role: str
) -> FlaskClient:
    if role == "anonymous":
        return app.test_client()
    return signed_in(app, session, world.outsider if role == "other" else users[role])


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (except sign-in bookkeeping), to prove nothing changed.

    The security log and the rate-limit counters are left out: a refusal is *meant* to
    be recorded there (tests/integration/test_trust_accounts.py checks that it is)."""
    from models import Base

    session.expire_all()
    found = {}
    for table in Base.metadata.sorted_tables:
        if table.name in ("login_sessions", "security_log", "rate_hits"):
            continue
        rows = session.execute(select(table)).all()
        found[table.name] = sorted(tuple(map(repr, r)) for r in rows)
    session.rollback()
    return found


def html_responses(
    app: Flask, session: Session, world: World, users: dict[str, User], roles: tuple[str, ...]
) -> Iterator[tuple[str, str, Any]]:
    """(role, url, response) for a GET of every GET route, as each of ``roles``."""
    for role in roles:
        client = client_for_role(app, session, world, users, role)
        for rule in rules(app):
            if "GET" not in methods_of(rule):
                continue
            url = url_of(app, rule, call_for(rule, world, session))
            yield role, url, client.get(url)
