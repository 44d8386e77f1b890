"""Setup commands: init, create-agency, set-agency-remedies, create-user.

The rules (code and username formats, password length, duplicates) live in
``workflow.admin.operations``, shared with the admin pages; this module only reads arguments
and turns refusals into click errors.
"""

from __future__ import annotations

from collections.abc import Callable

import click

import settings
from models import Agency
from models.db import database_url, make_engine
from models.migrate import upgrade
from models.unit_of_work import unit_of_work
from workflow.admin import operations as admin_ops
from workflow.catalog.roles import ROLE_BY_CODE, ROLE_CODES
from workflow.challenges.due_dates import refresh_case_deadlines
from workflow.kernel.errors import NotFound, ValidationError
from workflow.requests.clocks import refresh_open_clocks, refresh_reply_days
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
    # The working days to reply follow the calendar too (and migration 0018 leaves them
    # for this to count).
    with unit_of_work(migrate=False) as session:
        calendar = load_calendar(session)
        refresh_reply_days(session, calendar)
        moved = refresh_open_clocks(session, calendar)
        # The agency's deadlines stored on its cases follow the calendar too (and
        # migration 0027 leaves them for this to fill).
        refresh_case_deadlines(session, calendar)
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
@click.option(
    "--reconsideration-body",
    help="行政复议机关全称（答复书载明；未设置不能出具答复书）",
)
@click.option("--court", help="管辖法院全称（答复书载明；未设置不能出具答复书）")
def create_agency(
    code: str,
    name: str,
    parent: str | None,
    reconsideration_body: str | None,
    court: str | None,
) -> None:
    """新增机关（代码：小写字母、数字、连字符）。"""
    _check_argument(admin_ops.validate_agency_code, code, "CODE")
    _check_argument(admin_ops.validate_agency_name, name, "NAME")
    try:
        with unit_of_work() as session:
            agency = admin_ops.create_agency(
                session,
                code,
                name,
                parent,
                reconsideration_body=reconsideration_body,
                court=court,
            )
            missing = _missing_remedies(agency)
    except ValidationError as err:
        raise _refusal(err) from None
    click.echo(f"已创建机关 {agency.code}（{agency.name}）")
    if missing:
        click.echo(missing)


def _missing_remedies(agency: Agency) -> str | None:
    """What the operator still has to set before the agency can issue a reply."""
    if agency.reconsideration_body and agency.court:
        return None
    proposal = admin_ops.propose_remedy_bodies(agency)
    return (
        "注意：尚未设置行政复议机关或管辖法院，该机关不能出具答复书。"
        f"建议的行政复议机关：{proposal.reconsideration_body}（{proposal.reason}）；"
        f"管辖法院：{proposal.court_hint}。"
        f"请执行 set-agency-remedies {agency.code} --reconsideration-body … --court …"
    )


@click.command("set-agency-remedies")
@click.argument("code")
@click.option("--reconsideration-body", help="行政复议机关全称")
@click.option("--court", help="管辖法院全称")
def set_agency_remedies(code: str, reconsideration_body: str | None, court: str | None) -> None:
    """设置或更改机关答复书载明的行政复议机关和管辖法院（《行政复议法》第二十四条、第二十七条）。"""
    raw = {"reconsideration_body": reconsideration_body or "", "court": court or ""}
    try:
        with unit_of_work() as session:
            agency = admin_ops.set_agency_remedies(session, code, raw, partial=True)
            missing = _missing_remedies(agency)
            body, court_name = agency.reconsideration_body, agency.court
            shown = f"行政复议机关：{body or '未设置'}；管辖法院：{court_name or '未设置'}"
    except ValidationError as err:
        raise _refusal(err) from None
    except NotFound as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"已更新机关 {code}：{shown}")
    if missing:
        click.echo(missing)


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


COMMANDS = (init, create_agency, set_agency_remedies, create_user)
