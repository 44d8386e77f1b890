"""The office's work from the command line, with the same rules as the pages
(``workflow.requests.office_operations``): ``assign`` (分办, one or many), ``pending``
(待审核), ``approve`` / ``reject`` (审核), ``correct`` (更正) and
``set-decision-signoff`` (whether an agency's replies wait for sign-off)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Agency, Event, Request, User
from models.unit_of_work import unit_of_work
from workflow.admin import agencies as agency_ops
from workflow.kernel.actor import LOCAL_ZONE, Actor
from workflow.kernel.errors import DomainError, GuardError
from workflow.requests import office_operations as office_ops
from workflow.requests.office import needs_approver
from workflow.requests.operations import history

T = TypeVar("T")


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise click.ClickException(f"用户“{username}”不存在或已停用")
    return user


def _request(session: Session, agency_id: int, tracking_no: str) -> Request:
    found = session.scalar(
        select(Request).where(Request.agency_id == agency_id, Request.tracking_no == tracking_no)
    )
    if found is None:
        raise click.ClickException(f"本机关没有编号为 {tracking_no} 的申请")
    return found


def _run(operation: Callable[[], T]) -> T:
    """A refusal of the domain is printed as it is, in Chinese (nothing is saved)."""
    try:
        return operation()
    except GuardError as err:
        raise click.ClickException("；".join(err.reasons)) from None
    except DomainError as err:
        raise click.ClickException(str(err)) from None


@click.command("assign")
@click.argument("tracking_nos", nargs=-1, required=True)
@click.option("--to", "handler", required=True, help="承办人用户名；none 表示取消分办")
@click.option("--user", "username", required=True, help="以该用户的名义分办")
def assign(tracking_nos: tuple[str, ...], handler: str, username: str) -> None:
    """分办：将本机关的一件或多件申请分配给承办人（每件记录一条分办记录）。"""
    with unit_of_work(migrate=False) as session:
        me = _user(session, username)
        target = None if handler == "none" else _user(session, handler).id
        ids = [_request(session, me.agency_id, no).id for no in tracking_nos]
        now = datetime.now(UTC)
        events = _run(lambda: office_ops.assign_many(session, ids, Actor.of(me), now, target))
    click.echo(f"已分办 {len(events)} 件给 {handler}")


@click.command("pending")
@click.option("--user", "username", required=True, help="审核人用户名")
def pending(username: str) -> None:
    """列出本机关待审核的事项（提请延期、签发、更正）。"""
    with unit_of_work(migrate=False) as session:
        me = _user(session, username)
        for req, event in office_ops.pending_for(session, me.agency_id):
            kind = event.payload.get("kind")
            by = event.actor.username if event.actor else ""
            when = event.recorded_at.replace(tzinfo=UTC).astimezone(LOCAL_ZONE)
            when = f"{when:%Y-%m-%d %H:%M}"
            click.echo(f"{event.id}\t{req.tracking_no}\t{kind}\t{by}\t{when}")


def _proposal(session: Session, me: User, tracking_no: str, proposal_id: int) -> Request:
    req = _request(session, me.agency_id, tracking_no)
    if session.get(Event, proposal_id) is None:
        raise click.ClickException(f"没有编号为 {proposal_id} 的待审核事项")
    return req


@click.command("approve")
@click.argument("tracking_no")
@click.argument("proposal_id", type=int)
@click.option("--user", "username", required=True, help="审核人用户名（本人批准）")
@click.option("--date", "effective", default="", help="批准日期（延期），默认今天")
@click.option("--note", default="", help="审核意见")
def approve(tracking_no: str, proposal_id: int, username: str, effective: str, note: str) -> None:
    """审核同意一项提请（见 pending）。"""
    with unit_of_work(migrate=False) as session:
        me = _user(session, username)
        req = _proposal(session, me, tracking_no, proposal_id)
        raw = {"effective_date": effective, "note": note}
        now = datetime.now(UTC)
        _run(lambda: office_ops.approve(session, req, Actor.of(me), now, proposal_id, raw))
    click.echo(f"已审核同意（{tracking_no}）")


@click.command("reject")
@click.argument("tracking_no")
@click.argument("proposal_id", type=int)
@click.option("--user", "username", required=True, help="审核人用户名")
@click.option("--reason", required=True, help="退回理由")
def reject(tracking_no: str, proposal_id: int, username: str, reason: str) -> None:
    """审核退回一项提请。"""
    with unit_of_work(migrate=False) as session:
        me = _user(session, username)
        req = _proposal(session, me, tracking_no, proposal_id)
        now = datetime.now(UTC)
        _run(lambda: office_ops.reject(session, req, Actor.of(me), now, proposal_id, reason))
    click.echo(f"已退回（{tracking_no}）")


@click.command("correct")
@click.argument("tracking_no")
@click.option("--seq", type=int, required=True, help="要更正的办理记录序号")
@click.option(
    "--field",
    required=True,
    help="effective_date（法律日期）、outcome（处理结果）、served_on（送达日期）或 payload:字段名",
)
@click.option("--new", "value", required=True, help="更正后的值")
@click.option("--reason", required=True, help="更正理由")
@click.option("--user", "username", required=True, help="以该用户的名义更正或提请")
@click.option("--confirm-published", is_flag=True, help="确认更正将改变已发布年度的统计")
def correct(
    tracking_no: str,
    seq: int,
    field: str,
    value: str,
    reason: str,
    username: str,
    confirm_published: bool,
) -> None:
    """更正一条办理记录（日期、处理结果须审核人本人，其他人则提请审核）。"""
    with unit_of_work(migrate=False) as session:
        me = _user(session, username)
        req = _request(session, me.agency_id, tracking_no)
        target = next((e for e in history(session, req) if e.seq == seq), None)
        if target is None:
            raise click.ClickException(f"申请 {tracking_no} 没有第{seq}条记录")
        raw = {
            "target_id": target.id,
            "field": field,
            "new": value,
            "reason": reason,
            "confirm_published": "1" if confirm_published else "",
        }
        now = datetime.now(UTC)
        direct = not needs_approver(field) or "approver" in me.roles
        if direct:
            _run(lambda: office_ops.correct(session, req, Actor.of(me), now, raw))
        else:
            _run(lambda: office_ops.propose(session, req, Actor.of(me), now, "correction", raw))
    click.echo("已记录更正" if direct else "已提请审核人批准更正")


@click.command("set-decision-signoff")
@click.argument("code")
@click.argument("value", type=click.Choice(["on", "off"]))
@click.option("--user", "username", default="", help="以该管理员的名义（记入机关变更记录）")
@click.option("--reason", default="", help="变更说明")
def set_decision_signoff(code: str, value: str, username: str, reason: str) -> None:
    """设置机关的答复是否须经审核签发后才能出具答复书（与机关管理页相同，记入变更记录）。"""
    with unit_of_work(migrate=False) as session:
        agency = session.scalar(select(Agency).where(Agency.code == code))
        if agency is None:
            raise click.ClickException(f"机关“{code}”不存在")
        me = _user(session, username) if username else None
        _run(
            lambda: agency_ops.set_decision_signoff(
                session, agency, value == "on", by=me, now=datetime.now(UTC), reason=reason
            )
        )
    click.echo(f"已设置 {code} 的答复签发：{value}")


COMMANDS = (assign, pending, approve, reject, correct, set_decision_signoff)
