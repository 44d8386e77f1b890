"""分办, 审核 and 更正 from the command line: the same rules as the pages."""

from __future__ import annotations

from sqlalchemy import select

from models import AgencyChange, Request
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


def test_propose_split_and_merge_from_the_command_line(db_url, session, agency, users) -> None:
    """The CLI has the pages' 提请延期, 拆分 and 合并, with their refusals in Chinese."""
    req = ops.register(session, Actor.of(users["registrar"]), NOW, INTAKE, agency=agency)
    twin = ops.register(session, Actor.of(users["registrar"]), NOW, INTAKE, agency=agency)
    ops.fire(
        session, req, "accept", Actor.of(users["handler"]), NOW, {"effective_date": "2026-11-03"}
    )
    session.commit()
    no, twin_no = req.tracking_no, twin.tracking_no

    proposed = cli(db_url, "propose-extension", no, "--reason", "需调取档案", "--user", "handler")
    assert proposed.returncode == 0 and "已提请延期" in proposed.stdout, proposed.stderr
    again = cli(db_url, "propose-extension", no, "--reason", "再次", "--user", "handler")
    assert again.returncode != 0 and "已有待审核的延期申请" in again.stderr
    assert "extension" in cli(db_url, "pending", "--user", "approver").stdout
    wrong = cli(db_url, "propose-signoff", no, "--seq", "1", "--user", "handler")
    assert wrong.returncode != 0 and "只有答复需要签发" in wrong.stderr

    one = cli(db_url, "split", no, "--item", "只有一项", "--user", "handler")
    assert one.returncode != 0 and "拆分至少需要两项" in one.stderr
    split = cli(db_url, "split", no, "--item", "甲项", "--item", "乙项", "--user", "handler")
    assert split.returncode == 0 and "已拆分" in split.stdout, split.stderr
    session.expire_all()
    child = session.scalar(select(Request).where(Request.subject == "乙项"))
    assert child is not None and child.received_on == req.received_on

    refused = cli(db_url, "merge", no, twin_no, "--reason", "重复登记", "--user", "handler")
    assert refused.returncode != 0 and "审核人" in refused.stderr
    merged = cli(db_url, "merge", no, twin_no, "--reason", "重复登记", "--user", "approver")
    assert merged.returncode == 0 and "已将 1 件申请并入" in merged.stdout, merged.stderr
    session.expire_all()
    assert session.get(Request, twin.id).state == "voided"
