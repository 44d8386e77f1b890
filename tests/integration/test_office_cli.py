"""分办, 审核 and 更正 from the command line: the same rules as the pages."""

from __future__ import annotations

from sqlalchemy import select

from models import AgencyChange
from tests.conftest import NOW
from tests.integration.test_cli import cli
from workflow.kernel.actor import Actor
from workflow.requests import operations as ops

INTAKE = {
    "applicant_name": "钱七",
    "applicant_kind": "natural_person",
    "subject": "某小区规划许可证",
    "channel": "in_person",
    "submitted_on": "2026-11-02",
}


def test_assign_correct_and_approve_from_the_command_line(db_url, session, agency, users) -> None:
    req = ops.register(session, Actor.of(users["registrar"]), NOW, INTAKE, agency=agency)
    ops.fire(
        session, req, "accept", Actor.of(users["handler"]), NOW, {"effective_date": "2026-11-09"}
    )
    session.commit()
    no = req.tracking_no

    done = cli(db_url, "assign", no, "--to", "handler", "--user", "registrar")
    assert done.returncode == 0 and "已分办 1 件给 handler" in done.stdout
    refused = cli(db_url, "assign", no, "--to", "viewer", "--user", "registrar")
    assert refused.returncode != 0 and "承办人须为本机关" in refused.stderr

    proposed = cli(
        db_url,
        "correct",
        no,
        "--seq",
        "2",
        "--field",
        "effective_date",
        "--new",
        "2026-11-03",
        "--reason",
        "日期录错",
        "--user",
        "handler",
    )
    assert proposed.returncode == 0 and "已提请审核人批准更正" in proposed.stdout
    listed = cli(db_url, "pending", "--user", "approver")
    proposal_id = listed.stdout.split("\t")[0]
    assert no in listed.stdout and "correction" in listed.stdout
    own = cli(db_url, "approve", no, proposal_id, "--user", "approver")
    assert own.returncode == 0, own.stderr
    session.expire_all()
    triggers = [e.trigger for e in ops.history(session, req)]
    assert triggers[-2:] == ["approve", "correct"]
    assert cli(db_url, "pending", "--user", "approver").stdout == ""

    assert cli(db_url, "set-decision-signoff", agency.code, "on").returncode == 0
    session.expire_all()
    assert session.get(type(agency), agency.id).decision_signoff is True
    # Recorded like a change on the agency page (the same operation), with its author.
    off = cli(db_url, "set-decision-signoff", agency.code, "off", "--user", "admin")
    assert off.returncode == 0, off.stderr
    changes = session.scalars(select(AgencyChange).order_by(AgencyChange.id)).all()
    assert [(c.field, c.after, c.changed_by_id) for c in changes] == [
        ("decision_signoff", "须经审核人签发", None),
        ("decision_signoff", "不须签发", users["admin"].id),
    ]
