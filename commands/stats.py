"""``stats`` and ``stats-verify``: the annual tables from the terminal (docs/domain.md §11)."""

from __future__ import annotations

import json

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Agency
from models.unit_of_work import unit_of_work
from workflow.catalog.outcomes import FORMATS
from workflow.challenges.due_dates import stale_case_deadlines
from workflow.requests.search import index_problems, rebuild_index
from workflow.statistics.fold import render_text, stats_json
from workflow.statistics.month_counts import stale_counts
from workflow.statistics.queries import derive, verify, verify_projection, years_with_data
from workflow.statistics.scope import Scope
from workflow.store.calendar import load_calendar

YEAR = click.IntRange(2000, 2100)


def agency_by_code(session: Session, code: str) -> Agency:
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise click.ClickException(f"机关“{code}”不存在")
    return agency


@click.command()
@click.option("--agency", "agency_code", required=True, help="机关代码")
@click.option("--year", required=True, type=YEAR, help="统计年度")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="报表格式（默认按年度）")
@click.option("--with-subordinates", is_flag=True, help="含下级机关")
@click.option("--json", "as_json", is_flag=True, help="按 docs/domain.md §11 输出 JSON")
def stats(
    agency_code: str, year: int, fmt: str | None, with_subordinates: bool, as_json: bool
) -> None:
    """输出年度报告表三、表四及勾稽关系检查。"""
    with unit_of_work() as session:
        agency = agency_by_code(session, agency_code)
        result = derive(session, Scope.of(agency, with_subordinates), year, fmt)
        name = agency.name
    if as_json:
        data = stats_json(
            agency_code, year, result.fmt, result.table3, result.table4, result.checks
        )
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    title = f"{name} {year}年度 政府信息公开申请情况（{result.fmt}年格式）"
    click.echo(render_text(result.table3, result.fmt, result.table4, result.checks, title=title))


@click.command("stats-verify")
@click.option("--agency", "agency_code", help="机关代码（默认全部）")
@click.option("--year", type=YEAR, help="年度（默认有数据的全部年度）")
@click.option("--repair", is_flag=True, help="按事件日志重建不一致的统计投影")
def stats_verify(agency_code: str | None, year: int | None, repair: bool) -> None:
    """用事件日志重新计算统计（含全文检索词、案件期限、按月统计数），与快速统计逐格比对，并检查全文索引；不一致时返回非零。"""
    problems = 0
    verb = "已重建" if repair else "与事件日志不一致"
    with unit_of_work() as session:
        agencies = (
            [agency_by_code(session, agency_code)]
            if agency_code
            else list(session.scalars(select(Agency).order_by(Agency.code)))
        )
        for agency in agencies:
            scope = Scope.of(agency)
            stale = verify_projection(session, scope, repair=repair)
            if stale:
                click.echo(f"{agency.code}: {len(stale)} 件申请的统计投影{verb}")
                problems += 0 if repair else len(stale)
            cases = stale_case_deadlines(
                session, load_calendar(session), [agency.id], repair=repair
            )
            if cases:
                click.echo(f"{agency.code}: {len(cases)} 件复议诉讼案件的本机关期限{verb}")
                problems += 0 if repair else len(cases)
            years = [year] if year else years_with_data(session, scope)
            for y, diff in verify(session, scope, years).items():
                problems += len(diff)
                for d in diff:
                    click.echo(f"{agency.code} {y} {d.cell}: 日志={d.fold} 快速={d.fast}")
            click.echo(f"{agency.code}: 已核对 {len(years)} 个年度")
        # The month counts against the projection rows (repaired above, if asked).
        months = stale_counts(session, repair=repair)
        if months:
            state = "已按统计投影重建" if repair else "与统计投影不一致"
            click.echo(f"工作台的按月统计数 {len(months)} 处{state}")
            codes = {a.id: a.code for a in session.scalars(select(Agency))}
            for (agency_id, month, outcome), kept, counted in months[:5]:
                what = f"办结（{outcome}）" if outcome else "收到"
                where = f"{codes.get(agency_id, agency_id)} {month:%Y-%m} {what}"
                click.echo(f"  {where}：记为 {kept}，应为 {counted}")
            problems += 0 if repair else len(months)
        # The word index against the stored words (which verify_projection checked).
        found = index_problems(session)
        if found and repair:
            rebuild_index(session)
            click.echo("全文索引已按检索词重建")
        else:
            for problem in found:
                click.echo(problem.what)
            problems += len(found)
    if problems:
        raise click.ClickException(f"发现 {problems} 处不一致")
    click.echo("统计一致：事件日志与快速统计完全相同")


COMMANDS = (stats, stats_verify)
