"""``reopen-effective``: reopen requests whose order to reply again has taken effect;
``set-report-level``: an agency's Art. 49 level, which picks its report reminder;
``send-reminders`` / ``set-user-email``: e-mail reminders before each due date.

Meant for a daily cron run: a first-instance judgment takes effect only once its appeal
period has passed without an appeal (workflow.challenges.order_effect), a day nobody records.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from sqlalchemy import select

import settings
from models import Agency, User
from models.unit_of_work import unit_of_work
from workflow.challenges.order_effect import reopen_all_effective
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.errors import DomainError
from workflow.requests.reminder_mail import SmtpSettings, send_reminders
from workflow.requests.reminders import REPORT_LEVELS
from workflow.store.calendar import load_calendar


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


@click.command("send-reminders")
@click.option("--days", default=3, show_default=True, help="提前的工作日数")
def send_reminders_command(days: int) -> None:
    """按配置的SMTP服务器，向承办人发送期限提醒邮件（在期限前N个工作日）。"""
    server = SmtpSettings.from_env(settings.smtp())
    if server is None:
        raise click.ClickException("未配置 GONGKAI_SMTP_HOST，不发送提醒邮件")
    with unit_of_work(migrate=False) as session:
        today = local_today(datetime.now(UTC))
        sent = send_reminders(session, server, today, load_calendar(session), days)
    click.echo(f"已发送提醒邮件 {sent} 封")


@click.command("set-user-email")
@click.argument("username")
@click.argument("email")
def set_user_email(username: str, email: str) -> None:
    """设置用户接收期限提醒的电子邮箱（填 none 清除）。"""
    if email != "none" and ("@" not in email or len(email) > 254):
        raise click.BadParameter("电子邮箱格式不正确", param_hint="EMAIL")
    with unit_of_work(migrate=False) as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"用户“{username}”不存在")
        user.email = None if email == "none" else email
    click.echo(f"已设置 {username} 的提醒邮箱")


COMMANDS = [reopen_effective, set_report_level, send_reminders_command, set_user_email]
