"""Setup commands: init, create-agency, create-user.

The rules (code and username formats, password length, duplicates) live in
``workflow.admin.operations``, shared with the admin pages; this module only reads arguments
and turns refusals into click errors.
"""

from __future__ import annotations

from collections.abc import Callable

import click

import settings
from models.db import database_url, make_engine
from models.migrate import upgrade
from models.unit_of_work import unit_of_work
from workflow.admin import operations as admin_ops
from workflow.catalog.roles import ROLE_BY_CODE, ROLE_CODES
from workflow.kernel.errors import ValidationError
from workflow.requests.clocks import refresh_open_clocks
from workflow.requests.search import fill_missing as fill_missing_search_text
from workflow.store.calendar import load_calendar


@click.command()
def init() -> None:
    """创建或升级数据库（执行迁移，可重复执行）。"""
    engine = make_engine()
    upgrade(engine)
    engine.dispose()
    # The stored reply deadlines follow the calendar, and an upgrade may have brought a
    # newer chinesecalendar package (a new year's arrangement): recompute the open ones.
    with unit_of_work(migrate=False) as session:
        moved = refresh_open_clocks(session, load_calendar(session))
        # Rows from before migration 0019 have no words yet (the segmenter is live code).
        words = fill_missing_search_text(session)
    if moved:
        click.echo(f"已按当前工作日历更新 {moved} 件在办申请的答复期限")
    if words:
        click.echo(f"已为 {words} 件申请建立全文检索词")
    click.echo(f"数据库已就绪：{database_url()}")


def _messages(err: ValidationError, hints: dict[str, str] | None = None) -> str:
    """Every field's message, each followed by its hint for the operator, if any."""
    hints = hints or {}
    parts = [m + hints.get(f, "") for f, m in err.field_errors.items()]
    return "；".join(parts) or str(err)


def _check_argument(check: Callable[[str], str], value: str, hint: str | None = None) -> None:
    """A malformed argument is a usage error (exit status 2), as click reports its own."""
    try:
        check(value)
    except ValidationError as err:
        raise click.BadParameter(_messages(err), param_hint=hint) from None


def _refusal(err: ValidationError) -> click.ClickException:
    """A refusal by the database's content (duplicate, unknown agency): exit status 1."""
    return click.ClickException(_messages(err, {"agency": "，请先 create-agency"}))


@click.command("create-agency")
@click.argument("code")
@click.argument("name")
@click.option("--parent", help="上级机关代码")
def create_agency(code: str, name: str, parent: str | None) -> None:
    """新增机关（代码：小写字母、数字、连字符）。"""
    _check_argument(admin_ops.validate_agency_code, code, "CODE")
    _check_argument(admin_ops.validate_agency_name, name, "NAME")
    try:
        with unit_of_work() as session:
            agency = admin_ops.create_agency(session, code, name, parent)
    except ValidationError as err:
        raise _refusal(err) from None
    click.echo(f"已创建机关 {agency.code}（{agency.name}）")


@click.command("create-user")
@click.argument("username")
@click.option("--agency", "agency_code", required=True, help="所属机关代码")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(ROLE_CODES),
    help="角色，可重复：" + "、".join(f"{r.code}={r.label}" for r in ROLE_BY_CODE.values()),
)
@click.option("--name", "display_name", help="显示姓名（默认同用户名）")
def create_user(
    username: str, agency_code: str, roles: tuple[str, ...], display_name: str | None
) -> None:
    """新增用户；密码取自环境变量 GONGKAI_PASSWORD，否则提示输入。"""
    _check_argument(admin_ops.validate_username, username)  # before the password prompt
    try:
        password = settings.password() or click.prompt(
            "密码", hide_input=True, confirmation_prompt=True
        )
        with unit_of_work() as session:
            admin_ops.create_user(session, username, display_name, agency_code, roles, password)
    except ValidationError as err:
        raise _refusal(err) from None
    click.echo(f"已创建用户 {username}（{agency_code}；{'、'.join(roles)}）")


COMMANDS = (init, create_agency, create_user)
