"""The office's work from the command line, with the same rules as the pages
(``workflow.requests.office_operations``): ``assign`` (分办, one or many), ``pending``
(待审核), ``propose-extension`` / ``propose-signoff`` (提请审核), ``approve`` / ``reject``
(审核), ``correct`` (更正), ``split`` (拆分), ``merge`` (合并) and ``set-decision-signoff``
(whether an agency's replies wait for sign-off)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

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


@click.command("propose-extension")
@click.argument("tracking_no")
@click.option("--days", type=int, default=20, show_default=True, help="延长工作日数")
@click.option("--reason", required=True, help="延期理由")
@click.option("--user", "username", required=True, help="承办人用户名")
def propose_extension(tracking_no: str, days: int, reason: str, username: str) -> None:
    """提请延期答复（《条例》第三十三条第二款），等待审核人批准。"""
    proposal_id = _propose(
        tracking_no, username, "extension", lambda session, req: {"days": days, "reason": reason}
    )
    click.echo(f"已提请延期（待审核事项 {proposal_id}）")


@click.command("propose-signoff")
@click.argument("tracking_no")
@click.option("--seq", type=int, required=True, help="答复（decide）记录的序号")
@click.option("--user", "username", required=True, help="承办人用户名")
def propose_signoff(tracking_no: str, seq: int, username: str) -> None:
    """提请审核人签发答复（机关规定答复须经签发时）。"""

    def target(session: Session, req: Request) -> dict[str, Any]:
        found = next((e for e in history(session, req) if e.seq == seq), None)
        if found is None:
            raise click.ClickException(f"申请 {tracking_no} 没有第{seq}条记录")
        return {"target_id": found.id}

    proposal_id = _propose(tracking_no, username, "decision", target)
    click.echo(f"已提请签发（待审核事项 {proposal_id}）")


def _propose(
    tracking_no: str,
    username: str,
    kind: str,
    raw_of: Callable[[Session, Request], dict[str, Any]],
) -> int:
    """One proposal (延期 or 签发) by ``username`` on their agency's request, committed."""
    with unit_of_work(migrate=False) as session:
        me = _user(session, username)
        req = _request(session, me.agency_id, tracking_no)
        raw = raw_of(session, req)
        now = datetime.now(UTC)
        event = _run(lambda: office_ops.propose(session, req, Actor.of(me), now, kind, raw))
        return event.id


@click.command("split")
@click.argument("tracking_no")
@click.option("--item", "items", multiple=True, required=True, help="一项所需信息（可重复）")
@click.option("--user", "username", required=True, help="以该用户的名义拆分")
def split(tracking_no: str, items: tuple[str, ...], username: str) -> None:
    """拆分申请：本申请继续办理第一项，其余各项登记为新的申请（与申请页面相同的规则）。"""
    with unit_of_work(migrate=False) as session:
        me = _user(session, username)
        req = _request(session, me.agency_id, tracking_no)
        now = datetime.now(UTC)
        made = _run(lambda: office_ops.split(session, req, Actor.of(me), now, list(items)))
        numbers = [r.tracking_no for r in made]
    click.echo(f"已拆分 {tracking_no}：新登记 " + "、".join(numbers))


@click.command("merge")
@click.argument("keep")
@click.argument("others", nargs=-1, required=True)
@click.option("--reason", required=True, help="合并理由")
@click.option("--user", "username", required=True, help="审核人用户名")
def merge(keep: str, others: tuple[str, ...], reason: str, username: str) -> None:
    """合并：把同一申请人重复登记的申请（OTHERS）并入 KEEP，其余各件以“已合并”作废。"""
    with unit_of_work(migrate=False) as session:
        me = _user(session, username)
        kept = _request(session, me.agency_id, keep)
        merged = [_request(session, me.agency_id, no) for no in dict.fromkeys(others)]
        now = datetime.now(UTC)
        _run(lambda: office_ops.merge(session, kept, merged, Actor.of(me), now, reason))
    click.echo(f"已将 {len(merged)} 件申请并入 {keep}")


COMMANDS = (
    assign,
    pending,
    propose_extension,
    propose_signoff,
    approve,
    reject,
    correct,
    split,
    merge,
    set_decision_signoff,
)
