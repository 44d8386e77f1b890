"""``report``: the annual report as PDF (tables as XLSX) from the terminal (docs/domain.md §11).

It prints what the web page downloads — the same draft, the same derivation, the same
renderer — so a script or a scheduled job can produce the year's report unattended.
"""

from __future__ import annotations

from pathlib import Path

import click

from commands.stats import YEAR, agency_by_code
from documents.fonts import pdf_font
from documents.report_pdf import render_report_pdf
from documents.report_xlsx import render_report_xlsx
from models.unit_of_work import unit_of_work
from workflow.annual_report.report import load_report
from workflow.catalog.outcomes import FORMATS
from workflow.kernel.errors import DomainError
from workflow.statistics.scope import Scope


def _write(path: Path, content: bytes) -> None:
    """Write a file or fail with a message an operator understands."""
    if path.is_dir():
        raise click.ClickException(f"输出路径是一个目录：{path}")
    if not path.parent.is_dir():
        raise click.ClickException(f"输出目录不存在：{path.parent}")
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise click.ClickException(f"无法写入文件 {path}：{exc.strerror or exc}") from exc


@click.command()
@click.option("--agency", "agency_code", required=True, help="机关代码")
@click.option("--year", required=True, type=YEAR, help="报告年度")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="PDF文件路径"
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="报表格式（默认按草稿或年度）")
@click.option("--with-subordinates", is_flag=True, help="含下级机关")
@click.option(
    "--xlsx",
    "xlsx_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="另存表二至表四为XLSX",
)
def report(
    agency_code: str,
    year: int,
    out: Path,
    fmt: str | None,
    with_subordinates: bool,
    xlsx_path: Path | None,
) -> None:
    """生成政府信息公开工作年度报告PDF（可另存表格XLSX）。"""
    try:
        with unit_of_work() as session:
            agency = agency_by_code(session, agency_code)
            data = load_report(session, Scope.of(agency, with_subordinates), year, fmt)
            font = pdf_font()
            pdf = render_report_pdf(data.report, font)
            xlsx = render_report_xlsx(data.report) if xlsx_path else None
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    _write(out, pdf)
    click.echo(f"已生成：{out}（{data.report.title}，{data.report.fmt}年格式，{len(pdf):,} 字节）")
    click.echo(f"字体：{font.description}")
    if xlsx_path is not None and xlsx is not None:
        _write(xlsx_path, xlsx)
        click.echo(f"已生成：{xlsx_path}")
    failed = [c for c in data.checks() if not c.ok]
    if failed:
        click.echo(f"注意：{len(failed)} 项勾稽关系检查未通过", err=True)
        for check in failed:
            click.echo(f"  ✗ {check.detail}", err=True)


COMMANDS = (report,)
