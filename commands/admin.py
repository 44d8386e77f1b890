"""Setup commands: init, create-agency, create-user."""

from __future__ import annotations

import os
import re

import click
from sqlalchemy import select

from commands.session import unit_of_work
from models import Agency, User
from models.db import database_url, make_engine
from models.migrate import upgrade
from workflow.catalog.roles import ROLE_BY_CODE, ROLE_CODES

AGENCY_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
MIN_PASSWORD = 8


@click.command()
def init() -> None:
    """创建或升级数据库（执行迁移，可重复执行）。"""
    engine = make_engine()
    upgrade(engine)
    engine.dispose()
    click.echo(f"数据库已就绪：{database_url()}")


@click.command("create-agency")
@click.argument("code")
@click.argument("name")
@click.option("--parent", help="上级机关代码")
def create_agency(code: str, name: str, parent: str | None) -> None:
    """新增机关（代码：小写字母、数字、连字符）。"""
    if not AGENCY_CODE.match(code):
        raise click.BadParameter("机关代码只能包含小写字母、数字和连字符", param_hint="CODE")
    if not name.strip() or len(name) > 200:
        raise click.BadParameter("机关名称不能为空且不超过200字", param_hint="NAME")
    with unit_of_work() as session:
        if session.scalar(select(Agency).where(Agency.code == code)):
            raise click.ClickException(f"机关代码“{code}”已存在")
        parent_row = None
        if parent:
            parent_row = session.scalar(select(Agency).where(Agency.code == parent))
            if parent_row is None:
                raise click.ClickException(f"上级机关“{parent}”不存在")
        session.add(Agency(code=code, name=name.strip(), parent=parent_row))
    click.echo(f"已创建机关 {code}（{name.strip()}）")


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
    if not USERNAME.match(username):
        raise click.BadParameter("用户名为2–64位字母、数字、下划线、点或连字符")
    password = os.environ.get("GONGKAI_PASSWORD") or click.prompt(
        "密码", hide_input=True, confirmation_prompt=True
    )
    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"密码至少{MIN_PASSWORD}位")
    with unit_of_work() as session:
        agency = session.scalar(select(Agency).where(Agency.code == agency_code))
        if agency is None:
            raise click.ClickException(f"机关“{agency_code}”不存在，请先 create-agency")
        if session.scalar(select(User).where(User.username == username)):
            raise click.ClickException(f"用户名“{username}”已存在")
        user = User(username=username, display_name=display_name or username, agency=agency)
        user.set_password(password)
        user.set_roles(set(roles))
        session.add(user)
    click.echo(f"已创建用户 {username}（{agency_code}；{'、'.join(roles)}）")


COMMANDS = (init, create_agency, create_user)
