"""``import-ledger`` and ``ledger-template``: an agency's Excel ledger in (docs/domain.md §11).

All or nothing: every bad row is printed as ``第N行 [column] reason`` and the exit
status is non-zero when anything was refused, in which case nothing is stored.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.session import unit_of_work
from models import User
from workflow.kernel.actor import local_today
from workflow.ledger.importer import (
    ActorForAgency,
    ImportReport,
    actor_named,
    default_actor,
    import_ledger,
)
from workflow.ledger.reader import (
    LEDGER_COLUMNS,
    LedgerColumn,
    LedgerFileError,
    LedgerRow,
    RawRow,
    RowError,
    read_ledger,
    validate_rows,
    write_template_csv,
)

F = TypeVar("F", bound=Callable[..., Any])

#: Below this many rows the import finishes before a progress bar would be any use.
PROGRESS_THRESHOLD = 50


def import_options(as_help: str) -> Callable[[F], F]:
    """``PATH [--dry-run] [--as USERNAME]``: the interface every ledger import shares.

    One definition keeps ``import-ledger`` and ``import-challenges`` alike (docs/domain.md §11);
    ``as_help`` says whom each replays as by default.
    """

    def decorate(command: F) -> F:
        command = click.option("--as", "username", metavar="USERNAME", help=as_help)(command)
        command = click.option("--dry-run", is_flag=True, help="只检查，不写入数据库")(command)
        path = click.Path(exists=True, dir_okay=False, path_type=Path)
        return click.argument("path", type=path)(command)

    return decorate


@click.command("import-ledger")
@import_options("以该用户身份办理（默认：每行所属机关的审核人）")
def import_ledger_command(path: Path, dry_run: bool, username: str | None) -> None:
    """导入申请台账（CSV 或 XLSX 第一个工作表）：全部成功才写入，逐行报告错误。"""
    now = datetime.now(UTC)
    raw = read_or_fail(path)
    rows, problems = validate_rows(raw, local_today(now))
    with unit_of_work() as session:
        actor_for = actor_option(session, username, default_actor)
        report = _run(session, rows, problems, len(raw), actor_for, now, dry_run)
        if not report.stored:
            session.rollback()  # already rolled back inside; explicit for the reader
    print_report(report)
    if not report.ok:
        sys.exit(1)


def read_or_fail(path: Path, columns: Sequence[LedgerColumn] = LEDGER_COLUMNS) -> list[RawRow]:
    """The file's rows, or the command stops with why the file as a whole is unusable."""
    try:
        return read_ledger(path, columns)
    except LedgerFileError as exc:
        raise click.ClickException(str(exc)) from exc


def actor_option(session: Session, username: str | None, default: ActorForAgency) -> ActorForAgency:
    """Who replays the rows: ``--as USERNAME`` if given (it must exist), else ``default``.

    An unknown user stops the command before any row is replayed, rather than refusing
    every row with the same message.
    """
    if not username:
        return default
    if session.scalar(select(User.id).where(User.username == username)) is None:
        raise click.ClickException(f"用户“{username}”不存在")
    return actor_named(username)


def _run(
    session: Session,
    rows: list[LedgerRow],
    problems: list[RowError],
    total: int,
    actor_for: ActorForAgency,
    now: datetime,
    dry_run: bool,
) -> ImportReport:
    """Import, with a progress bar on stderr (stdout stays clean for scripts) for big files."""
    if len(rows) < PROGRESS_THRESHOLD:
        return import_ledger(
            session, rows, actor_for, now, dry_run, prior_errors=problems, total_rows=total
        )
    with click.progressbar(length=len(rows), label="导入中", file=sys.stderr) as bar:
        shown = 0

        def advance(done: int, _total: int) -> None:
            nonlocal shown
            bar.update(done - shown)
            shown = done

        return import_ledger(
            session,
            rows,
            actor_for,
            now,
            dry_run,
            prior_errors=problems,
            total_rows=total,
            progress=advance,
        )


def print_report(report: ImportReport) -> None:
    """Errors to stderr with the refusal summary, or the one-line success to stdout."""
    if not report.ok:
        for error in report.errors:
            click.echo(str(error), err=True)
        click.echo(
            f"导入被拒绝：共 {report.rows} 行，其中 {len(report.refused_lines)} 行有误"
            f"（{len(report.errors)} 处问题）。未写入任何数据，请改正后重新导入。",
            err=True,
        )
        return
    states = report.state_summary()
    detail = f"（{states}）" if states else ""
    if report.dry_run:
        click.echo(f"检查通过，未写入：共 {report.rows} 行均可导入{detail}。")
    else:
        click.echo(f"已导入 {report.imported} 行{detail}。")


@click.command("ledger-template")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def ledger_template(path: Path) -> None:
    """写出申请台账模板（UTF-8 CSV，含表头和两行示例）。"""
    write_template_csv(path)
    click.echo(f"已写出台账模板：{path}")


COMMANDS = (import_ledger_command, ledger_template)
