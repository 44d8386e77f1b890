"""The command line: ``python app.py COMMAND``; ``DATABASE_URL`` selects the database.

Each command opens one session, calls operations and commits once, exactly like a view.
Every module listed in ``MODULES`` exports its click commands as ``COMMANDS``.
"""

from __future__ import annotations

import importlib
import sys

import click

MODULES = (
    "commands.admin",
    "commands.demo",
    "commands.stats",
    "commands.ledger",
    "commands.challenge_ledger",
    "commands.report",
    "commands.maintenance",
    "commands.orders",
    "commands.api",
    "commands.jobs",
    "commands.office",
    "commands.pii",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Gongkai 依申请公开办理系统 — 命令行工具。"""


for _name in MODULES:
    for _command in importlib.import_module(_name).COMMANDS:
        cli.add_command(_command)


def main() -> None:
    sys.exit(cli.main(prog_name="python app.py", standalone_mode=True))
