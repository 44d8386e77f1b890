"""``import-challenges``: the 复议/诉讼 ledger from a file (``workflow.challenges.ledger``).

All or nothing, every bad row printed as ``第N行 [column] reason``, non-zero exit when
anything was refused, ``--dry-run`` stores nothing — as ``import-ledger`` does.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from commands.ledger import (
    actor_option,
    import_options,
    print_report,
    rows_or_fail,
    user_option,
)
from models.unit_of_work import unit_of_work
from workflow.challenges.ledger import (
    CHALLENGE_COLUMNS,
    SYSTEM_RECORDER,
    default_legal_actor,
    import_challenges,
    validate_challenge_rows,
)
from workflow.kernel.actor import local_today
from workflow.ledger.importer import ImportSource


@click.command("import-challenges")
@import_options("以该用户身份登记（须为所属机关的法制员；默认：记录为系统导入 import-challenges）")
def import_challenges_command(path: Path, dry_run: bool, username: str | None) -> None:
    """导入复议诉讼台账（CSV 或 XLSX 第一个工作表）：全部成功才写入，逐行报告错误。"""
    now = datetime.now(UTC)
    raw = rows_or_fail(path, path.name, CHALLENGE_COLUMNS)
    rows, problems = validate_challenge_rows(raw, local_today(now))
    with unit_of_work() as session:
        actor_for = actor_option(session, username, default_legal_actor)
        source = ImportSource.of_file(
            SYSTEM_RECORDER, path.name, path, user_option(session, username)
        )
        report = import_challenges(
            session,
            rows,
            actor_for,
            now,
            dry_run,
            prior_errors=problems,
            total_rows=len(raw),
            provenance=source.provenance(),
        )
        if not report.stored:
            session.rollback()  # already rolled back inside; explicit for the reader
    for warning in report.warnings:
        click.echo(str(warning))
    print_report(report)
    if report.ok and report.reopened:
        verb = "将" if report.dry_run else "已"
        click.echo(f"其中 {report.reopened} 件申请因责令重新答复{verb}转为重新办理。")
    if not report.ok:
        sys.exit(1)


COMMANDS: tuple[click.Command, ...] = (import_challenges_command,)
