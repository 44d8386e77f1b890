"""``demo`` (load the demo data) and ``serve`` (the development server of ``make run``)."""

from __future__ import annotations

import click

from models.unit_of_work import unit_of_work
from workflow.admin.demo import DEMO_PASSWORD, DEMO_USERS, safe_load
from workflow.catalog.roles import ROLE_BY_CODE


@click.command()
def demo() -> None:
    """加载演示数据：南昌经开区2019年参考数据和本年度约150件申请（演示账号仅用于演示）。"""
    from settings import production_mode

    if production_mode():
        # The demo accounts share a published password: they must never reach production.
        raise click.ClickException("演示数据只能在演示模式下加载（当前 GONGKAI_ENV=production）")
    with unit_of_work() as session:
        loaded, message = safe_load(session)
    click.echo(message)
    click.echo(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    for username, (display, roles) in DEMO_USERS.items():
        labels = "、".join(ROLE_BY_CODE[r].label for r in roles)
        click.echo(f"  {username:<10} {display}（{labels}）")
    if not loaded:
        click.echo("（演示数据此前已加载）")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """启动开发服务器（生产环境请用 gunicorn，见 README）。"""
    from app import create_app

    click.echo(f"Gongkai 已启动：http://{host}:{port}/")
    create_app().run(host=host, port=port, debug=False)


COMMANDS = (demo, serve)
