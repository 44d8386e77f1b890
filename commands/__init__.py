"""The command line: ``python app.py COMMAND``; ``DATABASE_URL`` selects the database.

Each command opens one session, calls operations and commits once, exactly like a view.
"""

from __future__ import annotations

import sys

import click

from commands.admin import create_agency, create_user, init
from commands.demo import demo, serve
from commands.ledger import import_ledger_command, ledger_template
from commands.stats import stats, stats_verify


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Gongkai 依申请公开办理系统 — 命令行工具。"""


for command in (
    init,
    demo,
    serve,
    create_agency,
    create_user,
    stats,
    stats_verify,
    import_ledger_command,
    ledger_template,
):
    cli.add_command(command)


def main() -> None:
    sys.exit(cli.main(prog_name="python app.py", standalone_mode=True))
