"""``import-ledger``, ``ledger-template`` and ``export-ledger``: an agency's Excel ledger in
(docs/domain.md §11) and out (the full 台账, docs/domain.md §16).

All or nothing: every bad row is printed as ``第N行 [column] reason`` and the exit
status is non-zero when anything was refused, in which case nothing is stored.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from documents.ledger_xlsx import ledger_xlsx
from models import Agency, User
from models.unit_of_work import unit_of_work
from workflow.kernel.actor import local_today
from workflow.ledger import export
from workflow.ledger.importer import (
    ActorForAgency,
    ImportReport,
    ImportSource,
    actor_named,
    import_ledger_file,
)
from workflow.ledger.reader import (
    LEDGER_COLUMNS,
    LedgerColumn,
    LedgerData,
    LedgerFileError,
    RawRow,
    read_ledger_bytes,
    template_csv_bytes,
    template_xlsx_bytes,
)
from workflow.requests.query import ListFilter, filtered, ordered
from workflow.store.calendar import load_calendar

F = TypeVar("F", bound=Callable[..., Any])

#: Below this many rows the import finishes before a progress bar would be any use.
PROGRESS_THRESHOLD = 50
#: Replay processes for a big file: one per core of the 2-core servers it runs on.
REPLAY_WORKERS = min(2, os.cpu_count() or 1)


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
@import_options("记录为该用户导入（默认：记录为系统导入 import-ledger）")
def import_ledger_command(path: Path, dry_run: bool, username: str | None) -> None:
    """导入申请台账（CSV 或 XLSX 第一个工作表）：全部成功才写入，逐行报告错误。"""
    now = datetime.now(UTC)
    with unit_of_work() as session:
        bar = ProgressBar()  # the import runs its own transactions: this session only reads
        try:
            # The path, not its bytes: the file is streamed, never held whole.
            source = ImportSource.of_file(
                "import-ledger", path.name, path, user_option(session, username)
            )
            report = import_ledger_file(
                session.get_bind(),  # type: ignore[arg-type]
                path,
                source,
                now,
                dry_run,
                progress=bar,
                workers=REPLAY_WORKERS,
            )
        except LedgerFileError as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            bar.close()
    print_report(report)
    if not report.ok:
        sys.exit(1)


class ProgressBar:
    """The progress bar on stderr (stdout stays clean for scripts), shown once the import
    knows the file has at least :data:`PROGRESS_THRESHOLD` rows."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if total < PROGRESS_THRESHOLD:
                return
            self.bar = click.progressbar(length=total, label="导入中", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def rows_or_fail(
    data: LedgerData, name: str, columns: Sequence[LedgerColumn] = LEDGER_COLUMNS
) -> list[RawRow]:
    """The file's rows, or the command stops with why the file as a whole is unusable."""
    try:
        return read_ledger_bytes(data, name, columns)
    except LedgerFileError as exc:
        raise click.ClickException(str(exc)) from exc


def user_option(session: Session, username: str | None) -> User | None:
    """The ``--as`` user, or None; an unknown one stops the command before any row."""
    if not username:
        return None
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"用户“{username}”不存在")
    return user


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
    """写出申请台账模板（.xlsx 或 UTF-8 CSV，表头含中文列名和代码，两行示例）。"""
    path.write_bytes(
        template_xlsx_bytes() if path.suffix.lower() == ".xlsx" else template_csv_bytes()
    )
    click.echo(f"已写出台账模板：{path}")


@click.command("export-ledger")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--agency", "code", required=True, help="机关代码")
@click.option("--year", type=click.IntRange(2000, 2100), help="收到年度（默认：全部）")
@click.option("--subs", is_flag=True, help="含下级机关")
def export_ledger_command(path: Path, code: str, year: int | None, subs: bool) -> None:
    """导出申请台账（XLSX）：前几列即导入格式，可直接用 import-ledger 导入；其后为办理记录各列。"""
    if path.exists():
        raise click.ClickException(f"文件已存在：{path}")
    with unit_of_work(migrate=False) as session:
        agency = session.scalar(select(Agency).where(Agency.code == code))
        if agency is None:
            raise click.ClickException(f"机关代码“{code}”不存在")
        ids = [a.id for a in agency.descendants()] if subs else [agency.id]
        flt = ListFilter(year=year, sort="received_asc")
        today = local_today(datetime.now(UTC))
        stmt = ordered(filtered(session, ids, flt, load_calendar(session), today), flt)
        found = list(session.scalars(stmt))
        path.write_bytes(ledger_xlsx(export.header(), export.export_rows(session, found)))
    click.echo(f"已导出 {len(found)} 件申请到 {path}")


COMMANDS = (import_ledger_command, ledger_template, export_ledger_command)
