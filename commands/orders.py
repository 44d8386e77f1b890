"""``reopen-effective``: reopen requests whose order to reply again has taken effect;
``set-report-level``: an agency's Art. 49 level, which picks its report reminder.

Meant for a daily cron run: a first-instance judgment takes effect only once its appeal
period has passed without an appeal (workflow.order_effect), a day nobody records.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from sqlalchemy import select

from commands.session import unit_of_work
from models import Agency, User
from workflow.errors import DomainError
from workflow.operations import Actor
from workflow.order_effect import reopen_all_effective
from workflow.reminders import REPORT_LEVELS


@click.command("reopen-effective")
@click.option("--user", "username", required=True, help="以该法制员或审核人的名义重新办理")
def reopen_effective(username: str) -> None:
    """已生效的责令重新答复决定、判决：将相应申请转为重新办理。"""
    with unit_of_work(migrate=False) as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            raise click.ClickException(f"用户“{username}”不存在或已停用")
        try:
            reopened = reopen_all_effective(session, Actor.of(user), datetime.now(UTC))
        except DomainError as err:
            raise click.ClickException(str(err)) from None
        numbers = [r.tracking_no for r in reopened]
    click.echo(f"已重新办理 {len(numbers)} 件" + (f"：{'、'.join(numbers)}" if numbers else ""))


@click.command("set-report-level")
@click.argument("code")
@click.argument("level", type=click.Choice([*REPORT_LEVELS, "none"]))
def set_report_level(code: str, level: str) -> None:
    """设置机关的年度报告层级（department：1月31日前；government：3月31日前；《条例》第四十九条）。"""
    with unit_of_work(migrate=False) as session:
        agency = session.scalar(select(Agency).where(Agency.code == code))
        if agency is None:
            raise click.ClickException(f"机关“{code}”不存在")
        agency.report_level = None if level == "none" else level
    click.echo(f"已设置 {code} 的年度报告层级：{level}")


COMMANDS = [reopen_effective, set_report_level]
