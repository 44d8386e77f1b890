"""``create-token``: a JSON API token for a user, printed once (only its hash is kept)."""

from __future__ import annotations

import click

from models.unit_of_work import unit_of_work
from workflow.kernel.errors import ValidationError
from workflow.online.tokens import create_token


@click.command("create-token")
@click.argument("username")
@click.option("--label", default="", help="说明（如：12345热线对接）")
def create_token_command(username: str, label: str) -> None:
    """为用户生成 API 令牌（令牌只显示这一次，数据库只保存其哈希）。"""
    try:
        with unit_of_work() as session:
            issued = create_token(session, username, label)
            token = issued.token
    except ValidationError as err:
        raise click.ClickException("；".join(err.field_errors.values()) or str(err)) from None
    click.echo(token)
    click.echo(
        f"已为 {username} 生成 API 令牌（只显示这一次，请妥善保存）。"
        "调用时使用请求头：Authorization: Bearer <令牌>",
        err=True,
    )


COMMANDS = (create_token_command,)
